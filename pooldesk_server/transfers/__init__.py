"""Hand-over of a device to another account (docs/sharing.md)."""

"""Firmware releases and over-the-air updates of the controllers (docs/updates.md)."""

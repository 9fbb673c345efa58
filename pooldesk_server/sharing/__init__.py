"""Household shares, installer set-up codes and set-up grants (docs/sharing.md)."""

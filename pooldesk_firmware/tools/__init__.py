"""Factory and build tools for the firmware (run on a PC, not on the device)."""

"""Host simulator: runs the unchanged `firmware/device/` code under CPython (`pooldesk-sim`)."""

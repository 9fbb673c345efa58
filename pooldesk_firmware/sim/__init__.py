"""Host simulator: runs the unchanged `pooldesk_firmware/device/` code under CPython
(`pooldesk-sim`)."""

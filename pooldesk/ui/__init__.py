"""The Qt layer: views lay out widgets, controllers connect them to `pooldesk.core`."""

"""The controller's alerts in the app's words. The firmware raises alerts under fixed ids
(`ALERT_IDS` in pooldesk_firmware/device/fw_controller.py, topic `alert/<id>`, docs/mqtt.md);
a known id is worded from its code (`failure_texts.TEXTS`), whatever English the controller
wrote. Any other id shows the controller's own message.

`freeze` is known too, but its one value, the water temperature, exists only inside the English
message (the contract's alert payload has no field for it), so its message stays on the template
path (`ui/core_messages.py`).
"""

from __future__ import annotations

from pooldesk.core.failures import Code, Message, failure

ALERT_CODES = {
    "sensor-water": Code.ALERT_WATER_SENSOR,
    "clock": Code.ALERT_NO_NETWORK_TIME,
}


def alert_message(alert_id: str, message: str) -> Message:
    """What to show for the alert: its code's text for a known id, else the controller's words."""
    code = ALERT_CODES.get(alert_id)
    return failure(code) if code is not None else message

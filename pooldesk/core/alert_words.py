"""The controller's alerts in the app's words. The firmware raises alerts under fixed ids
(`ALERT_IDS` in pooldesk_firmware/device/fw_controller.py, topic `alert/<id>`, docs/mqtt.md);
a known id is worded from its code (`failure_texts.TEXTS`), whatever English the controller
wrote. Any other id shows the controller's own message, as it wrote it.

`freeze` carries the water temperature that raised it as a number (`water_c`); a controller
whose alert has none (older firmware) is shown in its own words: the app never reads a value
out of the English message.
"""

from __future__ import annotations

from pooldesk.core.failures import Code, Message, failure

ALERT_CODES = {
    "sensor-water": Code.ALERT_WATER_SENSOR,
    "clock": Code.ALERT_NO_NETWORK_TIME,
}
FREEZE = "freeze"


def alert_message(alert_id: str, message: str, water_c: float | None = None) -> Message:
    """What to show for the alert: its code's text for a known id, else the controller's words."""
    if alert_id == FREEZE:
        return message if water_c is None else failure(Code.ALERT_FREEZE, water=water_c)
    code = ALERT_CODES.get(alert_id)
    return failure(code) if code is not None else message

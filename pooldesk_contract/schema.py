"""The MQTT payload schemas (`mqtt.schema.json`, package data), one per device topic.

Loaded with the standard library only; validating needs a JSON Schema validator (the tests use
`jsonschema`). `topic_schema` returns a schema for one topic that resolves the shared `$defs`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def mqtt_schema() -> dict[str, Any]:
    text = files("pooldesk_contract").joinpath("mqtt.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def topic_schema(name: str) -> dict[str, Any]:
    """The schema of the payload on the device topic `name` (`pump/state`, `alert/+`, ...)."""
    whole = mqtt_schema()
    return {"$schema": whole["$schema"], "$defs": whole["$defs"], **whole["topics"][name]}

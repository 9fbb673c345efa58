"""The wire contract of PoolDesk, in one place: what the app, the backend, the simulator and the
tests agree on (docs/mqtt.md, docs/api.md, docs/provisioning.md).

Standard library only, and no imports from `pooldesk`, `pooldesk_server` or `pooldesk_firmware`:
every side may import it. The MicroPython firmware keeps its own literals; a test
(`tests/firmware/test_contract_literals.py`) proves they match this package.

Naming convention: field names are camelCase on HTTP (the JSON bodies of the backend's API,
`deviceId`, `topicPrefix`) and snake_case on MQTT and BLE (`cmd_id`, `water_c`, `device_id`),
because the firmware and the provisioning protocol were written for small JSON on a small device.

- `topics`: topic prefixes and the device topics, with who publishes each and whether retained.
- `ids`: device-id forms (`ESP-A1B2C3` printed, `esp-a1b2c3` in topics) and conversion.
- `claimcode`: claim codes, one generator and one normalisation for app and backend.
- `accounts`: username, email and password field rules.
- `refusals`: the backend's refusal reasons (the error body's `reason`).
- `rejections`: a controller's codes for refusing a command (`command_rejected`'s `code`, `field`).
- `passwords`: the password policy and the list of well-known passwords (`common_passwords.txt`).
- `mqtt.schema.json`: the MQTT payloads as JSON Schema (`schema.mqtt_schema()` loads it).
"""

"""MQTT broker layer: topic rights, broker back ends behind one interface (`base.BrokerBackend`),
and the backend extension that issues and revokes logins (`extension`). See docs/mqtt.md."""

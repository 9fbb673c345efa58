"""Device history from MQTT: a least-privilege broker login that stores what devices report."""

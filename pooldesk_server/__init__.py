"""PoolDesk server: accounts, devices, telemetry and broker logins, run headless."""

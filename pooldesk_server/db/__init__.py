"""Database layer: engine and sessions, models, migrations."""

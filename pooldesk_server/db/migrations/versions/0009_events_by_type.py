"""Events by device and type: the device list finds each unit's last boot event (its running
firmware) among its few `event` rows instead of walking its whole history.

Revision ID: 0009_events_by_type
Revises: 0008_transfers
Create Date: 2026-12-06
"""

from alembic import op

revision = "0009_events_by_type"
down_revision = "0008_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_device_type_ts", "events", ["device_pk", "type", "ts", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_device_type_ts", table_name="events")

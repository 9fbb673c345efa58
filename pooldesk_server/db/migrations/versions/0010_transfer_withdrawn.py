"""Hand-over: when the broker acknowledged the withdrawal of a cancelled transfer's binding. A
device heard on its old prefix after that kept its old login; heard only after the cancel, it
may still have taken the binding (docs/sharing.md, "Hand-over").

Revision ID: 0010_transfer_withdrawn
Revises: 0009_events_by_type
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_transfer_withdrawn"
down_revision = "0009_events_by_type"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("withdrawn_at")

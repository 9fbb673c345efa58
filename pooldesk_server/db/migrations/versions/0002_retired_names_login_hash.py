"""Retired usernames (a deleted account's name cannot be registered again) and the broker
password hash of an MQTT login (so `broker sync` can restore logins the broker lost).

Revision ID: 0002_retired_names_login_hash
Revises: 0001_initial
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_retired_names_login_hash"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retired_usernames",
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_retired_usernames"),
    )
    with op.batch_alter_table("mqtt_logins") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mqtt_logins") as batch:
        batch.drop_column("password_hash")
    op.drop_table("retired_usernames")

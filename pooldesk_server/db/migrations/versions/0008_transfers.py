"""Device hand-over between accounts (docs/sharing.md, "Hand-over").

Chained after 0006 on the `transfer` branch; the lead re-chains it after 0007_sharing at merge.

Revision ID: 0008_transfers
Revises: 0007_sharing
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_transfers"
down_revision = "0007_sharing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("device_pk", sa.String(36), nullable=False),
        sa.Column("from_user_id", sa.String(36), nullable=False),
        sa.Column("to_user_id", sa.String(36), nullable=False),
        sa.Column("history", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("new_login", sa.String(128), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name="fk_transfers_device_pk_devices", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"],
            ["users.id"],
            name="fk_transfers_from_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name="fk_transfers_to_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
    )
    for column in ("device_pk", "from_user_id", "to_user_id", "status"):
        op.create_index(f"ix_transfers_{column}", "transfers", [column])


def downgrade() -> None:
    for column in ("device_pk", "from_user_id", "to_user_id", "status"):
        op.drop_index(f"ix_transfers_{column}", table_name="transfers")
    op.drop_table("transfers")

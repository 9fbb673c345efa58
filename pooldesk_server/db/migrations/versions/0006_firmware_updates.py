"""Firmware releases and over-the-air updates (docs/updates.md).

Revision ID: 0006_firmware_updates
Revises: 0005_operator
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_firmware_updates"
down_revision = "0005_operator"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "firmware_releases",
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("bundle", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_firmware_releases"),
    )
    op.create_table(
        "firmware_updates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("device_pk", sa.String(36), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"],
            ["devices.id"],
            name="fk_firmware_updates_device_pk_devices",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_firmware_updates"),
    )
    op.create_index("ix_firmware_updates_device_pk", "firmware_updates", ["device_pk"])
    op.create_index("ix_firmware_updates_state", "firmware_updates", ["state"])


def downgrade() -> None:
    op.drop_index("ix_firmware_updates_state", table_name="firmware_updates")
    op.drop_index("ix_firmware_updates_device_pk", table_name="firmware_updates")
    op.drop_table("firmware_updates")
    op.drop_table("firmware_releases")

"""Household shares, installer set-up codes and set-up grants (docs/sharing.md).

Revision ID: 0007_sharing
Revises: 0006_firmware_updates
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sharing"
down_revision = "0006_firmware_updates"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("device_pk", sa.String(36), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        _fk("shares", "owner_id", "users"),
        _fk("shares", "member_id", "users"),
        _fk("shares", "device_pk", "devices"),
        sa.PrimaryKeyConstraint("id", name="pk_shares"),
    )
    op.create_index("ix_shares_owner_id", "shares", ["owner_id"])
    op.create_index("ix_shares_device_pk", "shares", ["device_pk"])
    op.create_index("ix_shares_member_id_status", "shares", ["member_id", "status"])
    op.create_table(
        "setup_codes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        _fk("setup_codes", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_setup_codes"),
        sa.UniqueConstraint("code_hash", name="uq_setup_codes_code_hash"),
    )
    op.create_index("ix_setup_codes_user_id", "setup_codes", ["user_id"])
    op.create_table(
        "setup_grants",
        sa.Column("device_pk", sa.String(36), nullable=False),
        sa.Column("installer_id", sa.String(36), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        _fk("setup_grants", "device_pk", "devices"),
        _fk("setup_grants", "installer_id", "users"),
        sa.PrimaryKeyConstraint("device_pk", "installer_id", name="pk_setup_grants"),
    )


def downgrade() -> None:
    op.drop_table("setup_grants")
    op.drop_index("ix_setup_codes_user_id", table_name="setup_codes")
    op.drop_table("setup_codes")
    op.drop_index("ix_shares_member_id_status", table_name="shares")
    op.drop_index("ix_shares_device_pk", table_name="shares")
    op.drop_index("ix_shares_owner_id", table_name="shares")
    op.drop_table("shares")

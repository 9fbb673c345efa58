"""Abuse and sign-in: addresses that signed in to an account before (they get through its
account-wide lock), the successor of a spent refresh token (for the refresh grace window), and
emails no longer unique (registration must not tell whether an email is in use).

Revision ID: 0003_abuse_and_sign_in
Revises: 0002_retired_names_login_hash
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_abuse_and_sign_in"
down_revision = "0002_retired_names_login_hash"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_addresses",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("last_success_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_known_addresses_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "address_hash", name="pk_known_addresses"),
    )
    op.create_index("ix_known_addresses_last_success_at", "known_addresses", ["last_success_at"])
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("successor_id", sa.String(36), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_email", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.create_unique_constraint("uq_users_email", ["email"])
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("successor_id")
    op.drop_index("ix_known_addresses_last_success_at", table_name="known_addresses")
    op.drop_table("known_addresses")

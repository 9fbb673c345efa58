"""Operator commands: a user can be disabled (`users disable`), and operator requests the running
servers carry out at the broker (ending a disabled user's or revoked sessions' MQTT logins).

Revision ID: 0005_operator
Revises: 0004_broker_jobs
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_operator"
down_revision = "0004_broker_jobs"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))
    op.create_table(
        "operator_requests",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_operator_requests"),
    )
    op.create_index("ix_operator_requests_done_at", "operator_requests", ["done_at"])


def downgrade() -> None:
    op.drop_index("ix_operator_requests_done_at", "operator_requests")
    op.drop_table("operator_requests")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")

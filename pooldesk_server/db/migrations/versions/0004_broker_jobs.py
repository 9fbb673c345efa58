"""Broker jobs: broker work (clearing retained messages) owed after a committed change, retried
until it succeeds.

Revision ID: 0004_broker_jobs
Revises: 0003_abuse_and_sign_in
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_broker_jobs"
down_revision = "0003_abuse_and_sign_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_broker_jobs"),
    )
    op.create_index("ix_broker_jobs_next_attempt_at", "broker_jobs", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_broker_jobs_next_attempt_at", table_name="broker_jobs")
    op.drop_table("broker_jobs")

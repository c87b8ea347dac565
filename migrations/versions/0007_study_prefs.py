"""Study science: per-member preferences (time zone, new cards a day, desired retention, fitted
FSRS weights, interview date) and a ``cram`` mark on review_log for answers that moved no
schedule.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_prefs",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), primary_key=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("day_start_hour", sa.Integer(), nullable=False),
        sa.Column("new_per_day", sa.Integer(), nullable=True),
        sa.Column("desired_retention", sa.Float(), nullable=True),
        sa.Column("fsrs_params", sa.Text(), nullable=True),
        sa.Column("fit_report", sa.Text(), nullable=True),
        sa.Column("fitted_at", UTCDateTime(), nullable=True),
        sa.Column("autofit_every", sa.Integer(), nullable=False),
        sa.Column("interview_date", sa.Date(), nullable=True),
        sa.Column("target_recall", sa.Float(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=False),
        sa.Column("leech_threshold", sa.Integer(), nullable=False),
        sa.Column("extra_new_day", sa.Date(), nullable=True),
        sa.Column("extra_new", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    # Existing rows are ordinary reviews. Adding a column is DDL: the append-only trigger, which
    # refuses UPDATEs of rows, does not fire.
    op.add_column(
        "review_log",
        sa.Column("cram", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # Cram rows never moved a card; without the mark they would pass for real reviews.
    op.execute("DELETE FROM review_log WHERE cram")
    # A plain DROP COLUMN (SQLite >= 3.35), not a batch copy: copying the table would lose its
    # append-only trigger.
    op.drop_column("review_log", "cram")
    op.drop_table("user_prefs")

"""Initial schema: users, per-user card state, append-only review log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_user_username", "user", ["username"], unique=True)

    op.create_table(
        "card_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("question_id", sa.String(80), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("last_review", UTCDateTime(), nullable=True),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("buried_until", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("user_id", "question_id"),
    )
    op.create_index("ix_card_state_user_id", "card_state", ["user_id"])
    op.create_index("ix_card_state_question_id", "card_state", ["question_id"])
    op.create_index("ix_card_state_due", "card_state", ["due"])

    op.create_table(
        "review_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("question_id", sa.String(80), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("card_before", sa.Text(), nullable=True),
        sa.Column("due_after", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_review_log_user_id", "review_log", ["user_id"])
    op.create_index("ix_review_log_question_id", "review_log", ["question_id"])
    op.create_index("ix_review_log_reviewed_at", "review_log", ["reviewed_at"])

    # The review log is history: rows may be added (a grade) or removed (undo of the latest
    # grade), never rewritten.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER review_log_append_only BEFORE UPDATE ON review_log "
            "BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END"
        )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION review_log_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'review_log is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER review_log_append_only BEFORE UPDATE ON review_log "
            "FOR EACH ROW EXECUTE FUNCTION review_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS review_log_append_only ON review_log")
        op.execute("DROP FUNCTION IF EXISTS review_log_append_only()")
    op.drop_table("review_log")
    op.drop_table("card_state")
    op.drop_index("ix_user_username", table_name="user")
    op.drop_table("user")

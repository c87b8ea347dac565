"""A partial index for "cards first seen today": only the reviews that introduced a card.

GET /api/next counts the user's new cards since their day began. With (user_id, reviewed_at)
alone that read every review made today to check card_before and cram, so a busy day slowed
every request (15,500 reviews in a day: ~185 req/s). This index holds one entry per card ever
introduced (at most the bank's size per user), whatever the history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written as SQLAlchemy renders the query's own terms (``cram = 0`` on SQLite), so that each
# planner sees the query's WHERE imply the index's.
SQLITE_WHERE = "card_before IS NULL AND cram = 0"
POSTGRESQL_WHERE = "card_before IS NULL AND cram = false"


def upgrade() -> None:
    op.create_index(
        "ix_review_log_user_new",
        "review_log",
        ["user_id", "reviewed_at"],
        sqlite_where=sa.text(SQLITE_WHERE),
        postgresql_where=sa.text(POSTGRESQL_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_review_log_user_new", table_name="review_log")

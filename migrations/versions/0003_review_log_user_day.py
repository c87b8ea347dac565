"""Index review_log on (user_id, reviewed_at): "cards first seen today" and the stats read one
user's recent reviews on every request; with only user_id indexed they scanned the whole history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_review_log_user_reviewed", "review_log", ["user_id", "reviewed_at"])


def downgrade() -> None:
    op.drop_index("ix_review_log_user_reviewed", table_name="review_log")

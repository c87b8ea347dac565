"""Server-side sessions: logging out ends a session on the server.

The cookie used to be a signed (user id, session version) that stayed valid for 30 days after
logout. Now it names a row of ``user_session`` (by the SHA-256 of a random token); logout deletes
the row, "log out everywhere" and a password change delete all the user's rows. The
``session_version`` column that did part of this job goes. Everybody logs in once more.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_index("ix_user_session_token_hash", "user_session", ["token_hash"], unique=True)
    op.create_index("ix_user_session_expires_at", "user_session", ["expires_at"])
    # SQLite 3.35+ drops a column in place (a batch rebuild of "user" would trip the foreign keys
    # that point at it).
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE "user" DROP COLUMN session_version')
    else:
        op.drop_column("user", "session_version")


def downgrade() -> None:
    op.add_column(
        "user",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_index("ix_user_session_expires_at", table_name="user_session")
    op.drop_index("ix_user_session_token_hash", table_name="user_session")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")

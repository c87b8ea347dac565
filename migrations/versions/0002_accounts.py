"""Accounts for study groups: session versions, leaderboard opt-out, invites, login throttle,
run-time app settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as b:
        b.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(
            sa.Column("show_on_leaderboard", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_invite_code", "invite", ["code"], unique=True)
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_login_attempt_username", "login_attempt", ["username"])
    op.create_index("ix_login_attempt_at", "login_attempt", ["at"])
    op.create_table(
        "app_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_setting")
    op.drop_index("ix_login_attempt_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_username", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index("ix_invite_code", table_name="invite")
    op.drop_table("invite")
    with op.batch_alter_table("user") as b:
        b.drop_column("show_on_leaderboard")
        b.drop_column("session_version")

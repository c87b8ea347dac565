"""SQLModel tables. Every progress row carries a ``user_id``: the single local user in the default
mode, one row per member in study-group mode."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC as a naive timestamp and hands back an aware UTC datetime.

    SQLite drops tzinfo, and fsrs refuses naive datetimes, so the conversion lives here, once,
    for every column and every backend.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class User(SQLModel, table=True):
    # One canonical form (accounts.canonical_username), so "Zed" and "zed" cannot both exist; the
    # database refuses any other (migration 0004: a CHECK on PostgreSQL, triggers on SQLite).
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    password_hash: str | None = Field(default=None, max_length=255)
    is_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    show_on_leaderboard: bool = True


class UserSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored. Logging
    out deletes the row, so a copied cookie dies with it (migration 0005)."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Invite(SQLModel, table=True):
    """A registration code an admin hands out; usable ``max_uses`` times."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    max_uses: int = 1
    uses: int = 0
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked: bool = False


class LoginAttempt(SQLModel, table=True):
    """Login attempts (recorded before the password is checked; a right password removes its
    own), kept in the database so every worker sees the same throttle."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, max_length=64)
    ip: str = Field(max_length=64, index=True)  # the per-address limit counts by it
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class AppSetting(SQLModel, table=True):
    """Switches an admin flips at run time (e.g. the group leaderboard)."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)


class CardState(SQLModel, table=True):
    """One user's FSRS state for one question, keyed by the question's stable YAML id."""

    __tablename__ = "card_state"
    __table_args__ = (sa.UniqueConstraint("user_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    question_id: str = Field(max_length=80, index=True)
    # fsrs.State: 1 learning, 2 review, 3 relearning. "New" = no row yet.
    state: int
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime = Field(sa_type=UTCDateTime, index=True)
    last_review: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reps: int = 0
    lapses: int = 0
    # Set while the card is held out of the queue (bury: until a time; suspend: until undone).
    suspended: bool = False
    buried_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReviewLog(SQLModel, table=True):
    """Append-only: one row per grade. The database refuses UPDATEs on this table."""

    __tablename__ = "review_log"
    # One user's reviews in a time range (today's new cards, stats): see migration 0003.
    __table_args__ = (sa.Index("ix_review_log_user_reviewed", "user_id", "reviewed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    question_id: str = Field(max_length=80, index=True)
    rating: int  # fsrs.Rating: 1 Again, 2 Hard, 3 Good, 4 Easy
    reviewed_at: datetime = Field(sa_type=UTCDateTime, index=True)
    duration_ms: int | None = None
    # The card as it was before this review (JSON, or null for a new card): makes undo exact.
    card_before: str | None = Field(default=None, sa_type=sa.Text)
    due_after: datetime = Field(sa_type=UTCDateTime)

"""SQLModel tables. Every progress row carries a ``user_id``: the single local user in the default
mode, one row per member in study-group mode."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

log = logging.getLogger("transformer_quiz")


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

    def result_processor(self, dialect, coltype):
        """On SQLite, the stored text straight to an aware datetime: SQLAlchemy's parse and then
        ``replace(tzinfo=...)`` cost ~3 µs a value, a millisecond for a year of cards (three
        stamps a card); ``fromisoformat`` of the text with its offset appended, ~0.5 µs. Any
        text that does not parse so takes the general path, as before."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            if self.impl_instance.result_processor(dialect, coltype) is not None:
                return general
            # The driver hands back a naive datetime (psycopg): give it UTC by combine, ~4x
            # cheaper than datetime.replace(tzinfo=...), same value.
            combine = datetime.combine

            def aware(value):
                return None if value is None else combine(value, value.time(), UTC)

            return aware
        if general is None:
            return None
        fromiso = datetime.fromisoformat

        def process(value):
            if value is None:
                return None
            try:
                return fromiso(value + "+00:00")
            except (TypeError, ValueError):
                return general(value)

        return process


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


class CardVersion(SQLModel, table=True):
    """How many times a user's cards changed: bumped by triggers on card_state (migration 0009;
    a table made without them would be trusted wrongly, so only the migrations make it). Workers
    cache a user's cards under it (app/services.py, ``cards_by_question``). No foreign key: the
    row outlives its user, so a version is never handed out twice."""

    __tablename__ = "card_version"

    user_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = Field(sa_type=sa.BigInteger)


# ---- what a stored card may hold ----------------------------------------------------------------
# FSRS's own invariants (fsrs.scheduler: stability >= STABILITY_MIN = 0.001, difficulty in [1, 10],
# a Learning or Relearning card has a step, a Review card none, Review and Relearning need both
# stability and difficulty), plus sane bounds for what this app stores. One definition serves the
# import (which refuses a file that breaks them) and every read (which reports a row that breaks
# them instead of letting it take a page down).
STABILITY_MIN = 0.001
STABILITY_MAX = 100_000.0  # days; FSRS caps intervals at 36,500
DIFFICULTY_MIN, DIFFICULTY_MAX = 1.0, 10.0
MAX_STEP = 100
MAX_COUNT = 1_000_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
CARD_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


def _is_int(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_float(v: Any, lo: float, hi: float) -> bool:
    return (
        isinstance(v, int | float)
        and not isinstance(v, bool)
        and math.isfinite(v)
        and lo <= v <= hi
    )


def _is_stamp(v: Any) -> bool:
    return isinstance(v, datetime) and v.tzinfo is not None and EARLIEST <= v <= LATEST


def card_problems(c: dict[str, Any]) -> list[str]:
    """What is wrong with one card's scheduling fields (empty: FSRS can use it)."""
    p = []
    state, step, reps = c.get("state"), c.get("step"), c.get("reps")
    stability, difficulty, last_review = (
        c.get("stability"),
        c.get("difficulty"),
        c.get("last_review"),
    )
    if not _is_int(state, 1, 3):
        p.append("state must be 1 (learning), 2 (review) or 3 (relearning)")
    if step is not None and not _is_int(step, 0, MAX_STEP):
        p.append(f"step must be 0 to {MAX_STEP} or null")
    if stability is not None and not _is_float(stability, STABILITY_MIN, STABILITY_MAX):
        p.append(f"stability must be a number from {STABILITY_MIN} to {STABILITY_MAX:g} or null")
    if difficulty is not None and not _is_float(difficulty, DIFFICULTY_MIN, DIFFICULTY_MAX):
        p.append(f"difficulty must be a number from {DIFFICULTY_MIN:g} to {DIFFICULTY_MAX:g}")
    if not _is_int(reps, 0, MAX_COUNT):
        p.append(f"reps must be 0 to {MAX_COUNT}")
    if not _is_int(c.get("lapses"), 0, reps if _is_int(reps, 0, MAX_COUNT) else MAX_COUNT):
        p.append("lapses must be 0 to reps")
    for name in ("due", "last_review"):
        v = c.get(name)
        if (v is not None or name == "due") and not _is_stamp(v):
            p.append(f"{name} must be a UTC time between {EARLIEST:%Y} and {LATEST:%Y}")
    if p:
        return p
    if (stability is None) != (difficulty is None):
        p.append("stability and difficulty are both set or both null")
    if state == 2 and step is not None:
        p.append("a review card (state 2) has no step")
    if state in (1, 3) and step is None:
        p.append("a learning or relearning card (state 1 or 3) needs a step")
    reviewed = reps > 0
    if reviewed != (stability is not None) or reviewed != (last_review is not None):
        p.append(
            "a reviewed card (reps > 0) has stability, difficulty and last_review; a new one none"
        )
    return p


@event.listens_for(CardState, "load")
def _serve_corrupt_cards_safely(row: CardState, _context: Any) -> None:
    """A row that breaks the invariants (written before the import checked them, or by hand)
    is reported and served as a card in its first learning step, so FSRS treats the next grade
    as a first review and writes a valid card back. In memory only: nothing is written unless
    the card is graded. ``reps`` stays as stored, the guard of the grade's optimistic update."""
    fields = {k: getattr(row, k) for k in CARD_FIELDS}
    problems = card_problems(fields)
    if not problems:
        return
    log.warning(
        "card_state %s (user %s, %s) is corrupt and is served as a new card: %s",
        row.id,
        row.user_id,
        row.question_id,
        "; ".join(problems),
    )
    safe = {"state": 1, "step": 0, "stability": None, "difficulty": None, "last_review": None}
    if not _is_stamp(row.due):
        safe["due"] = EARLIEST
    if not _is_int(row.lapses, 0, MAX_COUNT):
        safe["lapses"] = 0
    for key, value in safe.items():
        set_committed_value(row, key, value)


class CardBefore(TypeDecorator):
    """``review_log.card_before``: the card as JSON. Read back only if it is a card FSRS can use
    (undo restores it, the stats read its state); anything else reads as null and is reported."""

    impl = sa.Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None or parse_card_json(value) is not None:
            return value
        log.warning("review_log.card_before is not a valid card; read as null: %.80r", value)
        return None


def parse_card_json(text: str) -> dict[str, Any] | None:
    """A ``card_before`` JSON text as a dict of card fields (times as aware datetimes), or None
    if it is not exactly a valid card."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) != set(CARD_FIELDS):
        return None
    for name in ("due", "last_review"):
        if isinstance(data[name], str):
            try:
                data[name] = datetime.fromisoformat(data[name])
            except ValueError:
                return None
    return None if card_problems(data) else data


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


class ReviewLog(SQLModel, table=True):
    """Append-only: one row per grade. The database refuses UPDATEs on this table."""

    __tablename__ = "review_log"
    # One user's reviews in a time range (stats): migration 0003. The reviews that introduced a
    # card, for "new cards today" at any history size: migration 0008 (a partial index; its
    # PostgreSQL WHERE is declared by app.db.make_engine for a PostgreSQL URL, since naming a
    # dialect's option imports that dialect, ~20 ms of every worker's start on SQLite).
    __table_args__ = (
        sa.Index("ix_review_log_user_reviewed", "user_id", "reviewed_at"),
        sa.Index(
            "ix_review_log_user_new",
            "user_id",
            "reviewed_at",
            sqlite_where=sa.text("card_before IS NULL AND cram = 0"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    question_id: str = Field(max_length=80, index=True)
    rating: int  # fsrs.Rating: 1 Again, 2 Hard, 3 Good, 4 Easy
    reviewed_at: datetime = Field(sa_type=UTCDateTime, index=True)
    duration_ms: int | None = None
    # The card as it was before this review (JSON, or null for a new card): makes undo exact.
    card_before: str | None = Field(default=None, sa_type=CardBefore)
    due_after: datetime = Field(sa_type=UTCDateTime)
    # A cram answer (migration 0007): kept, but it moved no schedule and is never fitted on.
    cram: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class DrillAttempt(SQLModel, table=True):
    """One run of a learner's code on a drill (or giving up on it). The card it schedules is
    ``drill:<drill_id>`` in card_state/review_log, beside the question cards."""

    __tablename__ = "drill_attempt"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    drill_id: str = Field(max_length=80, index=True)
    code: str = Field(sa_type=sa.Text)
    # passed | failed | error | timeout | crashed | refused | gave_up
    verdict: str = Field(max_length=16)
    passed_cases: int = 0
    total_cases: int = 0
    hints_used: int = 0
    elapsed_ms: int = 0
    # The grade this attempt gave the drill's card (1 Again, 2 Hard, 3 Good), or None (practice).
    rating: int | None = None
    # Per-case results, error and output as JSON, so any web worker can show the run again.
    details: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class UserPrefs(SQLModel, table=True):
    """One member's study settings (migration 0007); a missing row or a None means the server's
    default (TQ_NEW_PER_DAY, TQ_DESIRED_RETENTION). Read and written by app/study/prefs.py."""

    __tablename__ = "user_prefs"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    timezone: str = Field(default="UTC", max_length=64)  # IANA name: where the day begins
    day_start_hour: int = 0  # local hour at which "today" rolls over
    new_per_day: int | None = None
    desired_retention: float | None = None
    fsrs_params: str | None = Field(default=None, sa_type=sa.Text)  # JSON list of 21 weights
    fit_report: str | None = Field(default=None, sa_type=sa.Text)  # JSON: the last fit's numbers
    fitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    autofit_every: int = 0  # re-fit after this many new reviews; 0: never by itself
    interview_date: date | None = None
    target_recall: float = 0.9
    daily_limit: int = 60  # cards a day the interview plan may ask for
    leech_threshold: int = 8
    extra_new_day: date | None = None  # "study N more new cards today", for that local day
    extra_new: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def declare_postgresql_options() -> None:
    """The PostgreSQL-only parts of the schema (they import the dialect): migration 0008's
    partial-index WHERE. Idempotent."""
    (index,) = (i for i in ReviewLog.__table__.indexes if i.name == "ix_review_log_user_new")
    index.dialect_options["postgresql"]["where"] = sa.text("card_before IS NULL AND cram = false")

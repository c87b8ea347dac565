"""Study logic between the web layer and storage: the queue, grading, progress.

Routes stay thin: they parse input, call one function here, and render what it returns.
"""

from __future__ import annotations

import bisect
import json
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from app.bank.loader import Bank
from app.bank.models import Question
from app.db import write_turn
from app.models import (
    DIFFICULTY_MAX,
    DIFFICULTY_MIN,
    EARLIEST,
    LATEST,
    MAX_COUNT,
    MAX_STEP,
    STABILITY_MAX,
    STABILITY_MIN,
    CardState,
    CardVersion,
    ReviewLog,
    User,
)
from app.srs import CardSnapshot, Grade, Srs

LOCAL_USERNAME = "local"


class NotFound(LookupError):
    """The object does not exist for this user (also used for other users' objects: 404, not 403)."""


def ensure_local_user(session: Session) -> User:
    user = session.exec(select(User).where(User.username == LOCAL_USERNAME)).first()
    if user is None:
        user = User(username=LOCAL_USERNAME, is_admin=True)
        session.add(user)
        try:
            session.commit()
        except IntegrityError:  # another worker created it first
            session.rollback()
            user = session.exec(select(User).where(User.username == LOCAL_USERNAME)).one()
    return user


def snapshot(row: AnyCard | None) -> CardSnapshot | None:
    if row is None:
        return None
    return CardSnapshot(
        state=row.state,
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
    )


def _snapshot_json(s: CardSnapshot | None, row: AnyCard | None) -> str | None:
    if s is None or row is None:
        return None
    return json.dumps(
        {
            "state": s.state,
            "step": s.step,
            "stability": s.stability,
            "difficulty": s.difficulty,
            "due": s.due.isoformat(),
            "last_review": s.last_review.isoformat() if s.last_review else None,
            "reps": row.reps,
            "lapses": row.lapses,
        }
    )


@dataclass(frozen=True, slots=True)
class CardRow:
    """One card_state row as plain values: what the queue, the counters and the pages read of a
    card (the same attribute names as CardState). Frozen: a worker's card cache hands the same
    rows to every request of the user."""

    id: int
    user_id: int
    question_id: str
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool
    buried_until: datetime | None


_CARD_COLUMNS = tuple(f.name for f in dataclass_fields(CardRow))
_T = CardState.__table__
# A Core statement built once: the ORM spent ~60 µs a row building instances (and their load
# events) for a read that only needs values, and a year's history makes every question a row.
_CARDS_OF_USER = sa_select(*(_T.c[n] for n in _CARD_COLUMNS)).where(
    _T.c.user_id == bindparam("user_id")
)


# What the read-only helpers below take: a row the ORM loaded, or its plain-values view.
AnyCard = CardState | CardRow


def _stamp_ok(v: object) -> bool:
    return type(v) is datetime and v.tzinfo is not None and EARLIEST <= v <= LATEST


def plainly_valid(
    state: object,
    step: object,
    stability: object,
    difficulty: object,
    due: object,
    last_review: object,
    reps: object,
    lapses: object,
) -> bool:
    """True only for a card ``models.card_problems`` finds nothing wrong with, in the shapes FSRS
    writes; a few comparisons where card_problems builds a dict and a list per row. A row this
    refuses is loaded through the ORM, whose load event reports and repairs a corrupt one."""
    if not (type(reps) is int and type(lapses) is int and 0 <= lapses <= reps <= MAX_COUNT):
        return False
    if not _stamp_ok(due) or type(state) is not int:
        return False
    if state == 2:
        if step is not None:
            return False
    elif state in (1, 3):
        if not (type(step) is int and 0 <= step <= MAX_STEP):
            return False
    else:
        return False
    if reps == 0:
        return stability is None and difficulty is None and last_review is None
    return (
        type(stability) is float
        and STABILITY_MIN <= stability <= STABILITY_MAX  # NaN fails both comparisons
        and type(difficulty) is float
        and DIFFICULTY_MIN <= difficulty <= DIFFICULTY_MAX
        and _stamp_ok(last_review)
    )


class CardMap(dict[str, CardRow]):
    """A user's cards by question (or drill card) id, read-only: one instance is shared by every
    request of the user until their cards change. ``by_due``: the seen cards that are not
    suspended, soonest due first (the queue's candidates; a bury is checked when used)."""

    __slots__ = ("version", "by_due", "_dues")

    def __init__(self, rows: Iterable[CardRow], version: int | None = None) -> None:
        super().__init__((r.question_id, r) for r in rows)
        self.version = version
        self.by_due = tuple(
            sorted((r.due, r.question_id) for r in self.values() if r.reps and not r.suspended)
        )
        self._dues = [d for d, _ in self.by_due]

    def due_prefix(self, now: datetime) -> tuple[tuple[datetime, str], ...]:
        """The ``by_due`` entries due at ``now``."""
        return self.by_due[: bisect.bisect_right(self._dues, now)]

    def _refuse(self, *_a: object, **_k: object) -> None:
        raise TypeError("a CardMap is shared between requests: copy it (dict(cards)) to change it")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]


CARD_VERSION = _V = CardVersion.__table__
_VERSION_OF = sa_select(
    sa_select(_V.c.version).where(_V.c.user_id == bindparam("user_id")).scalar_subquery()
)
# PostgreSQL: and whether this transaction has written (then its version may yet roll back).
_VERSION_OF_PG = sa_select(
    sa_select(_V.c.version).where(_V.c.user_id == bindparam("user_id")).scalar_subquery(),
    func.txid_current_if_assigned(),
)
CARD_CACHE_USERS = 512


class _CardCache:
    """One engine's (database's) users' cards in this worker, least recently used out."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.maps: OrderedDict[int, CardMap] = OrderedDict()

    def get(self, user_id: int, version: int) -> CardMap | None:
        with self.lock:
            got = self.maps.get(user_id)
            if got is None or got.version != version:
                return None
            self.maps.move_to_end(user_id)
            return got

    def put(self, user_id: int, cards: CardMap) -> None:
        with self.lock:
            old = self.maps.get(user_id)
            # A slower reader must not put back an older version than one already there.
            if old is None or (old.version or 0) <= (cards.version or 0):
                self.maps[user_id] = cards
                self.maps.move_to_end(user_id)
            while len(self.maps) > CARD_CACHE_USERS:
                self.maps.popitem(last=False)


_CARD_CACHES: weakref.WeakKeyDictionary[Engine, _CardCache] = weakref.WeakKeyDictionary()


def _sqlite_has_written(conn) -> bool:
    # pysqlite opens a transaction only for a write: one that is open has written.
    return bool(conn.connection.dbapi_connection.in_transaction)


def card_version_of(session: Session, version: int | None, txid: object = None) -> int | None:
    """A user's card version as read (with ``txid_current_if_assigned()`` on PostgreSQL), or
    None where it cannot be trusted for a cache: this transaction has written (what it sees may
    never commit), or the database has no triggers. A user whose cards never changed has 0."""
    conn = session.connection()
    name = conn.dialect.name
    if name == "sqlite":
        return None if _sqlite_has_written(conn) else version or 0
    if name == "postgresql":
        return None if txid is not None else version or 0
    return None


def _card_version(session: Session, user_id: int) -> int | None:
    """The user's card version, read and judged by ``card_version_of``."""
    conn = session.connection()
    name = conn.dialect.name
    if name == "sqlite":
        if _sqlite_has_written(conn):
            return None  # untrusted whatever it says: skip the read
        return card_version_of(session, conn.execute(_VERSION_OF, {"user_id": user_id}).scalar())
    if name == "postgresql":
        version, txid = conn.execute(_VERSION_OF_PG, {"user_id": user_id}).one()
        return card_version_of(session, version, txid)
    return None


_NOT_READ = object()


def cards_by_question(session: Session, user_id: int, *, version: object = _NOT_READ) -> CardMap:
    """Every card of the user by question (or drill card) id, as plain values, read-only.

    Read from the database once per change of the user's cards: each worker keeps the last map
    it read per user with the card version it read first (migration 0009's triggers bump it on
    any change, from any process), so a request costs one indexed select while nothing changed.
    The version is read before the cards, so a map is never older than its version; a caller
    that read it (``card_version_of``, in the same statement as other things) passes it."""
    if version is _NOT_READ:
        version = _card_version(session, user_id)
    engine = session.get_bind()
    cache = _CARD_CACHES.get(engine) if version is not None else None  # type: ignore[arg-type]
    if cache is not None:
        got = cache.get(user_id, version)  # type: ignore[arg-type]
        if got is not None:
            return got
    cards = CardMap(_read_cards(session, user_id), version)
    if version is not None:
        if cache is None:
            cache = _CARD_CACHES.setdefault(engine, _CardCache())  # type: ignore[arg-type]
        cache.put(user_id, cards)
    return cards


def _read_cards(session: Session, user_id: int) -> Iterable[CardRow]:
    for r in session.connection().execute(_CARDS_OF_USER, {"user_id": user_id}):
        card = _card_row(session, r)
        if card is not None:
            yield card


def _start_of_day(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def day_start(now: datetime, tz: str = "UTC", hour: int = 0) -> datetime:
    """When the user's current study day began, in UTC: the latest local ``hour``:00 in ``tz``
    at or before ``now``. UTC midnight is 08:00 in Shanghai, so a UTC day would cut a Chinese
    evening in two; a day starting at 04:00 keeps a late session in one day, as Anki does."""
    local = now.astimezone(ZoneInfo(tz))
    start = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if start > local:
        start -= timedelta(days=1)
    # ZoneInfo derives the offset from the wall time, so this is right across a DST change.
    return start.astimezone(UTC)


def next_day_start(start: datetime, tz: str = "UTC", hour: int = 0) -> datetime:
    """The start of the study day after the one that began at ``start`` (23-25 h later on DST
    days)."""
    local = start.astimezone(ZoneInfo(tz)).replace(tzinfo=None) + timedelta(days=1)
    return local.replace(
        hour=hour, minute=0, second=0, microsecond=0, tzinfo=ZoneInfo(tz)
    ).astimezone(UTC)


def new_cards_today(
    session: Session, user_id: int, now: datetime, *, since: datetime | None = None
) -> int:
    """Cards first seen today: a review whose card had no state before. ``since``: when the
    user's day began (default: UTC midnight). Cram answers introduce nothing."""
    params = {"user_id": user_id, "since": since or _start_of_day(now)}
    return session.connection().execute(_NEW_SINCE, params).scalar_one()


_R = ReviewLog.__table__
# Prebuilt, run on the session's connection: building the statement and going through the ORM's
# execute path cost more than the indexed count itself (migration 0008's partial index, whose
# WHERE these terms must match as rendered).
_NEW_SINCE = (
    sa_select(func.count())
    .select_from(_R)
    .where(
        _R.c.user_id == bindparam("user_id"),
        _R.c.card_before.is_(None),
        _R.c.reviewed_at >= bindparam("since"),
        _R.c.cram == False,  # noqa: E712 (SQL, not Python)
    )
)


def _available(row: AnyCard, now: datetime) -> bool:
    return not row.suspended and not (row.buried_until and row.buried_until > now)


def _is_new(row: AnyCard | None) -> bool:
    return row is None or row.reps == 0


def _is_due(row: AnyCard | None, now: datetime) -> bool:
    return row is not None and row.reps > 0 and _available(row, now) and row.due <= now


@dataclass(frozen=True)
class TopicProgress:
    topic_id: str
    total: int
    due: int
    new: int
    seen: int


def progress(session: Session, user_id: int, bank: Bank, now: datetime) -> list[TopicProgress]:
    cards = cards_by_question(session, user_id)
    out = []
    for t in bank.topics:
        qs = bank.in_topic(t.id)
        due = sum(1 for q in qs if _is_due(cards.get(q.id), now))
        new = sum(1 for q in qs if _is_new(cards.get(q.id)))
        out.append(TopicProgress(t.id, len(qs), due, new, len(qs) - new))
    return out


@dataclass(frozen=True)
class QueueItem:
    question: Question
    card: AnyCard | None  # None: a new card

    @property
    def is_new(self) -> bool:
        return self.card is None


def next_card(
    session: Session,
    user_id: int,
    bank: Bank,
    now: datetime,
    *,
    new_per_day: int,
    questions: list[Question] | None = None,
    exclude: set[str] | None = None,
    cards: Mapping[str, AnyCard] | None = None,
    new_today: int | None = None,
    since: datetime | None = None,
    early: Sequence[str] = (),
) -> QueueItem | None:
    """The most overdue card among ``questions`` (default: the whole bank), then the ``early``
    cards (an interview plan's reviews ahead of their due date, in order, each once a day), else
    a new card while today's new-card allowance lasts. ``exclude`` skips ids (e.g. the card just
    shown); ``since`` is when the user's day began (default: UTC midnight)."""
    pool = questions if questions is not None else list(bank.questions.values())
    exclude = exclude or set()
    # ``cards`` / ``new_today`` may be passed in by a caller that also needs them (one read each).
    cards = cards if cards is not None else cards_by_question(session, user_id)
    qid = _most_overdue(cards, pool, bank if questions is None else None, exclude, now)
    if qid is not None:
        return QueueItem(bank.questions[qid], cards[qid])
    since = since or _start_of_day(now)
    in_pool = {q.id for q in pool}
    for qid in early:
        c = cards.get(qid)
        if qid in in_pool and qid not in exclude and _is_early(c, now, since):
            return QueueItem(bank.questions[qid], c)
    if new_today is None:
        new_today = new_cards_today(session, user_id, now, since=since)
    if new_today < new_per_day:
        for q in pool:
            c = cards.get(q.id)
            if q.id not in exclude and _is_new(c) and (c is None or _available(c, now)):
                return QueueItem(q, None)
    return None


def _most_overdue(
    cards: Mapping[str, AnyCard],
    pool: list[Question],
    bank: Bank | None,
    exclude: Container[str],
    now: datetime,
) -> str | None:
    """The id of the most overdue card in ``pool`` (``bank``: the pool is the whole bank), the
    earliest due then the smallest id. A CardMap's due order makes it a walk over the cards due,
    from the first; otherwise every question of the pool is looked at."""
    if isinstance(cards, CardMap):
        in_pool: Container[str] = bank.questions if bank is not None else {q.id for q in pool}
        for _due, qid in cards.due_prefix(now):
            if qid in in_pool and qid not in exclude and _available(cards[qid], now):
                return qid
        return None
    due = [
        (cards[q.id].due, q.id)
        for q in pool
        if q.id not in exclude and _is_due(cards.get(q.id), now)
    ]
    return min(due)[1] if due else None


def _is_early(row: AnyCard | None, now: datetime, since: datetime) -> bool:
    """A seen card, not held, not yet due, and not already reviewed today."""
    return (
        row is not None
        and row.reps > 0
        and _available(row, now)
        and row.due > now
        and (row.last_review is None or row.last_review < since)
    )


@dataclass(frozen=True)
class SessionCounts:
    """What is left of today's session, as the counters during review show it."""

    new_left: int  # new cards still allowed today (and available)
    learning_due: int  # learning/relearning cards due now
    review_due: int  # review cards due now
    early_left: int  # plan cards to review ahead of their due date today
    learning_later: int  # learning/relearning cards due later in this study day
    next_learning_at: datetime | None  # when the first of those comes back


def session_counts(
    session: Session,
    user_id: int,
    card_ids: Sequence[str],
    now: datetime,
    *,
    new_per_day: int,
    since: datetime,
    until: datetime,
    cards: Mapping[str, AnyCard] | None = None,
    new_today: int | None = None,
    early: Sequence[str] = (),
) -> SessionCounts:
    """Counters for the session over ``card_ids`` (questions, and drills when they take turns):
    new / learning / due left, and the learning cards that come back before ``until`` (the end
    of the user's study day)."""
    cards = cards if cards is not None else cards_by_question(session, user_id)
    learning_due = review_due = learning_later = unseen = 0
    next_learning: datetime | None = None
    for cid in card_ids:
        row = cards.get(cid)
        if _is_new(row):
            unseen += row is None or _available(row, now)
            continue
        assert row is not None
        if not _available(row, now):
            continue
        learning = row.state in (1, 3)
        if row.due <= now:
            learning_due += learning
            review_due += not learning
        elif learning and row.due < until:
            learning_later += 1
            next_learning = row.due if next_learning is None else min(next_learning, row.due)
    if new_today is None:
        new_today = new_cards_today(session, user_id, now, since=since)
    early_left = sum(1 for cid in early if _is_early(cards.get(cid), now, since))
    return SessionCounts(
        new_left=min(unseen, max(0, new_per_day - new_today)),
        learning_due=learning_due,
        review_due=review_due,
        early_left=early_left,
        learning_later=learning_later,
        next_learning_at=next_learning,
    )


def queue_counts(
    session: Session,
    user_id: int,
    bank: Bank,
    now: datetime,
    *,
    new_per_day: int,
    cards: Mapping[str, AnyCard] | None = None,
    new_today: int | None = None,
    since: datetime | None = None,
) -> tuple[int, int]:
    """(due now, new cards still allowed today)."""
    cards = cards if cards is not None else cards_by_question(session, user_id)
    qs = bank.questions
    if isinstance(cards, CardMap):  # the cards due, and the seen ones, not the whole bank
        due = sum(1 for _d, q in cards.due_prefix(now) if q in qs and _available(cards[q], now))
        unseen = len(qs) - sum(1 for q, c in cards.items() if c.reps and q in qs)
    else:
        due = sum(1 for qid in qs if _is_due(cards.get(qid), now))
        unseen = sum(1 for qid in qs if _is_new(cards.get(qid)))
    if new_today is None:
        new_today = new_cards_today(session, user_id, now, since=since)
    left = max(0, new_per_day - new_today)
    return due, min(unseen, left)


class ConcurrentUpdate(RuntimeError):
    pass


def submit_review(
    session: Session,
    user_id: int,
    question_id: str,
    grade: Grade,
    now: datetime,
    srs: Srs,
    *,
    bank: Bank,
    duration_ms: int | None = None,
    attempts: int = 8,
    card_ids: Container[str] = frozenset(),
) -> tuple[CardRow, LogRow]:
    """Grade one card: update its state and append a review-log row in ONE transaction.

    Optimistic concurrency: the card row is updated only if ``reps`` is still what we read, so two
    grades racing on the same card never lose one; the loser re-reads and retries.
    """
    if question_id not in bank.questions and question_id not in card_ids:  # card_ids: drills
        raise NotFound(question_id)
    now = now.astimezone(UTC)
    for attempt in range(attempts):
        try:
            with write_turn(session):
                return _submit_once(session, user_id, question_id, grade, now, srs, duration_ms)
        except (ConcurrentUpdate, IntegrityError, OperationalError):
            session.rollback()
            # Randomised backoff: racers that retried in lock-step would collide again.
            time.sleep(random.uniform(0, 0.004 * (attempt + 1)))
    raise ConcurrentUpdate(f"could not record the review of {question_id} after {attempts} tries")


@dataclass(slots=True)
class LogRow:
    """The review_log row a grade wrote, as plain values (ReviewLog's attribute names)."""

    id: int
    user_id: int
    question_id: str
    rating: int
    reviewed_at: datetime
    duration_ms: int | None
    card_before: str | None
    due_after: datetime
    cram: bool = False


# Grading in SQLAlchemy Core on the session's connection (the session's transaction): the ORM's
# unit of work (flush, identity map, instance state) cost more than the three statements.
_CARD_OF = sa_select(*(_T.c[n] for n in _CARD_COLUMNS)).where(
    _T.c.user_id == bindparam("user_id"), _T.c.question_id == bindparam("question_id")
)
# Optimistic: only if reps is still what we read. The SET columns come with each execute.
_UPDATE_CARD = _T.update().where(_T.c.id == bindparam("b_id"), _T.c.reps == bindparam("b_reps"))
# Built once too: a fresh insert() per grade also paid for its cache key.
_INSERT_CARD = _T.insert()
_INSERT_LOG = _R.insert()


def _card_row(session: Session, values: Sequence[object]) -> CardRow | None:
    """A card_state row read by Core as a CardRow; one that is not plainly valid is loaded
    through the ORM instead, whose load event reports and repairs it."""
    card = CardRow(*values)  # type: ignore[arg-type]
    if plainly_valid(
        card.state,
        card.step,
        card.stability,
        card.difficulty,
        card.due,
        card.last_review,
        card.reps,
        card.lapses,
    ):
        return card
    orm = session.get(CardState, card.id)
    return None if orm is None else CardRow(*(getattr(orm, n) for n in _CARD_COLUMNS))


def _submit_once(
    session: Session,
    user_id: int,
    question_id: str,
    grade: Grade,
    now: datetime,
    srs: Srs,
    duration_ms: int | None,
) -> tuple[CardRow, LogRow]:
    conn = session.connection()
    found = conn.execute(_CARD_OF, {"user_id": user_id, "question_id": question_id}).first()
    row = _card_row(session, found) if found is not None else None
    # A row with no reps only holds a suspend/bury flag: the card is still new to FSRS.
    before = snapshot(row) if row is not None and row.reps > 0 else None
    before_json = _snapshot_json(before, row)
    after = srs.review(before, grade, now)
    values: dict[str, object] = dict(
        state=after.state,
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=after.due,
        last_review=after.last_review,
        buried_until=None,
    )
    if row is None:
        values.update(user_id=user_id, question_id=question_id, reps=1, lapses=0, suspended=False)
        # IntegrityError here if a concurrent first grade won: the caller retries.
        card_id = conn.execute(_INSERT_CARD, values).inserted_primary_key[0]
        row = CardRow(id=card_id, **values)  # type: ignore[arg-type]
    else:
        lapse = int(grade == Grade.again and before is not None and before.state == 2)
        values.update(reps=row.reps + 1, lapses=row.lapses + lapse)
        res = conn.execute(_UPDATE_CARD, {"b_id": row.id, "b_reps": row.reps, **values})
        if res.rowcount != 1:
            raise ConcurrentUpdate(question_id)
        # A new frozen row, built directly: dataclasses.replace costs several times more.
        row = CardRow(
            id=row.id,
            user_id=row.user_id,
            question_id=row.question_id,
            suspended=row.suspended,
            **values,  # type: ignore[arg-type]
        )
    log = LogRow(
        id=0,
        user_id=user_id,
        question_id=question_id,
        rating=int(grade),
        reviewed_at=now,
        duration_ms=duration_ms,
        card_before=before_json,
        due_after=after.due,
    )
    fields = {f: getattr(log, f) for f in _LOG_COLUMNS}
    log.id = conn.execute(_INSERT_LOG, fields).inserted_primary_key[0]
    session.commit()
    return row, log


_LOG_COLUMNS = tuple(f.name for f in dataclass_fields(LogRow) if f.name != "id")


def undo_last(session: Session, user_id: int) -> ReviewLog | None:
    """Undo the user's latest grade: restore the card exactly and delete that log row."""
    last = session.exec(
        select(ReviewLog).where(ReviewLog.user_id == user_id).order_by(ReviewLog.id.desc())  # type: ignore[union-attr]
    ).first()
    if last is None:
        return None
    if last.cram:  # a cram answer moved no card: undoing it only removes the answer
        session.exec(delete(ReviewLog).where(ReviewLog.id == last.id))
        session.commit()
        return last
    row = session.exec(
        select(CardState).where(
            CardState.user_id == user_id, CardState.question_id == last.question_id
        )
    ).first()
    if last.card_before is None:
        if row is not None:
            session.delete(row)
    elif row is not None:
        b = json.loads(last.card_before)
        session.exec(
            update(CardState)
            .where(CardState.id == row.id)
            .values(
                state=b["state"],
                step=b["step"],
                stability=b["stability"],
                difficulty=b["difficulty"],
                due=datetime.fromisoformat(b["due"]),
                last_review=datetime.fromisoformat(b["last_review"]) if b["last_review"] else None,
                reps=b["reps"],
                lapses=b["lapses"],
            )
        )
    session.exec(delete(ReviewLog).where(ReviewLog.id == last.id))
    session.commit()
    return last


def set_hold(
    session: Session,
    user_id: int,
    question_id: str,
    *,
    suspend: bool | None = None,
    bury_until: datetime | None = None,
    now: datetime,
) -> CardState:
    """Suspend/unsuspend or bury a card. A new card gets a state row so it can be held too."""
    row = session.exec(
        select(CardState).where(CardState.user_id == user_id, CardState.question_id == question_id)
    ).first()
    if row is None:
        row = CardState(
            user_id=user_id,
            question_id=question_id,
            state=1,
            step=0,
            due=now,
            reps=0,
            lapses=0,
            suspended=False,
        )
        session.add(row)
    if suspend is not None:
        row.suspended = suspend
    if bury_until is not None:
        row.buried_until = bury_until
    session.commit()
    session.refresh(row)
    return row


def tomorrow(now: datetime, tz: str = "UTC", hour: int = 0) -> datetime:
    """When the user's next study day begins (bury until then)."""
    return next_day_start(day_start(now, tz, hour), tz, hour)

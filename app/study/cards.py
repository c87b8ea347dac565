"""The card view: a card's FSRS memory state (stability, difficulty, recall now and on the
interview day), its review history, and leeches (cards forgotten again and again)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from app import services
from app.bank.loader import Bank
from app.bank.models import Localized
from app.models import CardState, ReviewLog
from app.srs import Srs
from app.study.planner import MIDDAY
from app.study.prefs import Prefs, local_day_start

DRILL_PREFIX = "drill:"
_STATES = {1: "learning", 2: "review", 3: "relearning"}


class HistoryRow(BaseModel):
    id: int
    rating: int
    reviewed_at: datetime
    duration_ms: int | None
    due_after: datetime
    cram: bool = Field(description="A cram answer: kept, but it moved no schedule.")


class CardView(BaseModel):
    card_id: str
    kind: Literal["question", "drill"]
    title: Localized
    topic: str | None
    state: Literal["new", "learning", "review", "relearning"]
    due: datetime | None
    stability: float | None = Field(description="Days until recall falls to 90%.")
    difficulty: float | None = Field(description="FSRS difficulty, 1 (easy) to 10 (hard).")
    retrievability_now: float | None = Field(description="Predicted recall probability now.")
    retrievability_on_interview: float | None = Field(
        description="Predicted recall on the interview day, if one is set and nothing changes."
    )
    reps: int
    lapses: int
    leech: bool = Field(description="Lapses at or above your leech threshold.")
    suspended: bool
    history: list[HistoryRow] = []


def _title(card_id: str, bank: Bank, drills: dict) -> tuple[Localized, str | None, str] | None:
    if card_id in bank.questions:
        q = bank.questions[card_id]
        return q.prompt, q.topic, "question"
    if card_id.startswith(DRILL_PREFIX) and card_id[len(DRILL_PREFIX) :] in drills:
        return drills[card_id[len(DRILL_PREFIX) :]].title, None, "drill"
    return None


def view(
    card_id: str,
    row: CardState | None,
    *,
    bank: Bank,
    drills: dict,
    srs: Srs,
    prefs: Prefs,
    now: datetime,
    history: list[ReviewLog] | None = None,
) -> CardView | None:
    named = _title(card_id, bank, drills)
    if named is None:
        return None
    title, topic, kind = named
    seen = row is not None and row.reps > 0
    snap = services.snapshot(row) if seen else None
    r_now = srs.retrievability(snap, now) if snap is not None else None
    r_day = None
    if snap is not None and prefs.interview_date is not None:
        r_day = srs.retrievability(snap, local_day_start(prefs.interview_date, prefs) + MIDDAY)
    return CardView(
        card_id=card_id,
        kind=kind,  # type: ignore[arg-type]
        title=title,
        topic=topic,
        state=_STATES[row.state] if seen and row is not None else "new",  # type: ignore[arg-type]
        due=row.due if seen and row is not None else None,
        stability=row.stability if seen and row is not None else None,
        difficulty=row.difficulty if seen and row is not None else None,
        retrievability_now=r_now,
        retrievability_on_interview=r_day,
        reps=row.reps if row is not None else 0,
        lapses=row.lapses if row is not None else 0,
        leech=row is not None and row.lapses >= prefs.leech_threshold,
        suspended=bool(row and row.suspended),
        history=[
            HistoryRow(
                id=h.id or 0,
                rating=h.rating,
                reviewed_at=h.reviewed_at,
                duration_ms=h.duration_ms,
                due_after=h.due_after,
                cram=h.cram,
            )
            for h in history or []
        ],
    )


def card_view(
    session: Session,
    user_id: int,
    card_id: str,
    *,
    bank: Bank,
    drills: dict,
    srs: Srs,
    prefs: Prefs,
    now: datetime,
) -> CardView | None:
    """One card with its whole history (newest first), or None if no such card."""
    if _title(card_id, bank, drills) is None:
        return None
    row = session.exec(
        select(CardState).where(CardState.user_id == user_id, CardState.question_id == card_id)
    ).first()
    history = session.exec(
        select(ReviewLog)
        .where(ReviewLog.user_id == user_id, ReviewLog.question_id == card_id)
        .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
        .limit(1000)
    ).all()
    return view(
        card_id, row, bank=bank, drills=drills, srs=srs, prefs=prefs, now=now, history=list(history)
    )


def listing(
    session: Session,
    user_id: int,
    *,
    bank: Bank,
    drills: dict,
    srs: Srs,
    prefs: Prefs,
    now: datetime,
    leech_only: bool = False,
    topic: str | None = None,
) -> list[CardView]:
    """Every card of the bank (and every drill), weakest recall first; leeches only on request."""
    rows = services.cards_by_question(session, user_id)
    ids = [q.id for q in bank.questions.values() if topic is None or q.topic == topic]
    if topic is None:
        ids += [DRILL_PREFIX + d for d in drills]
    out = []
    for cid in ids:
        v = view(cid, rows.get(cid), bank=bank, drills=drills, srs=srs, prefs=prefs, now=now)
        if v is not None and (v.leech or not leech_only):
            out.append(v)
    out.sort(key=lambda v: (v.retrievability_now is None, v.retrievability_now or 0.0, v.card_id))
    return out

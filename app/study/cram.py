"""Cram: go over any set of cards (a topic, a tag, the soul-20, the weakest, those due soon,
the leeches) without touching the schedule. Each answer is kept in the review log, marked
``cram``: no card state changes, fitting leaves it out, and it introduces no new card."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from app import services
from app.bank.loader import Bank
from app.db import write_turn
from app.models import CardState, ReviewLog
from app.srs import Grade, Srs
from app.study.prefs import Prefs

MAX_CRAM = 100


class CramFilter(BaseModel):
    """Which cards to cram. ``mode``: all that match, the weakest (lowest recall now), those due
    within ``days``, or the leeches."""

    model_config = ConfigDict(extra="forbid")

    topic: list[str] = Field(default_factory=list, max_length=50)
    tag: list[str] = Field(default_factory=list, max_length=50)
    soul: bool = False
    mode: Literal["all", "weakest", "due_soon", "leeches"] = "all"
    n: int = Field(20, ge=1, le=MAX_CRAM, description="How many cards at most.")
    days: int = Field(3, ge=1, le=60, description="For due_soon: due within this many days.")


class CramSet(BaseModel):
    ids: list[str]
    mode: str


class CramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str = Field(max_length=80)
    rating: Literal[1, 2, 3, 4]
    duration_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)


class CramOut(BaseModel):
    review_id: int
    question_id: str
    rating: int
    cram: Literal[True] = True
    due: datetime | None = Field(description="The card's due date: unchanged by a cram answer.")


def pick(
    bank: Bank,
    cards: dict[str, CardState],
    srs: Srs,
    prefs: Prefs,
    now: datetime,
    f: CramFilter,
    rng: random.Random | None = None,
) -> list[str]:
    qs = bank.filter(
        topics=[t for t in f.topic if t], tags=[t for t in f.tag if t], soul_only=f.soul
    )
    ids = [q.id for q in qs]
    if f.mode == "all":
        (rng or random.Random(secrets.randbits(64))).shuffle(ids)
        return ids[: f.n]
    seen = [(i, cards[i]) for i in ids if i in cards and cards[i].reps > 0]
    if f.mode == "weakest":
        scored = sorted(seen, key=lambda x: srs.retrievability(services.snapshot(x[1]), now))  # type: ignore[arg-type]
        return [i for i, _ in scored[: f.n]]
    if f.mode == "due_soon":
        until = now + timedelta(days=f.days)
        soon = sorted((c.due, i) for i, c in seen if c.due <= until and not c.suspended)
        return [i for _, i in soon[: f.n]]
    leeches = sorted(((-c.lapses, i) for i, c in seen if c.lapses >= prefs.leech_threshold))
    return [i for _, i in leeches[: f.n]]


def record(
    session: Session,
    user_id: int,
    question_id: str,
    grade: Grade,
    now: datetime,
    *,
    duration_ms: int | None = None,
) -> ReviewLog:
    """Keep a cram answer: a review_log row marked cram, holding the card as it stands (so the
    history shows where it was) and its unchanged due date. The card row is not touched."""
    with write_turn(session):
        row = session.exec(
            select(CardState).where(
                CardState.user_id == user_id, CardState.question_id == question_id
            )
        ).first()
        seen = row is not None and row.reps > 0
        snap = services.snapshot(row) if seen else None
        log = ReviewLog(
            user_id=user_id,
            question_id=question_id,
            rating=int(grade),
            reviewed_at=now,
            duration_ms=duration_ms,
            card_before=services._snapshot_json(snap, row),
            due_after=row.due if seen and row is not None else now,
            cram=True,
        )
        session.add(log)
        session.commit()
        session.refresh(log)
    return log

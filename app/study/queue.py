"""What today's review queue needs from a member's settings: when their day began and ends,
their new-card allowance (plus "N more today", plus what an interview plan asks for today), the
plan's early reviews, and the counters. The queue itself stays in app/services.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session

from app import services
from app.bank.loader import Bank
from app.models import CardState
from app.srs import Srs
from app.study import autofit, planner
from app.study.prefs import Prefs, day_bounds, extra_new_today, for_request


@dataclass(frozen=True)
class Today:
    since: datetime
    until: datetime
    new_per_day: int
    early: tuple[str, ...]
    cards: dict[str, CardState] = field(repr=False)
    new_today: int
    forecast: planner.Forecast | None = field(repr=False)

    def next_card_kwargs(self) -> dict[str, Any]:
        return {
            "new_per_day": self.new_per_day,
            "cards": self.cards,
            "new_today": self.new_today,
            "since": self.since,
            "early": self.early,
        }

    def counts(
        self, session: Session, user_id: int, card_ids: list[str], now: datetime
    ) -> services.SessionCounts:
        return services.session_counts(
            session,
            user_id,
            card_ids,
            now,
            new_per_day=self.new_per_day,
            since=self.since,
            until=self.until,
            cards=self.cards,
            new_today=self.new_today,
            early=self.early,
        )


def today(
    session: Session,
    user_id: int,
    bank: Bank,
    srs: Srs,
    prefs: Prefs,
    now: datetime,
    **card_version: Any,
) -> Today:
    """``card_version``: ``version=`` as read with the prefs (app/web/api.py), else read here."""
    since, until = day_bounds(prefs, now)
    cards = services.cards_by_question(session, user_id, **card_version)
    new_today = services.new_cards_today(session, user_id, now, since=since)
    allowance = prefs.new_per_day + extra_new_today(prefs, now)
    fc = None
    early: tuple[str, ...] = ()
    if prefs.interview_date is not None:
        fc = planner.forecast(
            bank,
            cards,
            srs,
            prefs,
            now,
            reviewed_today=planner.reviewed_today(cards, since),
            new_today=new_today,
        )
        if fc is not None and fc.plan.days:
            first = fc.plan.days[0]
            early = tuple(first.early)
            # The plan may ask for more new cards today than the usual allowance, never fewer.
            allowance = max(allowance, new_today + len(first.new))
    return Today(since, until, allowance, early, cards, new_today, fc)


def for_page(
    request: Any,
    session: Session,
    user_id: int,
    bank: Bank,
    srs: Srs,
    now: datetime,
    **card_version: Any,
) -> Today:
    p = for_request(request, session, user_id)
    if p.autofit_every:
        autofit.maybe_start(request.app.state, session, user_id, p, now)
    return today(session, user_id, bank, srs, p, now, **card_version)


class QueueOut(BaseModel):
    """Today's session: what is left, and when learning cards come back."""

    new_left: int = Field(description="New cards still allowed (and available) today.")
    learning_due: int = Field(description="Learning and relearning cards due now.")
    review_due: int = Field(description="Review cards due now.")
    early_left: int = Field(description="Interview-plan cards to review ahead of time today.")
    learning_later: int = Field(description="Learning cards that come back later today.")
    next_learning_at: datetime | None
    minutes_to_next_learning: int | None
    new_per_day: int = Field(description="Today's new-card allowance, all told.")
    new_today: int = Field(description="New cards already introduced today.")
    day_began: datetime
    day_ends: datetime


def queue_out(t: Today, c: services.SessionCounts, now: datetime) -> QueueOut:
    minutes = None
    if c.next_learning_at is not None:
        minutes = max(1, round((c.next_learning_at - now).total_seconds() / 60))
    return QueueOut(
        new_left=c.new_left,
        learning_due=c.learning_due,
        review_due=c.review_due,
        early_left=c.early_left,
        learning_later=c.learning_later,
        next_learning_at=c.next_learning_at,
        minutes_to_next_learning=minutes,
        new_per_day=t.new_per_day,
        new_today=t.new_today,
        day_began=t.since,
        day_ends=t.until,
    )

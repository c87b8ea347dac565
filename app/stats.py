"""One member's study statistics: reviews per day, due forecast, true retention, mastery per
topic, cards by state, streak. Pure reads for one user at a given ``now`` (UTC days)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, select

from app import services
from app.bank.loader import Bank
from app.models import ReviewLog
from app.srs import Srs

# A card counts as mastered once FSRS expects it to stay recallable for three weeks or more.
MASTERED_STABILITY_DAYS = 21.0
HEATMAP_WEEKS = 26
FORECAST_DAYS = 30
RETENTION_DAYS = 30


def streak_from_days(days: set[date], now: datetime) -> int:
    """Consecutive UTC days with a review, ending today (or yesterday, if today has none yet)."""
    day = now.date()
    if day not in days:
        day -= timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= timedelta(days=1)
    return n


class DayCount(BaseModel):
    day: date
    count: int


class TopicMastery(BaseModel):
    topic: str
    questions: int
    seen: int
    mastered: int
    mastery: float  # share of the topic's questions mastered
    mean_retrievability: float | None  # over seen cards, now


class Stats(BaseModel):
    total_reviews: int
    reviews_today: int
    streak_days: int
    cards: dict[str, int]  # new, learning, review, relearning, suspended
    true_retention: float | None  # share of review-state reviews not graded Again, last 30 days
    retention_reviews: int
    desired_retention: float
    reviews_per_day: list[DayCount]  # last 26 weeks, oldest first
    due_forecast: list[DayCount]  # today + next 29 days (overdue counted today)
    topics: list[TopicMastery]


def compute(
    session: Session, user_id: int, bank: Bank, srs: Srs, now: datetime, desired: float
) -> Stats:
    logs = session.exec(
        # Cram answers are practice outside the schedule: not counted as reviews here.
        select(ReviewLog.reviewed_at, ReviewLog.rating, ReviewLog.card_before).where(
            ReviewLog.user_id == user_id,
            ReviewLog.cram == False,  # noqa: E712 (SQL)
        )
    ).all()
    cards = {
        qid: row
        for qid, row in services.cards_by_question(session, user_id).items()
        if qid in bank.questions
    }
    today = now.date()

    per_day: Counter[date] = Counter(at.date() for at, _, _ in logs)
    start = today - timedelta(days=HEATMAP_WEEKS * 7 - 1)
    reviews_per_day = [
        DayCount(day=start + timedelta(days=i), count=per_day.get(start + timedelta(days=i), 0))
        for i in range(HEATMAP_WEEKS * 7)
    ]

    # True retention: of the reviews of cards that were in the Review state, how many passed.
    since = now - timedelta(days=RETENTION_DAYS)
    mature = [
        rating
        for at, rating, before in logs
        if at >= since and before and json.loads(before).get("state") == 2
    ]
    true_retention = (sum(r > 1 for r in mature) / len(mature)) if mature else None

    forecast: Counter[int] = Counter()
    state_counts = Counter({"new": 0, "learning": 0, "review": 0, "relearning": 0, "suspended": 0})
    for row in cards.values():
        if row.suspended:
            state_counts["suspended"] += 1
            continue
        if row.reps == 0:
            state_counts["new"] += 1
            continue
        state_counts[{1: "learning", 2: "review", 3: "relearning"}[row.state]] += 1
        offset = max(0, (row.due.date() - today).days)
        if offset < FORECAST_DAYS:
            forecast[offset] += 1
    state_counts["new"] += sum(1 for qid in bank.questions if qid not in cards)
    due_forecast = [
        DayCount(day=today + timedelta(days=i), count=forecast.get(i, 0))
        for i in range(FORECAST_DAYS)
    ]

    topics = []
    for t in bank.topics:
        qids = [q.id for q in bank.questions.values() if q.topic == t.id]
        seen = [cards[q] for q in qids if q in cards and cards[q].reps > 0]
        mastered = sum(
            1 for c in seen if c.state == 2 and (c.stability or 0) >= MASTERED_STABILITY_DAYS
        )
        rs = [srs.retrievability(services.snapshot(c), now) for c in seen if c.stability]
        topics.append(
            TopicMastery(
                topic=t.id,
                questions=len(qids),
                seen=len(seen),
                mastered=mastered,
                mastery=mastered / len(qids) if qids else 0.0,
                mean_retrievability=sum(rs) / len(rs) if rs else None,
            )
        )
    return Stats(
        total_reviews=len(logs),
        reviews_today=per_day.get(today, 0),
        streak_days=streak_from_days(set(per_day), now),
        cards=dict(state_counts),
        true_retention=true_retention,
        retention_reviews=len(mature),
        desired_retention=desired,
        reviews_per_day=reviews_per_day,
        due_forecast=due_forecast,
        topics=topics,
    )

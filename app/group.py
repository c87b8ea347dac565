"""The study group's shared view: a leaderboard (opt-out per member) and the weakest topics."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from app.bank.loader import Bank
from app.models import CardState, ReviewLog, User
from app.stats import MASTERED_STABILITY_DAYS, streak_from_days


@dataclass(frozen=True)
class Standing:
    username: str
    reviews_week: int
    streak: int
    mastery: float  # share of the bank mastered


def leaderboard(session: Session, bank: Bank, now: datetime) -> list[Standing]:
    users = session.exec(select(User).where(User.show_on_leaderboard.is_(True))).all()  # type: ignore[attr-defined]
    ids = [u.id for u in users]
    if not ids:
        return []
    logs = session.exec(
        select(ReviewLog.user_id, ReviewLog.reviewed_at).where(
            ReviewLog.user_id.in_(ids)  # type: ignore[attr-defined]
        )
    ).all()
    week_ago = now - timedelta(days=7)
    week: Counter[int] = Counter()
    days: dict[int, set] = defaultdict(set)
    for uid, at in logs:
        days[uid].add(at.date())
        if at >= week_ago:
            week[uid] += 1
    mastered: Counter[int] = Counter()
    for uid, stability, qid in session.exec(
        select(CardState.user_id, CardState.stability, CardState.question_id).where(
            CardState.user_id.in_(ids),
            CardState.state == 2,  # type: ignore[attr-defined]
        )
    ).all():
        if qid in bank.questions and (stability or 0) >= MASTERED_STABILITY_DAYS:
            mastered[uid] += 1
    total = max(1, len(bank.questions))
    board = [
        Standing(u.username, week[u.id], streak_from_days(days[u.id], now), mastered[u.id] / total)
        for u in users
    ]
    return sorted(board, key=lambda s: (-s.reviews_week, -s.streak, -s.mastery, s.username))


@dataclass(frozen=True)
class WeakTopic:
    topic_id: str
    reviews: int
    again_rate: float


def weakest_topics(
    session: Session, bank: Bank, now: datetime, *, days: int = 30, min_reviews: int = 3
) -> list[WeakTopic]:
    """Topics ranked by the group's share of Again grades over the last ``days`` days."""
    rows = session.exec(
        select(ReviewLog.question_id, ReviewLog.rating).where(
            ReviewLog.reviewed_at >= now - timedelta(days=days)
        )
    ).all()
    total: Counter[str] = Counter()
    again: Counter[str] = Counter()
    for qid, rating in rows:
        q = bank.questions.get(qid)
        if q is None:
            continue
        total[q.topic] += 1
        again[q.topic] += rating == 1
    out = [WeakTopic(t, n, again[t] / n) for t, n in total.items() if n >= min_reviews]
    return sorted(out, key=lambda w: (-w.again_rate, -w.reviews))[:5]

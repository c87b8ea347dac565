"""Readiness for an interview date, and a day-by-day plan that gets there.

Readiness is FSRS's own prediction: each card's recall probability at the interview
(``Scheduler.get_card_retrievability`` on its stored state; a card never studied counts 0),
averaged over the bank and per topic.

The plan never changes the algorithm: every review in it is an ordinary FSRS review. It only
decides the order and the daily amount, by simulating the days left with the member's own
scheduler (no fuzz) and the assumption that each review is answered Good:

1. Cards FSRS makes due on a day are reviewed that day.
2. New cards are introduced at a steady pace, as early as the daily limit allows, and no later
   than the last day from which FSRS's first interval still brings them back once before the
   interview (learned, then recalled on a later day).
3. Every card still predicted below the target on the day gets one review ahead of its due date,
   as late as the daily limit allows (the later, the higher the recall on the day), provided its
   own follow-up reviews fit too.

It is recomputed from the real cards on every request, so a missed day or an Again simply
shows up in tomorrow's plan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from app import services
from app.bank.loader import Bank
from app.models import CardState
from app.srs import CardSnapshot, Grade, Srs
from app.study.prefs import Prefs, day_bounds, local_day_start, local_today

# The interview and each simulated study day are placed at midday of the member's study day:
# FSRS counts whole days since the last review.
MIDDAY = timedelta(hours=12)


class DayPlan(BaseModel):
    day: date
    due: list[str] = Field(description="Cards FSRS makes due that day.")
    new: list[str] = Field(description="New cards to introduce.")
    early: list[str] = Field(description="Cards to review ahead of their due date.")
    total: int = Field(description="Cards that day (each counted once).")
    limit: int


class TopicReadiness(BaseModel):
    topic: str
    cards: int
    expected_recall: float = Field(description="Mean predicted recall on the day, as things stand.")
    expected_if_followed: float = Field(description="The same if the plan is followed.")
    below_target: int


class CardForecast(BaseModel):
    question_id: str
    topic: str
    recall_on_day: float
    recall_if_followed: float
    planned: date | None = Field(description="The first plan day that reviews or introduces it.")


class Readiness(BaseModel):
    interview_date: date
    interview_at: datetime
    days_left: int = Field(description="Study days before the interview, today included.")
    target_recall: float
    cards: int
    expected_share: float = Field(
        description="Expected share of the bank recalled on the day, as things stand."
    )
    expected_if_followed: float
    below_target: int = Field(description="Cards predicted below the target on the day.")
    topics: list[TopicReadiness]


class Plan(BaseModel):
    interview_date: date
    daily_limit: int
    days: list[DayPlan]
    last_new_day: date | None = Field(description="The last day a new card is introduced on.")
    unfit: list[str] = Field(
        description="Cards the plan cannot bring to the target within the daily limit."
    )
    over_limit: list[date] = Field(
        description="Days on which cards already due exceed the limit by themselves."
    )
    status: Literal["ok", "unfit", "late_new", "today"]
    message: str


class Forecast(BaseModel):
    readiness: Readiness
    plan: Plan
    cards: list[CardForecast]


@dataclass
class _Sim:
    state: CardSnapshot | None
    last_day: int  # the plan day of its latest simulated review; -1: none yet


def _snapshot(row: CardState | None) -> CardSnapshot | None:
    return services.snapshot(row) if row is not None and row.reps > 0 else None


def _good_until(srs: Srs, s: CardSnapshot | None, at: datetime, end: datetime) -> CardSnapshot:
    """Review Good at ``at``, then again at each learning step that falls before ``end``."""
    s = srs.simulate(s, Grade.good, at)
    while s.due < end:
        s = srs.simulate(s, Grade.good, s.due)
    return s


def forecast(
    bank: Bank,
    cards: dict[str, CardState],
    srs: Srs,
    prefs: Prefs,
    now: datetime,
    *,
    reviewed_today: int = 0,
    new_today: int = 0,
) -> Forecast | None:
    """Readiness and the plan for ``prefs.interview_date`` (None when no date is set).
    ``reviewed_today``/``new_today``: cards already reviewed / introduced today."""
    if prefs.interview_date is None:
        return None
    today = local_today(now, prefs.timezone, prefs.day_start_hour)
    interview_at = local_day_start(prefs.interview_date, prefs) + MIDDAY
    n_days = max(0, (prefs.interview_date - today).days)
    days = [today + timedelta(days=i) for i in range(n_days)]
    _, today_ends = day_bounds(prefs, now)
    starts = [local_day_start(d, prefs) for d in days]
    ends = [today_ends, *[local_day_start(d + timedelta(days=1), prefs) for d in days[1:]]]
    at = [max(now, starts[0] + MIDDAY) if i == 0 else starts[i] + MIDDAY for i in range(n_days)]
    cap = [max(0, prefs.daily_limit - reviewed_today), *[prefs.daily_limit] * (n_days - 1)]

    ids = [q.id for q in bank.questions.values() if not (cards.get(q.id) and cards[q.id].suspended)]
    sims = {cid: _Sim(_snapshot(cards.get(cid)), -1) for cid in ids}
    for cid, sim in sims.items():
        row = cards.get(cid)
        reviewed = sim.state is not None and row is not None and row.last_review is not None
        if reviewed and n_days and row.last_review >= starts[0]:  # type: ignore[union-attr,operator]
            sim.last_day = 0  # already reviewed today
    new_ids = [cid for cid in ids if sims[cid].state is None]

    def recall(s: CardSnapshot | None) -> float:
        return 0.0 if s is None else srs.retrievability(s, interview_at)

    now_recall = {cid: recall(sims[cid].state) for cid in ids}
    plan_due: list[list[str]] = [[] for _ in range(n_days)]
    plan_new: list[list[str]] = [[] for _ in range(n_days)]
    plan_early: list[list[str]] = [[] for _ in range(n_days)]
    load = [0] * n_days

    # The last day a new card can start: FSRS's first interval after Good must end before the
    # interview, so the card is recalled once on a later day.
    if n_days:
        first = _good_until(srs, None, at[0], ends[0])
        gap = max(1, math.ceil((first.due - at[0]) / timedelta(days=1)))
        last_new = n_days - 1 - gap
    else:
        last_new = -1
    late_new = last_new < 0 and bool(new_ids)
    last_new = max(last_new, 0)

    # 1 + 2: forward through the days: what falls due, then new cards at a steady pace.
    queue = list(new_ids)
    for d in range(n_days):
        for cid in sorted(
            (c for c, s in sims.items() if s.state is not None and s.state.due < ends[d]),
            key=lambda c: sims[c].state.due,  # type: ignore[union-attr]
        ):
            sim = sims[cid]
            sim.state = _good_until(srs, sim.state, max(at[d], sim.state.due), ends[d])  # type: ignore[union-attr]
            sim.last_day = d
            plan_due[d].append(cid)
        load[d] = len(plan_due[d])
        if queue and d <= last_new:
            days_for_new = last_new - d + 1
            done = new_today if d == 0 else 0
            pace = math.ceil((len(queue) + done) / days_for_new) - done
            wanted = max(pace, prefs.new_per_day - done)
            for cid in queue[: max(0, min(wanted, cap[d] - load[d]))]:
                sims[cid].state = _good_until(srs, None, at[d], ends[d])
                sims[cid].last_day = d
                plan_new[d].append(cid)
            queue = queue[len(plan_new[d]) :]
            load[d] += len(plan_new[d])

    # 3: one review ahead of time for each card still short of the target, latest day first.
    unfit = list(queue)  # new cards there was no room for
    at_risk = sorted(
        (c for c in ids if c not in unfit and recall(sims[c].state) < prefs.target_recall),
        key=lambda c: recall(sims[c].state),
    )
    for cid in at_risk:
        sim = sims[cid]
        placed = False
        for d in range(n_days - 1, sim.last_day, -1):
            if load[d] >= cap[d]:
                continue
            s = _good_until(srs, sim.state, at[d], ends[d])
            follow: list[int] = []
            for e in range(d + 1, n_days):
                if s.due < ends[e]:
                    s = _good_until(srs, s, max(at[e], s.due), ends[e])
                    follow.append(e)
            if any(load[e] >= cap[e] for e in follow):
                continue
            sim.state, sim.last_day = s, follow[-1] if follow else d
            plan_early[d].append(cid)
            load[d] += 1
            for e in follow:
                plan_due[e].append(cid)
                load[e] += 1
            placed = True
            break
        if not placed or recall(sim.state) < prefs.target_recall:
            unfit.append(cid)

    followed = {cid: recall(sims[cid].state) for cid in ids}
    first_day: dict[str, date] = {}
    plan_days = []
    for d in range(n_days):
        for cid in (*plan_due[d], *plan_new[d], *plan_early[d]):
            first_day.setdefault(cid, days[d])
        plan_days.append(
            DayPlan(
                day=days[d],
                due=plan_due[d],
                new=plan_new[d],
                early=plan_early[d],
                total=load[d],
                limit=cap[d],
            )
        )
    over = [days[d] for d in range(n_days) if len(plan_due[d]) > cap[d]]

    by_topic: dict[str, list[str]] = defaultdict(list)
    for cid in ids:
        by_topic[bank.questions[cid].topic].append(cid)
    n = len(ids) or 1
    readiness = Readiness(
        interview_date=prefs.interview_date,
        interview_at=interview_at,
        days_left=n_days,
        target_recall=prefs.target_recall,
        cards=len(ids),
        expected_share=sum(now_recall.values()) / n,
        expected_if_followed=sum(followed.values()) / n,
        below_target=sum(1 for v in now_recall.values() if v < prefs.target_recall),
        topics=[
            TopicReadiness(
                topic=t.id,
                cards=len(by_topic[t.id]),
                expected_recall=sum(now_recall[c] for c in by_topic[t.id]) / len(by_topic[t.id]),
                expected_if_followed=sum(followed[c] for c in by_topic[t.id]) / len(by_topic[t.id]),
                below_target=sum(1 for c in by_topic[t.id] if now_recall[c] < prefs.target_recall),
            )
            for t in bank.topics
            if by_topic.get(t.id)
        ],
    )
    status = "today" if n_days == 0 else "unfit" if unfit else "late_new" if late_new else "ok"
    if n_days == 0:
        msg = "The interview is today: nothing left to plan."
    elif unfit:
        msg = (
            f"{len(unfit)} cards do not fit: raise the daily limit, or expect them below "
            f"{prefs.target_recall:.0%} on the day."
        )
    elif late_new:
        msg = "Too close to the interview for new cards to settle: they are introduced today."
    else:
        msg = "Every card reaches the target on the day if you follow the plan."
    plan = Plan(
        interview_date=prefs.interview_date,
        daily_limit=prefs.daily_limit,
        days=plan_days,
        last_new_day=max((days[d] for d in range(n_days) if plan_new[d]), default=None),
        unfit=unfit,
        over_limit=over,
        status=status,  # type: ignore[arg-type]
        message=msg,
    )
    return Forecast(
        readiness=readiness,
        plan=plan,
        cards=[
            CardForecast(
                question_id=cid,
                topic=bank.questions[cid].topic,
                recall_on_day=now_recall[cid],
                recall_if_followed=followed[cid],
                planned=first_day.get(cid),
            )
            for cid in ids
        ],
    )


def reviewed_today(cards: dict[str, CardState], since: datetime) -> int:
    """Cards whose latest review falls in the member's current day."""
    return sum(1 for c in cards.values() if c.reps and c.last_review and c.last_review >= since)

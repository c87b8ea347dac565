"""Drill attempts: run a submission on the compute pool, store it, and schedule the drill's card.

A drill is a card (``drill:<id>``) scheduled by FSRS beside the questions: passing at the first
try since its last grade is Good, passing after failures or hints is Hard, giving up is Again.
A pass on a card that is not yet due is practice: it is stored but does not move the schedule.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from app import services
from app.compute.client import ComputePool
from app.compute.protocol import DrillJob
from app.compute.sandbox import SubmissionResult
from app.drills.harness import CaseName
from app.drills.models import Drill
from app.models import CardState, DrillAttempt
from app.srs import Grade, Srs

CARD_PREFIX = "drill:"
MAX_CODE = 20_000


def card_id(drill_id: str) -> str:
    return CARD_PREFIX + drill_id


class Submission(BaseModel):
    code: str = Field(min_length=1, max_length=MAX_CODE)
    hints_used: int = Field(0, ge=0, le=4, description="Hints revealed before this run.")


class CaseOut(CaseName):
    visible: bool
    passed: bool
    message: str
    time_ms: float


class AttemptOut(BaseModel):
    id: int
    drill_id: str
    verdict: str
    passed_cases: int
    total_cases: int
    hints_used: int
    elapsed_ms: int
    rating: int | None
    created_at: datetime


class RunDetails(BaseModel):
    """A run's details, stored with its attempt."""

    error: str | None = Field(None, description="Why the code did not load or run.")
    cases: list[CaseOut] = []
    output: str = ""
    isolation: list[str] = []


class RunOut(RunDetails):
    """What one submission came to, as the API and the page show it."""

    attempt: AttemptOut
    passed: bool
    next_due: datetime | None = None


def _verdict(res: SubmissionResult) -> tuple[str, str | None, list[CaseOut]]:
    if res.status != "ok" or res.verdict is None:
        return res.status, res.message, []
    cases = [CaseOut.model_validate(c) for c in res.verdict.get("cases", [])]
    if res.verdict.get("error"):
        return "error", res.verdict["error"], cases
    return ("passed" if res.verdict.get("passed") else "failed"), None, cases


def _since_last_grade(session: Session, user_id: int, drill_id: str) -> list[DrillAttempt]:
    rows = session.exec(
        select(DrillAttempt)
        .where(DrillAttempt.user_id == user_id, DrillAttempt.drill_id == drill_id)
        .order_by(col(DrillAttempt.id).desc())
        .limit(50)
    ).all()
    out = []
    for r in rows:
        if r.rating is not None:
            break
        out.append(r)
    return out


def _due_or_new(session: Session, user_id: int, drill_id: str, now: datetime) -> bool:
    row = session.exec(
        select(CardState).where(
            CardState.user_id == user_id, CardState.question_id == card_id(drill_id)
        )
    ).first()
    return row is None or row.reps == 0 or row.due <= now


def _grade(session, user_id, drill_id, grade: Grade, now, srs, bank) -> datetime:
    card, _ = services.submit_review(
        session,
        user_id,
        card_id(drill_id),
        grade,
        now,
        srs,
        bank=bank,
        card_ids={card_id(drill_id)},
    )
    return card.due


async def submit(
    session: Session,
    user_id: int,
    drill: Drill,
    sub: Submission,
    now: datetime,
    pool: ComputePool,
    srs: Srs,
    bank,
) -> RunOut:
    reply = await pool.submit(
        DrillJob(
            drill_id=drill.id,
            submission=sub.code,
            reference=drill.reference,
            tests=drill.tests,
            entry=drill.entry,
            wall_s=drill.time_limit_s,
        )
    )
    if reply.error is not None or reply.result_json is None:
        res = SubmissionResult(status="crashed", message=reply.message)
        if reply.error in ("busy", "unavailable"):
            raise PoolBusy(reply.message, reply.retry_after_s or 2)
    else:
        res = SubmissionResult.model_validate_json(reply.result_json)
    verdict, error, cases = _verdict(res)
    earlier = _since_last_grade(session, user_id, drill.id)
    attempt = DrillAttempt(
        user_id=user_id,
        drill_id=drill.id,
        code=sub.code,
        verdict=verdict,
        passed_cases=sum(c.passed for c in cases),
        total_cases=len(cases),
        hints_used=sub.hints_used,
        elapsed_ms=int(res.wall_ms),
        created_at=now,
    )
    details = RunDetails(error=error, cases=cases, output=res.output, isolation=res.isolation)
    attempt.details = details.model_dump_json()
    next_due = None
    if verdict == "passed" and _due_or_new(session, user_id, drill.id, now):
        struggled = sub.hints_used > 0 or any(
            a.verdict != "passed" or a.hints_used for a in earlier
        )
        attempt.rating = int(Grade.hard if struggled else Grade.good)
        next_due = _grade(session, user_id, drill.id, Grade(attempt.rating), now, srs, bank)
    session.add(attempt)
    session.commit()
    session.refresh(attempt)
    return RunOut(
        **details.model_dump(),
        attempt=AttemptOut.model_validate(attempt, from_attributes=True),
        passed=verdict == "passed",
        next_due=next_due,
    )


def give_up(
    session: Session, user_id: int, drill: Drill, now: datetime, srs: Srs, bank
) -> AttemptOut:
    """Again: the reference is shown and the drill comes back soon."""
    attempt = DrillAttempt(
        user_id=user_id,
        drill_id=drill.id,
        code="",
        verdict="gave_up",
        created_at=now,
        rating=int(Grade.again),
    )
    _grade(session, user_id, drill.id, Grade.again, now, srs, bank)
    session.add(attempt)
    session.commit()
    session.refresh(attempt)
    return AttemptOut.model_validate(attempt, from_attributes=True)


def history(session: Session, user_id: int, drill_id: str | None = None) -> list[DrillAttempt]:
    q = select(DrillAttempt).where(DrillAttempt.user_id == user_id)
    if drill_id is not None:
        q = q.where(DrillAttempt.drill_id == drill_id)
    return list(session.exec(q.order_by(col(DrillAttempt.id).desc()).limit(200)).all())


def most_overdue(
    session: Session, user_id: int, drill_ids: list[str], now: datetime
) -> tuple[str, datetime] | None:
    """The drill whose card is most overdue (id, due), for the review queue to mix in."""
    if not drill_ids:
        return None
    row = session.exec(
        select(CardState)
        .where(
            CardState.user_id == user_id,
            col(CardState.question_id).in_([card_id(d) for d in drill_ids]),
            CardState.due <= now,
            CardState.reps > 0,
            CardState.suspended == False,  # noqa: E712 (SQL, not Python)
        )
        .order_by(CardState.due)
        .limit(1)
    ).first()
    if row is None or (row.buried_until is not None and row.buried_until > now):
        return None
    return row.question_id.removeprefix(CARD_PREFIX), row.due


def attempt_of(session: Session, user_id: int, attempt_id: int) -> DrillAttempt | None:
    row = session.get(DrillAttempt, attempt_id)
    return row if row is not None and row.user_id == user_id else None


def details_of(attempt: DrillAttempt, drill: Drill | None = None) -> RunDetails | None:
    """The stored run of ``attempt``. Attempts stored before cases had Chinese names carry only
    the English ``name``: given the ``drill``, a case it still has by that name takes its
    current Chinese name; any other keeps the English."""
    if not attempt.details:
        return None
    run = RunDetails.model_validate_json(attempt.details)
    if drill is not None:
        zh = {c.name: c.name_zh for c in drill.cases}
        for c in run.cases:
            if c.name_zh is None:
                c.name_zh = zh.get(c.name)
    return run


class PoolBusy(RuntimeError):
    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s

"""Fit a member's FSRS weights to their own review log, and estimate the workload at each
desired retention. The web process only gathers the log and reads the answer: the work runs on
the compute pool (app/compute/fit.py, where fsrs's Optimizer and torch are imported).

Why fit at all: on the srs-benchmark (open-spaced-repetition/srs-benchmark, about 10,000 Anki
collections) FSRS-6 with weights fitted per user predicts recall with a clearly lower error than
with the shipped defaults. Whether that holds for *this* member is measured on their own log:
the weights are fitted on the earlier part of it and both sets are scored on the later part.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from app.compute.client import ComputePool
from app.compute.protocol import FitJob
from app.models import ReviewLog

# fsrs's Optimizer returns its defaults untouched below one mini-batch (512) of reviews it can
# learn from (fsrs/optimizer.py: mini_batch_size); we hold a fifth of the log out to score on.
MIN_TRAIN_REVIEWS = 512
TEST_SHARE = 0.2
MIN_USABLE_REVIEWS = math.ceil(MIN_TRAIN_REVIEWS / (1 - TEST_SHARE))  # 640
MAX_REVIEWS = 50_000  # newest first beyond this; keeps one fit within its time bound
FIT_TIMEOUT_S = 240.0
WORKLOAD_TIMEOUT_S = 60.0
RETENTIONS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.93, 0.95, 0.97)


class Metrics(BaseModel):
    """How well one set of weights predicts recall on the held-out (later) reviews."""

    log_loss: float = Field(
        description="Mean binary cross-entropy of predicted recall (lower is better)."
    )
    rmse_bins: float = Field(
        description="Calibration error: reviews binned by predicted recall (20 equal bins), the "
        "root mean square gap between mean prediction and actual recall rate, weighted by bin size."
    )
    reviews: int = Field(description="Held-out reviews scored.")


class FitReport(BaseModel):
    status: Literal["fitted", "kept_defaults", "too_short", "failed"]
    message: str
    reviews_total: int = Field(description="Reviews in the log, cram answers excluded.")
    reviews_usable: int = Field(
        description="Reviews FSRS can learn from: a card's review on a later day than its previous one."
    )
    reviews_needed: int = Field(0, description="How many more usable reviews a fit needs.")
    train_reviews: int = 0
    test_reviews: int = 0
    split_at: datetime | None = Field(
        None, description="Fitted on reviews before, scored on reviews after."
    )
    default: Metrics | None = None
    fitted: Metrics | None = None
    parameters: list[float] | None = Field(None, description="The fitted weights (21).")
    seconds: float = 0.0
    fitted_at: datetime | None = None


class WorkloadPoint(BaseModel):
    retention: float
    reviews_per_day: float = Field(description="Expected reviews a day for the whole bank.")
    minutes_per_day: float = Field(description="Expected study time a day for the whole bank.")
    seconds_per_card_remembered: float = Field(
        description="fsrs's simulation cost: a year's study time over the cards remembered."
    )


class WorkloadReport(BaseModel):
    points: list[WorkloadPoint]
    optimal_retention: float = Field(
        description="The retention with the least time per card remembered."
    )
    bank_size: int
    based_on_reviews: int = Field(
        description="Reviews whose grades and times shaped the simulation."
    )
    parameters: Literal["fitted", "default"]


def collect_reviews(session: Session, user_id: int) -> list[tuple[int, int, float, int | None]]:
    """The user's log as the fitter takes it: (card number, rating, unix time, ms), cram answers
    left out (they moved no schedule, so they are not the memory FSRS models), oldest first."""
    rows = session.exec(
        select(
            ReviewLog.question_id, ReviewLog.rating, ReviewLog.reviewed_at, ReviewLog.duration_ms
        )
        .where(ReviewLog.user_id == user_id, ReviewLog.cram == False)  # noqa: E712
        .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
        .limit(MAX_REVIEWS)
    ).all()
    numbers: dict[str, int] = {}
    out = []
    for qid, rating, at, ms in reversed(rows):
        n = numbers.setdefault(qid, len(numbers))
        out.append((n, int(rating), at.astimezone(UTC).timestamp(), ms))
    return out


class FitUnavailable(RuntimeError):
    def __init__(self, message: str, retry_after_s: int | None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


async def fit_on_pool(pool: ComputePool, reviews: list, now: datetime) -> FitReport:
    reply = await pool.submit(FitJob(task="fit", reviews=reviews, timeout_s=FIT_TIMEOUT_S))
    if reply.error is not None or reply.result_json is None:
        raise FitUnavailable(reply.message or "the fit did not finish", reply.retry_after_s)
    report = FitReport.model_validate_json(reply.result_json)
    return report.model_copy(update={"fitted_at": now})


async def workload_on_pool(
    pool: ComputePool, reviews: list, parameters: list[float], bank_size: int
) -> list[WorkloadPoint] | None:
    reply = await pool.submit(
        FitJob(
            task="workload",
            reviews=reviews,
            parameters=parameters,
            bank_size=bank_size,
            timeout_s=WORKLOAD_TIMEOUT_S,
        )
    )
    if reply.error is not None or reply.result_json is None:
        raise FitUnavailable(reply.message or "the simulation did not finish", reply.retry_after_s)
    return [WorkloadPoint.model_validate(p) for p in json.loads(reply.result_json)]

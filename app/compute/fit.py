"""The worker's side of a FitJob: fsrs's own Optimizer (which imports torch) fits a member's
weights; fsrs's simulator estimates the workload at each desired retention. Imported only in a
compute worker (app/compute/worker.py), never in the web process.

The fit is scored the way the srs-benchmark scores FSRS (open-spaced-repetition/srs-benchmark):
predicted recall against what happened, on reviews later than every review the weights were
fitted on, so a fit that merely memorised the log does not pass.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from datetime import UTC, datetime

from app.compute.protocol import FitJob, JobReply
from app.study.fitting import (
    MIN_TRAIN_REVIEWS,
    MIN_USABLE_REVIEWS,
    RETENTIONS,
    TEST_SHARE,
    FitReport,
    Metrics,
    WorkloadPoint,
)

Review = tuple[int, int, float, int | None]
BINS = 20
EPS = 1e-6
# Used when the log has no timing for a grade yet (no JavaScript, or an empty log): seconds a
# first look and a later review of an interview question take, roughly.
FIRST_LOOK_S = 30.0
REVIEW_S = 15.0
SIMULATED_CARDS = 150
COUNT_UNIT = 1e7  # seconds: far above any year of one card's study time


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _histories(reviews: list[Review]) -> dict[int, list[Review]]:
    by_card: dict[int, list[Review]] = defaultdict(list)
    for r in reviews:
        by_card[r[0]].append(r)
    for h in by_card.values():
        h.sort(key=lambda r: r[2])
    return dict(by_card)


def _usable_times(histories: dict[int, list[Review]]) -> list[float]:
    """Times of the reviews FSRS learns from: at least one whole day after the card's previous
    review (the Optimizer's own rule; same-day steps carry no long-term memory signal)."""
    out = []
    for h in histories.values():
        for prev, cur in zip(h, h[1:], strict=False):
            if (_dt(cur[2]) - _dt(prev[2])).days > 0:
                out.append(cur[2])
    return sorted(out)


def evaluate(parameters: list[float], histories: dict[int, list[Review]], since: float) -> Metrics:
    """Replay every card's whole history with ``parameters`` and score the predicted recall of
    each usable review at or after ``since``: log-loss and binned calibration RMSE."""
    from fsrs import Card, Rating, Scheduler

    sched = Scheduler(parameters=parameters, enable_fuzzing=False)
    preds: list[tuple[float, int]] = []
    for h in histories.values():
        card = Card(card_id=0, due=_dt(h[0][2]))
        for _, rating, ts, _ms in h:
            at = _dt(ts)
            if ts >= since and card.last_review is not None and (at - card.last_review).days > 0:
                preds.append((float(sched.get_card_retrievability(card, at)), int(rating > 1)))
            card, _ = sched.review_card(card, Rating(rating), at)
    n = len(preds)
    if n == 0:
        return Metrics(log_loss=math.nan, rmse_bins=math.nan, reviews=0)
    loss = -sum(
        math.log(min(max(p, EPS), 1 - EPS)) if y else math.log(1 - min(max(p, EPS), 1 - EPS))
        for p, y in preds
    )
    bins: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for p, y in preds:
        bins[min(int(p * BINS), BINS - 1)].append((p, y))
    sq = sum(
        len(b) * (sum(p for p, _ in b) / len(b) - sum(y for _, y in b) / len(b)) ** 2
        for b in bins.values()
    )
    return Metrics(log_loss=loss / n, rmse_bins=math.sqrt(sq / n), reviews=n)


def fit(reviews: list[Review]) -> FitReport:
    t0 = time.perf_counter()
    histories = _histories(reviews)
    usable = _usable_times(histories)
    base = {"reviews_total": len(reviews), "reviews_usable": len(usable)}
    if len(usable) < MIN_USABLE_REVIEWS:
        need = MIN_USABLE_REVIEWS - len(usable)
        return FitReport(
            status="too_short",
            message=f"{need} more reviews of cards seen on an earlier day are needed: "
            f"{MIN_TRAIN_REVIEWS} to fit on and a fifth more to check the fit on.",
            reviews_needed=need,
            **base,
        )
    split = usable[int(len(usable) * (1 - TEST_SHARE))]
    train = [r for r in reviews if r[2] < split]
    from fsrs import Rating, ReviewLog
    from fsrs.optimizer import Optimizer

    from app.srs import DEFAULT_PARAMETERS, valid_parameters

    logs = [ReviewLog(c, Rating(g), _dt(ts), ms) for c, g, ts, ms in train]
    try:
        fitted = [float(w) for w in Optimizer(logs).compute_optimal_parameters()]
    except ImportError as e:  # fsrs installed without its optimizer extra
        return FitReport(status="failed", message=str(e).splitlines()[0], **base)
    default_m = evaluate(list(DEFAULT_PARAMETERS), histories, split)
    fitted_m = evaluate(fitted, histories, split)
    common = {
        **base,
        "train_reviews": sum(1 for t in usable if t < split),
        "test_reviews": default_m.reviews,
        "split_at": _dt(split),
        "default": default_m,
        "fitted": fitted_m,
        "seconds": time.perf_counter() - t0,
    }
    better = valid_parameters(fitted) and fitted_m.log_loss < default_m.log_loss
    if not better:
        return FitReport(
            status="kept_defaults",
            message="The fitted weights did not predict your later reviews better than the "
            "defaults, so the defaults stay.",
            **common,
        )
    return FitReport(
        status="fitted",
        message="Your own weights predict your later reviews better than the defaults: every "
        "schedule from now on uses them.",
        parameters=fitted,
        **common,
    )


def _probs_and_costs(reviews: list[Review]) -> dict[str, float]:
    """What fsrs's simulator needs from a log (the Optimizer's _compute_probs_and_costs, without
    pandas): how the first grade and later successful grades are spread, and seconds per grade.
    Missing timings and an empty log fall back to typical values."""
    histories = _histories(reviews)
    first = [h[0] for h in histories.values()]
    later = [r for h in histories.values() for r in h[1:]]

    def spread(
        rows: list[Review], grades: tuple[int, ...], prior: tuple[float, ...]
    ) -> list[float]:
        counts = [sum(1 for r in rows if r[1] == g) + p for g, p in zip(grades, prior, strict=True)]
        total = sum(counts)
        return [c / total for c in counts]

    def seconds(rows: list[Review], grade: int, fallback: float) -> float:
        ms = [r[3] for r in rows if r[1] == grade and r[3]]
        return sum(ms) / len(ms) / 1000 if ms else fallback

    # A light prior (one review's worth) keeps a short log from making a grade impossible.
    fa, fh, fg, fe = spread(first, (1, 2, 3, 4), (0.2, 0.2, 0.5, 0.1))
    h, g, e = spread([r for r in later if r[1] > 1], (2, 3, 4), (0.15, 0.75, 0.1))
    d = {
        "prob_first_again": fa,
        "prob_first_hard": fh,
        "prob_first_good": fg,
        "prob_first_easy": fe,
        "prob_hard": h,
        "prob_good": g,
        "prob_easy": e,
    }
    for name, grade in (("again", 1), ("hard", 2), ("good", 3), ("easy", 4)):
        d[f"avg_first_{name}_review_duration"] = seconds(first, grade, FIRST_LOOK_S)
        d[f"avg_{name}_review_duration"] = seconds(later, grade, REVIEW_S)
    return d


def workload(reviews: list[Review], parameters: list[float], bank_size: int) -> list[WorkloadPoint]:
    """fsrs's own year-long simulation (the one compute_optimal_retention minimises) at each
    retention, run once per retention for both time and count: every grade costs its seconds
    plus COUNT_UNIT, so the total's multiple of COUNT_UNIT is the number of reviews and the rest
    the seconds (seconds stay far below COUNT_UNIT, and doubles hold both parts exactly enough)."""
    from fsrs.optimizer import Optimizer

    sim = Optimizer([])
    timed = _probs_and_costs(reviews)
    both = {k: (v + COUNT_UNIT if "duration" in k else v) for k, v in timed.items()}
    out = []
    for r in RETENTIONS:
        # _simulate_cost divides the total by the cards remembered (retention × cards).
        total = (
            r
            * SIMULATED_CARDS
            * sim._simulate_cost(
                desired_retention=r,
                parameters=parameters,
                num_cards_simulate=SIMULATED_CARDS,
                probs_and_costs_dict=both,
            )
        )
        count = round(total / COUNT_UNIT)
        secs = total - count * COUNT_UNIT
        per_card_year = count / SIMULATED_CARDS
        out.append(
            WorkloadPoint(
                retention=r,
                reviews_per_day=per_card_year * bank_size / 365,
                minutes_per_day=secs / SIMULATED_CARDS * bank_size / 365 / 60,
                seconds_per_card_remembered=secs / (r * SIMULATED_CARDS),
            )
        )
    return out


def run_fit(job: FitJob) -> JobReply:
    t0 = time.perf_counter()
    if job.task == "fit":
        body = fit(job.reviews).model_dump_json()
    else:
        from app.srs import DEFAULT_PARAMETERS

        params = job.parameters or list(DEFAULT_PARAMETERS)
        body = json.dumps([p.model_dump() for p in workload(job.reviews, params, job.bank_size)])
    return JobReply(result_json=body, compute_ms=(time.perf_counter() - t0) * 1000)

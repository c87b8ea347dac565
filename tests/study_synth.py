"""A synthetic review log from a known memory model, for the fitting tests.

The app schedules with FSRS's default weights (as it does for a member who never fitted); the
member's real memory follows other, known weights. At each review the member recalls with the
probability the *true* weights give, and grades Again on a lapse, else Hard/Good/Easy.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler

# A member who forgets much faster than the defaults assume: tiny first stabilities, slow
# stability growth after a success (w8), a steep forgetting curve (w20). All within FSRS-6's
# bounds. At the due dates the default weights pick (90% predicted), this member recalls far
# less, so the defaults are measurably wrong for them and a fit has something to find.
TRUE_WEIGHTS = (
    0.02, 0.06, 0.25, 1.0, 6.4133, 0.8334, 3.0194, 0.001, 0.6, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.7,
)  # fmt: skip


def synthetic_log(
    n_cards: int, days: int, seed: int = 7, start: datetime | None = None
) -> list[tuple[str, int, datetime]]:
    """(card id, rating, time) for ``n_cards`` introduced a few a day and reviewed when the app's
    default scheduler says they are due, for ``days`` days."""
    rng = random.Random(seed)
    start = start or datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    app = Scheduler(enable_fuzzing=False)
    true = Scheduler(parameters=TRUE_WEIGHTS, enable_fuzzing=False)
    per_day = max(1, n_cards // max(1, days // 3))
    app_cards: dict[str, Card] = {}
    true_cards: dict[str, Card] = {}
    log: list[tuple[str, int, datetime]] = []
    introduced = 0
    for day in range(days):
        base = start + timedelta(days=day)
        for k in range(per_day):
            if introduced < n_cards:
                cid = f"syn-{introduced:04d}"
                app_cards[cid] = Card(card_id=introduced, due=base + timedelta(minutes=k))
                true_cards[cid] = Card(card_id=introduced, due=base)
                introduced += 1
        # Several passes a day: learning steps come back within minutes.
        for sitting in range(4):
            at = base + timedelta(hours=sitting * 3, minutes=rng.randint(0, 30))
            for cid in sorted(app_cards):
                if app_cards[cid].due > at:
                    continue
                p = true.get_card_retrievability(true_cards[cid], at)
                if true_cards[cid].last_review is None:
                    p = 0.7  # a first look: most answers are half right
                rating = rng.choices([2, 3, 4], weights=[15, 70, 15])[0] if rng.random() < p else 1
                app_cards[cid], _ = app.review_card(app_cards[cid], Rating(rating), at)
                true_cards[cid], _ = true.review_card(true_cards[cid], Rating(rating), at)
                log.append((cid, rating, at))
                at += timedelta(seconds=40)
    return log

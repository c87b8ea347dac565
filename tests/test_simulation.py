"""Thirty days of study through the API, on a fixed clock, give exactly the schedule the `fsrs`
library computes directly for the same grades at the same times."""

from __future__ import annotations

import random
from datetime import timedelta

from fsrs import Card, Rating, Scheduler

QUESTIONS = ["soul-04-fixture-scaling", "alpha-two", "beta-one"]


def test_thirty_days_match_fsrs_directly(client, clock, settings):
    reference = Scheduler(desired_retention=settings.desired_retention, enable_fuzzing=False)
    start = clock.now
    cards = {q: Card(due=start) for q in QUESTIONS}  # new cards, due at once
    rng = random.Random(30)
    reviews = 0
    for day in range(30):
        for hour in (9, 21):  # two sittings a day: whatever is due then gets graded
            clock.now = start + timedelta(days=day, hours=hour - 9)
            for q in QUESTIONS:
                if cards[q].due > clock.now:
                    continue
                grade = rng.choices([1, 2, 3, 4], weights=[1, 2, 6, 2])[0]
                cards[q], _ = reference.review_card(cards[q], Rating(grade), clock.now)
                r = client.post("/api/reviews", json={"question_id": q, "rating": grade})
                assert r.status_code == 201, r.text
                got = r.json()["card"]
                assert got["due"] == cards[q].due.isoformat().replace("+00:00", "Z"), (day, q)
                assert got["stability"] == cards[q].stability
                assert got["difficulty"] == cards[q].difficulty
                reviews += 1
    assert reviews >= 15  # early learning steps, then intervals that grow with each success
    for q in QUESTIONS:
        api_card = client.get(f"/api/cards/{q}").json()
        assert api_card["stability"] == cards[q].stability
        assert (
            api_card["state"] == {1: "learning", 2: "review", 3: "relearning"}[int(cards[q].state)]
        )

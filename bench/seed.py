"""Seed a database with a study history for the benchmark, straight into the tables.

    python bench/seed.py DATABASE_URL {empty,year,busy} [--bank questions]

- ``empty``: the migrated schema and the local user, nothing studied.
- ``year``: a year of daily study by the local user: every question of the bank has a card, about
  30,000 reviews spread over the 365 days before today (none today), a fifth of the cards due now.
- ``busy``: ``year`` plus 1,000 reviews made today, five of them first sightings of a card.

Rows go in with multi-row INSERTs (a second or two), not through the API (which would take
minutes and is what the benchmark measures).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
# --app-dir: seed with another checkout's code and migrations (bench/http_load.py --variant).
_app = sys.argv[sys.argv.index("--app-dir") + 1] if "--app-dir" in sys.argv else str(ROOT)
sys.path.insert(0, _app)

from sqlmodel import Session  # noqa: E402

from app.bank.loader import load_bank  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, migrate  # noqa: E402
from app.models import CardState, ReviewLog  # noqa: E402
from app.services import ensure_local_user  # noqa: E402

History = Literal["empty", "year", "busy"]
HISTORIES: tuple[History, ...] = ("empty", "year", "busy")
YEAR_REVIEWS = 30_000
TODAY_REVIEWS = 1_000
TODAY_NEW = 5


def _card_json(rng: random.Random, at: datetime, reps: int) -> str:
    """A valid FSRS review card as ``review_log.card_before`` stores it (undo restores it)."""
    stability = round(rng.uniform(1.0, 200.0), 3)
    return json.dumps(
        {
            "state": 2,
            "step": None,
            "stability": stability,
            "difficulty": round(rng.uniform(2.0, 8.0), 3),
            "due": (at + timedelta(days=max(1.0, stability / 3))).isoformat(),
            "last_review": (at - timedelta(days=rng.uniform(1, 20))).isoformat(),
            "reps": reps,
            "lapses": 0,
        }
    )


def _chunks(rows: Sequence[dict[str, Any]], n: int = 1000) -> Iterator[Sequence[dict[str, Any]]]:
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def seed(db_url: str, history: History, bank_dir: Path, now: datetime | None = None) -> int:
    """Migrate ``db_url``, create the local user and give it ``history``; the reviews written."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    engine = make_engine(Settings(database_url=db_url))
    migrate(engine)
    qids = sorted(load_bank(bank_dir).questions)
    rng = random.Random(17)
    with Session(engine) as session:
        user_id = ensure_local_user(session).id
    if history == "empty":
        engine.dispose()
        return 0
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    reviews: list[dict[str, Any]] = []
    # The year: the first review of each card is its first sighting (card_before NULL), spread
    # over the year's first weeks; every later one carries the card as it was.
    first_seen = {
        q: midnight - timedelta(days=365 - i % 60, hours=rng.uniform(1, 20))
        for i, q in enumerate(qids)
    }
    for q, at in first_seen.items():
        reviews.append(_review(user_id, q, at, None, rng))
    for i in range(YEAR_REVIEWS - len(qids)):
        q = qids[i % len(qids)]
        start = first_seen[q]
        at = start + (midnight - start) * rng.random() * 0.999
        reviews.append(_review(user_id, q, at, _card_json(rng, at, 2 + i // len(qids)), rng))
    if history == "busy":
        span = max(60.0, (now - midnight).total_seconds() - 1)
        for i in range(TODAY_REVIEWS):
            q = qids[i % len(qids)]
            at = midnight + timedelta(seconds=span * (i + 1) / (TODAY_REVIEWS + 1))
            before = None if i < TODAY_NEW else _card_json(rng, at, 3 + i)
            reviews.append(_review(user_id, q, at, before, rng))
    reviews.sort(key=lambda r: r["reviewed_at"])
    per_card = len(reviews) // max(1, len(qids))
    cards = []
    for i, q in enumerate(qids):
        # A fifth of the cards due now (overdue by up to a week), the rest within two months.
        due = (
            now - timedelta(hours=rng.uniform(1, 168))
            if i % 5 == 0
            else now + timedelta(days=rng.uniform(1, 60))
        )
        cards.append(
            dict(
                user_id=user_id,
                question_id=q,
                state=2,
                step=None,
                stability=round(rng.uniform(5.0, 300.0), 3),
                difficulty=round(rng.uniform(2.0, 8.0), 3),
                due=due,
                last_review=now - timedelta(days=rng.uniform(1, 30)),
                reps=per_card,
                lapses=rng.randint(0, 3),
                suspended=False,
                buried_until=None,
            )
        )
    with engine.begin() as conn:
        for chunk in _chunks(cards):
            conn.execute(insert(CardState.__table__), list(chunk))
        for chunk in _chunks(reviews):
            conn.execute(insert(ReviewLog.__table__), list(chunk))
    engine.dispose()
    return len(reviews)


def _review(
    user_id: int | None, q: str, at: datetime, before: str | None, rng: random.Random
) -> dict[str, Any]:
    return dict(
        user_id=user_id,
        question_id=q,
        rating=rng.choice((1, 3, 3, 3, 4)),
        reviewed_at=at,
        duration_ms=rng.randint(2000, 40000),
        card_before=before,
        due_after=at + timedelta(days=rng.uniform(1, 30)),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db_url")
    ap.add_argument("history", choices=HISTORIES)
    ap.add_argument("--bank", type=Path, default=ROOT / "questions")
    ap.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose code seeds")
    args = ap.parse_args()
    n = seed(args.db_url, args.history, args.bank)
    print(f"{args.history}: {n} reviews")


if __name__ == "__main__":
    main()

"""Several uvicorn workers on one SQLite file: no lost reviews under concurrent load, and nothing
acknowledged is lost when the server is killed with SIGKILL mid-load."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.srs import CardSnapshot, Grade, Srs
from tests.conftest import FIXTURE_BANK
from tests.live import LiveServer, csrf_client

pytestmark = pytest.mark.slow


def _fixture_ids() -> list[str]:
    import yaml

    ids = []
    for f in sorted(FIXTURE_BANK.glob("*.yaml")):
        ids += [q["id"] for q in yaml.safe_load(f.read_text())["questions"]]
    return ids


def _review(client: httpx.Client, rng: random.Random, ids: list[str]) -> httpx.Response:
    body = {"question_id": rng.choice(ids), "rating": rng.randint(1, 4)}
    for _ in range(20):
        r = client.post("/api/reviews", json=body)
        if r.status_code != 503:  # 503 = lost an optimistic race 8 times; the client retries
            return r
        time.sleep(0.05)
    return r


def _db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "quiz.db")


def assert_cards_replay(con: sqlite3.Connection) -> int:
    """Every card's stored state equals its review log replayed through FSRS, in log order: no
    review was lost or applied twice, whatever the interleaving."""
    srs = Srs(desired_retention=0.9, fuzz=False)

    def ts(s: str) -> datetime:  # SQLite holds naive UTC text
        return datetime.fromisoformat(s).replace(tzinfo=UTC)

    cards = con.execute(
        "SELECT user_id, question_id, state, stability, difficulty, due, reps FROM card_state"
    ).fetchall()
    for user_id, qid, state, stability, difficulty, due, reps in cards:
        logs = con.execute(
            "SELECT rating, reviewed_at, due_after FROM review_log "
            "WHERE user_id=? AND question_id=? ORDER BY id",
            (user_id, qid),
        ).fetchall()
        assert len(logs) == reps, (qid, len(logs), reps)
        card: CardSnapshot | None = None
        for rating, reviewed_at, due_after in logs:
            card = srs.review(card, Grade(rating), ts(reviewed_at))
            assert card.due == ts(due_after), qid
        assert card is not None
        assert (card.state, card.due) == (state, ts(due)), qid
        assert card.stability == pytest.approx(stability, rel=1e-12)
        assert card.difficulty == pytest.approx(difficulty, rel=1e-12)
    return len(cards)


def test_concurrent_reviews_from_many_clients_lose_nothing(tmp_path: Path):
    n_clients, m_reviews = 8, 12
    ids = _fixture_ids()
    statuses: list[int] = []
    lock = threading.Lock()
    with LiveServer(tmp_path, FIXTURE_BANK, workers=3) as server:

        def client_run(i: int) -> None:
            rng = random.Random(i)
            with csrf_client(server.url, timeout=30) as c:
                for _ in range(m_reviews):
                    code = _review(c, rng, ids).status_code
                    with lock:
                        statuses.append(code)

        threads = [threading.Thread(target=client_run, args=(i,)) for i in range(n_clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with csrf_client(server.url) as c:
            listed = c.get("/api/reviews", params={"limit": 1000}).json()

    assert statuses.count(201) == n_clients * m_reviews, sorted(set(statuses))
    assert len(listed) == n_clients * m_reviews
    with _db(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM review_log").fetchone()[0] == n_clients * m_reviews
        assert assert_cards_replay(con) == len(ids)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sigkill_mid_load_loses_no_acknowledged_review(tmp_path: Path):
    ids = _fixture_ids()
    acked: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    server = LiveServer(tmp_path, FIXTURE_BANK, workers=2).start()
    try:

        def client_run(i: int) -> None:
            rng = random.Random(100 + i)
            with csrf_client(server.url, timeout=10) as c:
                while not stop.is_set():
                    try:
                        r = _review(c, rng, ids)
                    except httpx.HTTPError:
                        return  # the server is gone: an unanswered review was never acknowledged
                    if r.status_code == 201:
                        with lock:
                            acked.append(r.json()["review_id"])

        threads = [threading.Thread(target=client_run, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # SIGKILL to the supervisor and every worker, mid-load
        stop.set()
        for t in threads:
            t.join()
    finally:
        server.kill()

    assert len(acked) >= 60
    with _db(tmp_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in con.execute("SELECT id FROM review_log")}
        assert set(acked) <= stored, sorted(set(acked) - stored)
        assert_cards_replay(con)

    # The restarted server recovers the WAL and serves every acknowledged review.
    with LiveServer(tmp_path, FIXTURE_BANK, workers=1) as again, csrf_client(again.url) as c:
        listed = {r["id"] for r in c.get("/api/reviews", params={"limit": 1000}).json()}
        assert set(acked) <= listed
        assert c.post("/api/reviews", json={"question_id": ids[0], "rating": 3}).status_code == 201

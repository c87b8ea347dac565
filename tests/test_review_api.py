"""Scheduling through the API: FSRS moves due dates, the log is append-only, progress survives."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.main import create_app
from app.models import ReviewLog

QID = "soul-04-fixture-scaling"


def review(client, qid=QID, rating="good"):
    r = client.post("/api/reviews", json={"question_id": qid, "rating": rating})
    assert r.status_code == 201, r.text
    return r.json()


def due_of(body) -> datetime:
    return datetime.fromisoformat(body["card"]["due"])


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    for path in [
        "/api/topics",
        "/api/questions",
        "/api/questions/{question_id}",
        "/api/next",
        "/api/reviews",
        "/api/progress",
        "/api/undo",
        "/api/demos",
        "/api/demos/{demo_id}",
    ]:
        assert path in spec["paths"], path
    ok = spec["paths"]["/api/reviews"]["post"]["responses"]["201"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/ReviewOut")


def test_new_card_then_good_moves_due_forward(client, clock):
    nxt = client.get("/api/next").json()
    assert nxt["question"]["id"] == QID and nxt["is_new"]
    assert set(nxt["intervals"]) == {"again", "hard", "good", "easy"}
    body = review(client, rating="good")
    assert body["card"]["state"] == "learning"
    assert due_of(body) - clock.now == timedelta(minutes=10)  # fsrs's second learning step
    clock.advance(minutes=10)
    body = review(client, rating="good")
    assert body["card"]["state"] == "review"
    assert due_of(body) - clock.now >= timedelta(days=1)
    first_interval = due_of(body) - clock.now
    clock.now = due_of(body)
    body = review(client, rating="good")
    assert due_of(body) - clock.now > first_interval  # intervals grow with each success


def test_again_keeps_the_card_near(client, clock):
    body = review(client, rating="again")
    assert due_of(body) - clock.now <= timedelta(minutes=1)
    # A review card that lapses comes back within minutes, not days.
    review(client, rating="easy")
    clock.now = due_of({"card": client.get(f"/api/cards/{QID}").json()})
    body = review(client, rating="again")
    assert body["card"]["state"] == "relearning"
    assert due_of(body) - clock.now <= timedelta(minutes=10)
    assert body["card"]["lapses"] == 1


def test_due_card_is_served_before_new_ones(client, clock):
    review(client, QID, "good")
    clock.advance(minutes=11)
    nxt = client.get("/api/next").json()
    assert nxt["question"]["id"] == QID and not nxt["is_new"] and nxt["due_count"] == 1


def test_new_card_daily_limit(client, app):
    app.state.settings.new_per_day = 1
    review(client, QID, "easy")
    assert client.get("/api/next").json()["question"] is None
    assert client.get("/api/next").json()["new_left_today"] == 0


def test_topic_filter_on_next(client):
    assert client.get("/api/next", params={"topic": "beta"}).json()["question"]["id"] == "beta-one"


def test_unknown_question_is_404_and_bad_rating_422(client):
    assert client.post("/api/reviews", json={"question_id": "nope", "rating": 3}).status_code == 404
    r = client.post("/api/reviews", json={"question_id": QID, "rating": 5})
    assert r.status_code == 422


def test_review_log_is_append_only(client, app):
    review(client, QID, "good")
    review(client, QID, "hard")
    with Session(app.state.engine) as s:
        logs = s.exec(select(ReviewLog).order_by(ReviewLog.id)).all()
        assert [log.rating for log in logs] == [3, 2]
        assert logs[0].card_before is None and logs[1].card_before is not None
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            s.execute(sa.text("UPDATE review_log SET rating = 4"))
            s.commit()
    # No API route rewrites history.
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        if "review" in path:
            assert not {"put", "patch", "delete"} & set(ops), path


def test_undo_restores_card_and_removes_log(client, app):
    review(client, QID, "good")
    before = client.get(f"/api/cards/{QID}").json()
    review(client, QID, "again")
    r = client.post("/api/undo").json()
    assert r["undone"] and r["question_id"] == QID
    assert client.get(f"/api/cards/{QID}").json() == before
    with Session(app.state.engine) as s:
        assert len(s.exec(select(ReviewLog)).all()) == 1
    client.post("/api/undo")
    assert client.get(f"/api/cards/{QID}").json()["state"] == "new"
    assert client.post("/api/undo").json() == {"undone": False, "question_id": None, "card": None}


def test_suspend_and_bury_hold_cards_out_of_the_queue(client, clock):
    assert client.post(f"/api/cards/{QID}/hold", json={"action": "suspend"}).json()["suspended"]
    assert client.get("/api/next").json()["question"]["id"] != QID
    client.post(f"/api/cards/{QID}/hold", json={"action": "unsuspend"})
    assert client.get("/api/next").json()["question"]["id"] == QID
    client.post(f"/api/cards/{QID}/hold", json={"action": "bury"})
    assert client.get("/api/next").json()["question"]["id"] != QID
    clock.advance(days=1)
    assert client.get("/api/next").json()["question"]["id"] == QID


def test_progress_counts(client):
    review(client, QID, "good")
    p = client.get("/api/progress").json()
    assert (p["total"], p["seen"], p["new"], p["reviews"]) == (3, 1, 2, 1)
    alpha = next(t for t in p["topics"] if t["id"] == "alpha")
    assert (alpha["total"], alpha["seen"]) == (2, 1)


def test_restart_keeps_progress(settings, clock):
    app1 = create_app(settings)
    app1.state.clock = clock
    with TestClient(app1) as c:
        body = review(c, QID, "good")
    app1.state.engine.dispose()
    app2 = create_app(settings)
    with TestClient(app2) as c:
        card = c.get(f"/api/cards/{QID}").json()
        assert card["state"] == "learning" and card["due"] == body["card"]["due"]
        assert c.get("/api/progress").json()["reviews"] == 1
    app2.state.engine.dispose()


def test_questions_api_filters(client):
    ids = [q["id"] for q in client.get("/api/questions", params={"soul": True}).json()]
    assert ids == [QID]
    full = client.get(f"/api/questions/{QID}").json()
    assert full["answer"]["en"].startswith("Because") and full["card"]["state"] == "new"
    assert client.get("/api/questions/missing").status_code == 404

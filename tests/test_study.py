"""Quiz scoring, mock-interview self-grading, statistics."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app import quiz
from app.bank.loader import load_bank
from app.srs import Grade
from app.stats import streak_from_days
from tests.conftest import REAL_BANK

QID = "soul-04-fixture-scaling"  # 3 options, option 0 correct


def _token(client) -> str:
    return client.cookies.get("tq_csrf")


def _reviews(client) -> list[dict]:
    return client.get("/api/reviews").json()


def test_quiz_start_picks_only_multiple_choice_questions(client):
    r = client.get("/quiz/start?n=10", follow_redirects=False)
    assert r.status_code == 303
    ids = re.search(r"ids=([^&]+)", r.headers["location"]).group(1).split(",")
    assert ids == [QID]  # the only fixture question with choices


def test_right_answer_scores_and_records_nothing(client):
    r = client.post(
        "/quiz/q", data={"csrf_token": _token(client), "ids": QID, "i": "0", "choice": "0"}
    )
    assert r.status_code == 200
    assert 'id="quiz-verdict"' in r.text and "verdict ok" in r.text
    assert 'id="quiz-score">1<' in r.text
    assert f"/quiz/q?ids={QID}&i=1&a=0" in r.text.replace("&amp;", "&")  # "next" carries it
    assert _reviews(client) == []  # quiz luck must not stretch intervals


def test_wrong_answer_schedules_the_card_with_again(client, clock):
    r = client.post(
        "/quiz/q", data={"csrf_token": _token(client), "ids": QID, "i": "0", "choice": "1"}
    )
    assert "verdict bad" in r.text and 'id="quiz-score">0<' in r.text
    logs = _reviews(client)
    assert [(x["question_id"], x["rating"]) for x in logs] == [(QID, 1)]
    card = client.get(f"/api/cards/{QID}").json()
    due = datetime.fromisoformat(card["due"].replace("Z", "+00:00"))
    assert due - clock.now <= timedelta(minutes=10)  # back within minutes, not days


def test_reloading_the_feedback_page_records_nothing_more(client):
    """The answer's POST redirects to a GET of its feedback (Post/Redirect/Get): a reload, or
    the browser's back and forward, shows the same verdict and writes no second review."""
    r = client.post(
        "/quiz/q",
        data={"csrf_token": _token(client), "ids": QID, "i": "0", "choice": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    feedback = r.headers["location"]
    assert feedback == f"/quiz/q?ids={QID}&i=0&a=1"
    for _ in range(3):
        page = client.get(feedback)
        assert page.status_code == 200 and "verdict bad" in page.text
    assert len(_reviews(client)) == 1


def test_quiz_done_counts_the_score_from_the_answers_not_the_url(client):
    r = client.get(f"/quiz/done?ids={QID}&a=0")
    assert r.status_code == 200 and "1 / 1" in r.text
    # A score in the address is ignored: only the answers count.
    r = client.get(f"/quiz/done?ids={QID}&a=1&right=1")
    assert "0 / 1" in r.text
    # The summary marks the question missed and links to it.
    li = re.search(r'<li class="(\w+)" data-question="([^"]+)">(.*?)</li>', r.text, re.S)
    assert li.group(1) == "missed" and li.group(2) == QID and f'href="/q/{QID}"' in li.group(3)


def test_quiz_refuses_unknown_or_tampered_state(client):
    assert client.get("/quiz/q?ids=nope&i=0").status_code == 404
    assert client.get(f"/quiz/q?ids={QID}&a=0-1-2").status_code == 422  # more answers than qs
    r = client.post("/quiz/q", data={"csrf_token": _token(client), "ids": QID, "i": "5"})
    assert r.status_code == 422


def test_multi_answer_needs_exactly_the_right_set():
    bank = load_bank(REAL_BANK)
    q = next(q for q in bank.questions.values() if q.multi_answer)
    right = {i for i, c in enumerate(q.choices) if c.correct}
    assert quiz.is_correct(q, right)
    assert not quiz.is_correct(q, set(list(right)[:1]))  # only part of the answer
    wrong = next(i for i, c in enumerate(q.choices) if not c.correct)
    assert not quiz.is_correct(q, right | {wrong})


@pytest.mark.parametrize(
    ("hit", "total", "grade"),
    [
        (0, 3, Grade.again),
        (1, 4, Grade.again),
        (1, 3, Grade.hard),
        (2, 4, Grade.hard),
        (2, 3, Grade.good),
        (3, 4, Grade.good),
        (3, 3, Grade.easy),
    ],
)
def test_self_grade_mapping(hit, total, grade):
    assert quiz.grade_from_points(hit, total) is grade


def test_weak_topics_weakest_first():
    w = quiz.weak_topics([("a", 1.0), ("b", 0.2), ("a", 0.5), ("c", 0.6)])
    assert [(x.topic, round(x.share, 2)) for x in w] == [("b", 0.2), ("c", 0.6), ("a", 0.75)]


def test_mock_interview_end_to_end(client, clock):
    r = client.get("/mock/start?n=2&seconds=60", follow_redirects=False)
    assert r.status_code == 303
    r = client.get(r.headers["location"])
    ids = re.search(r'name="ids" value="([^"]+)"', r.text).group(1)
    started = re.search(r'name="started" value="([^"]+)"', r.text).group(1)
    assert 'data-seconds="60"' in r.text
    clock.advance(seconds=42)
    tok = _token(client)
    r = client.post(
        "/mock/q",
        data={
            "csrf_token": tok,
            "ids": ids,
            "i": "0",
            "seconds": "60",
            "started": started,
            "answer": "first",
        },
    )
    started = re.search(r'name="started" value="([^"]+)"', r.text).group(1)
    assert re.search(r'name="elapsed" value="42"', r.text)  # timed by the server, not the browser
    clock.advance(seconds=10)
    r = client.post(
        "/mock/q",
        data={
            "csrf_token": tok,
            "ids": ids,
            "i": "1",
            "seconds": "60",
            "started": started,
            "answer": ["first", ""],
            "elapsed": ["42"],
        },
    )
    assert 'id="mock-grade"' in r.text and "first" in r.text
    a, b = ids.split(",")
    r = client.post(
        "/mock/grade",
        data={
            "csrf_token": tok,
            "ids": ids,
            f"kp-{a}": ["0", "1", "2", "99"],
            "elapsed": ["42", "10"],
        },
    )
    assert r.status_code == 200 and 'id="weak-topics"' in r.text
    ratings = {x["question_id"]: x["rating"] for x in _reviews(client)}
    assert ratings[b] == Grade.again  # nothing ticked
    assert ratings[a] in (Grade.good, Grade.easy)  # 3 of its points ticked (the bogus 99 ignored)
    assert "0:52" in r.text  # time used
    # The summary is a GET (Post/Redirect/Get): reloading it grades nothing again.
    assert len(r.history) == 1 and r.history[0].status_code == 303
    again = client.get(str(r.url))
    assert again.status_code == 200 and 'id="weak-topics"' in again.text
    assert len(_reviews(client)) == 2


def test_streak():
    now = datetime(2026, 3, 10, 8, tzinfo=UTC)
    d = now.date()
    assert streak_from_days({d, d - timedelta(days=1), d - timedelta(days=2)}, now) == 3
    assert (
        streak_from_days({d - timedelta(days=1), d - timedelta(days=2)}, now) == 2
    )  # today not yet
    assert streak_from_days({d - timedelta(days=2)}, now) == 0


def test_stats_on_a_known_history(client, clock):
    # Day 0: learn both; day 1..: review. Then check counts, retention, forecast and streak.
    for q in ("alpha-two", "beta-one"):
        client.post(
            "/api/reviews", json={"question_id": q, "rating": 4}
        )  # Easy: straight to review
    clock.advance(days=20)
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})  # a pass
    client.post("/api/reviews", json={"question_id": "beta-one", "rating": 1})  # a lapse
    s = client.get("/api/stats").json()
    assert s["total_reviews"] == 4 and s["reviews_today"] == 2 and s["streak_days"] == 1
    assert s["true_retention"] == 0.5 and s["retention_reviews"] == 2
    assert s["cards"] == {"new": 1, "learning": 0, "review": 1, "relearning": 1, "suspended": 0}
    assert s["due_forecast"][0]["count"] == 1  # the lapsed card is due again today
    assert len(s["reviews_per_day"]) == 26 * 7 and s["reviews_per_day"][-1]["count"] == 2
    topics = {t["topic"]: t for t in s["topics"]}
    assert topics["alpha"]["seen"] == 1 and topics["beta"]["seen"] == 1


def test_stats_page_draws_charts(client):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    r = client.get("/stats")
    assert r.status_code == 200
    assert r.text.count('class="chart-data"') == 3 and 'class="heatmap-data"' in r.text
    assert "/export.json" in r.text and "/export.apkg" in r.text


def test_start_forms_accept_any_difficulty_and_filter(client):
    r = client.get("/mock/start?topic=&difficulty=&n=5&seconds=60", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/mock/q?ids=")
    r = client.get("/mock/start?topic=beta&difficulty=3&n=5", follow_redirects=False)
    assert "ids=beta-one&" in r.headers["location"]
    r = client.get("/quiz/start?topic=beta&n=5", follow_redirects=False)
    assert r.headers["location"] == "/quiz?empty=1"  # beta has no multiple-choice question

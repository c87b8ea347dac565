"""Drills through the app: list, detail, submissions run in the sandbox, attempts stored per user,
the drill's card scheduled (first-try pass Good, pass after a failure Hard, give up Again)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.models import CardState, ReviewLog

pytestmark = pytest.mark.slow
DRILL = "scaled-dot-product-attention"
REF = (Path(__file__).resolve().parents[1] / "drills" / DRILL / "reference.py").read_text()
WRONG = (
    REF.replace("math.sqrt", "1.0 * ").replace("sqrt(", "(")
    if "sqrt" in REF
    else REF + "\nx = 1/0\n"
)


@pytest.fixture
def settings(settings, tmp_path):
    # One drill and the bank files holding the questions it names (drills name real questions).
    import shutil

    from tests.conftest import REAL_BANK

    bank, drills = tmp_path / "bank", tmp_path / "drill-set"
    bank.mkdir()
    for name in ("attention.yaml", "masking.yaml"):
        shutil.copy(REAL_BANK / name, bank / name)
    shutil.copytree(REAL_BANK.parent / "drills" / DRILL, drills / DRILL)
    return settings.model_copy(update={"questions_dir": bank, "drills_dir": drills})


def card(client, drill_id=DRILL) -> CardState | None:
    with Session(client.app.state.engine) as s:
        return s.exec(select(CardState).where(CardState.question_id == f"drill:{drill_id}")).first()


def test_list_and_detail_hide_the_reference_until_an_attempt(client):
    listed = {d["id"] for d in client.get("/api/drills").json()}
    assert DRILL in listed
    d = client.get(f"/api/drills/{DRILL}").json()
    assert d["entry"] == "attention" and d["reference"] is None and d["attempts"] == []
    assert any(c["visible"] and c["source"] for c in d["cases"])
    assert all(c["source"] is None for c in d["cases"] if not c["visible"])
    assert client.get("/api/drills/nope").status_code == 404


def test_fail_then_pass_is_hard_and_the_card_is_scheduled(client):
    bad = client.post(f"/api/drills/{DRILL}/submit", json={"code": WRONG}).json()
    assert bad["passed"] is False and bad["attempt"]["rating"] is None
    assert any(not c["passed"] for c in bad["cases"]) or bad["error"]
    assert card(client) is None  # a failure does not grade: the learner may keep trying
    good = client.post(f"/api/drills/{DRILL}/submit", json={"code": REF}).json()
    assert good["passed"] is True and all(c["passed"] for c in good["cases"])
    assert good["attempt"]["rating"] == 2  # Hard: it took a failure first
    c = card(client)
    assert c is not None and c.reps == 1 and c.due > client.app.state.clock()
    d = client.get(f"/api/drills/{DRILL}").json()
    assert d["reference"] and len(d["attempts"]) == 2
    # Not due any more: another pass is practice and moves nothing.
    again = client.post(f"/api/drills/{DRILL}/submit", json={"code": REF}).json()
    assert again["passed"] and again["attempt"]["rating"] is None and card(client).reps == 1


def test_first_try_pass_is_good_and_giving_up_is_again(client):
    good = client.post(f"/api/drills/{DRILL}/submit", json={"code": REF}).json()
    assert good["attempt"]["rating"] == 3
    client.app.state.clock.advance(days=60)
    gave = client.post(f"/api/drills/{DRILL}/give-up", json={}).json()
    assert gave["verdict"] == "gave_up" and gave["rating"] == 1
    with Session(client.app.state.engine) as s:
        ratings = [r.rating for r in s.exec(select(ReviewLog).order_by(ReviewLog.id)).all()]
    assert ratings == [3, 1]


def test_hints_make_a_pass_hard(client):
    r = client.post(f"/api/drills/{DRILL}/submit", json={"code": REF, "hints_used": 2}).json()
    assert r["attempt"]["rating"] == 2


@pytest.mark.parametrize(
    "body", [{"code": ""}, {"code": "x" * 20_001}, {"code": "pass", "hints_used": 9}, {}]
)
def test_bad_submissions_are_422(client, body):
    assert client.post(f"/api/drills/{DRILL}/submit", json=body).status_code == 422


def test_the_page_runs_a_submission_and_shows_the_failing_case(client):
    page = client.get(f"/drills/{DRILL}")
    assert page.status_code == 200 and 'id="code"' in page.text and "def attention" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/drills/{DRILL}/submit", data={"code": WRONG, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and "?attempt=" in r.headers["location"]
    shown = client.get(r.headers["location"])
    assert 'class="fail"' in shown.text or 'id="run-error"' in shown.text
    assert 'id="reference-code"' in shown.text  # after an attempt, the reference can be opened


def test_a_due_drill_takes_its_turn_in_review_and_the_question_links_it(client):
    client.post(f"/api/drills/{DRILL}/submit", json={"code": REF})
    assert client.get("/review", follow_redirects=False).status_code == 200  # not due yet
    client.app.state.clock.advance(days=400)
    r = client.get("/review", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/drills/{DRILL}")
    client.app.state.settings.review_drills = False
    assert client.get("/review", follow_redirects=False).status_code == 200
    page = client.get("/q/soul-04-scaled-dot-product").text
    assert f'href="/drills/{DRILL}"' in page


def test_resetting_progress_deletes_the_drill_attempts_too(client):
    client.post(f"/api/drills/{DRILL}/submit", json={"code": REF})
    page = client.get("/stats")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/progress/reset", data={"confirm": "reset", "csrf_token": token})
    assert r.status_code in (200, 303)
    d = client.get(f"/api/drills/{DRILL}").json()
    assert d["attempts"] == [] and d["reference"] is None and card(client) is None


def test_the_server_answers_while_hostile_code_runs(client):
    """An endless loop and a fork bomb run in the sandbox while the health check and another
    user's pages keep answering at once."""
    import threading
    import time

    results: list[dict] = []

    def hostile(code: str) -> None:
        results.append(client.post(f"/api/drills/{DRILL}/submit", json={"code": code}).json())

    threads = [
        threading.Thread(target=hostile, args=(src,))
        for src in ("while True:\n    pass\n", "import os\nwhile True:\n    os.fork()\n")
    ]
    for t in threads:
        t.start()
    slowest = 0.0
    while any(t.is_alive() for t in threads):
        t0 = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        slowest = max(slowest, time.perf_counter() - t0)
        time.sleep(0.1)
    assert slowest < 1.0
    verdicts = sorted(r["attempt"]["verdict"] for r in results)
    assert verdicts == ["error", "timeout"], results

"""Drills through the app: list, detail, submissions run in the sandbox, attempts stored per user,
the drill's card scheduled (first-try pass Good, pass after a failure Hard, give up Again)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.drills.harness import describe_cases
from app.models import CardState, DrillAttempt, ReviewLog

pytestmark = pytest.mark.slow
DRILL = "scaled-dot-product-attention"
REF = (Path(__file__).resolve().parents[1] / "drills" / DRILL / "reference.py").read_text()
CASES = describe_cases(
    (Path(__file__).resolve().parents[1] / "drills" / DRILL / "tests.py").read_text()
)
ZH = {"accept-language": "zh-CN"}
EN = {"accept-language": "en"}
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
    assert {c["name"]: c["name_zh"] for c in d["cases"]} == {c.name: c.name_zh for c in CASES}
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


def result_items(page: str) -> list[str]:
    """The per-case lines of the result list, tags stripped: "✗ name tag 12 ms message"."""
    listed = re.search(r'<ul class="cases" id="cases">(.*?)</ul>', page, re.S)
    assert listed, "the page shows no per-case results"
    items = re.findall(r"<li[^>]*>(.*?)</li>", listed.group(1), re.S)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", i).split())) for i in items]


def case_names(page: str) -> list[str]:
    listed = re.search(r'<ul class="cases" id="cases">(.*?)</ul>', page, re.S)
    assert listed, "the page shows no per-case results"
    return [html.unescape(n) for n in re.findall(r"<strong>(.*?)</strong>", listed.group(1))]


def test_case_names_and_the_hidden_tag_follow_the_pages_language(client):
    run = client.post(f"/api/drills/{DRILL}/submit", json={"code": WRONG}).json()
    assert [(c["name"], c["name_zh"]) for c in run["cases"]] == [(c.name, c.name_zh) for c in CASES]
    url = f"/drills/{DRILL}?attempt={run['attempt']['id']}"
    zh, en = client.get(url, headers=ZH).text, client.get(url, headers=EN).text

    assert case_names(zh) == [c.name_zh for c in CASES]
    hidden = [c for c in CASES if not c.visible]
    zh_items, en_items = result_items(zh), result_items(en)
    for c, item in zip(CASES, zh_items, strict=True):
        assert ("隐藏" in item) == (not c.visible), item
        assert "hidden" not in item and c.name not in item
    assert sum("通过" in i for i in zh_items) == len(CASES)  # 通过 or 未通过, for screen readers

    assert case_names(en) == [c.name for c in CASES]
    assert sum(" hidden " in f" {i} " for i in en_items) == len(hidden)
    assert not any(c.name_zh in en for c in CASES)

    # The visible examples' titles, above the editor's results, in the page's language too.
    for c in CASES:
        if c.visible:
            assert f"<summary>{html.escape(c.name_zh)}</summary>" in zh
            assert f"<summary>{html.escape(c.name)}</summary>" in en


def test_an_attempt_stored_before_chinese_case_names_still_renders(client):
    """Stored details carry only the English ``name``: a case the drill still has takes its
    current Chinese name; one it no longer has keeps its English name."""
    run = client.post(f"/api/drills/{DRILL}/submit", json={"code": WRONG}).json()
    old_cases = [{k: v for k, v in c.items() if k != "name_zh"} for c in run["cases"]]
    old_cases[-1]["name"] = "a case since renamed"
    with Session(client.app.state.engine) as s:
        row = s.get(DrillAttempt, run["attempt"]["id"])
        row.details = json.dumps({"error": None, "cases": old_cases, "output": ""})
        s.add(row)
        s.commit()
    url = f"/drills/{DRILL}?attempt={run['attempt']['id']}"
    zh = client.get(url, headers=ZH)
    assert zh.status_code == 200
    assert case_names(zh.text) == [c.name_zh for c in CASES[:-1]] + ["a case since renamed"]
    en = client.get(url, headers=EN)
    assert case_names(en.text) == [c.name for c in CASES[:-1]] + ["a case since renamed"]

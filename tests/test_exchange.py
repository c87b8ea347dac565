"""Progress export → import round-trips exactly; the bank exports as a valid Anki deck."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.bank.loader import load_bank
from app.cli import app as cli
from app.config import Settings
from app.exchange import export_apkg
from app.main import create_app
from tests.conftest import FIXTURE_BANK, FIXTURE_DRILLS, REAL_BANK, _database_url, prime_csrf
from tests.test_accounts import group_app, group_settings, member  # noqa: F401 (fixtures)


def _study(client, clock):
    for day, (q, g) in enumerate(
        [("alpha-two", 3), ("beta-one", 1), ("alpha-two", 4), ("beta-one", 3)]
    ):
        clock.advance(days=day)
        assert client.post("/api/reviews", json={"question_id": q, "rating": g}).status_code == 201
    client.post("/api/cards/soul-04-fixture-scaling/hold", json={"action": "suspend"})


JSON_HEADERS = {"content-type": "application/json"}


def _fresh_client(tmp_path: Path, clock, **overrides):
    s = Settings(
        data_dir=tmp_path,
        database_url=_database_url(tmp_path),
        questions_dir=FIXTURE_BANK,
        drills_dir=FIXTURE_DRILLS,
        fsrs_fuzz=False,
        _env_file=None,
        **overrides,
    )
    a = create_app(s)
    a.state.clock = clock
    return a, prime_csrf(TestClient(a))


def _strip(export: dict) -> dict:
    return {k: v for k, v in export.items() if k != "exported_at"}


def test_export_import_into_a_fresh_database_is_identical(client, clock, tmp_path):
    _study(client, clock)
    first = client.get("/export.json")
    assert first.status_code == 200 and "attachment" in first.headers["content-disposition"]
    data = first.json()
    assert len(data["reviews"]) == 4 and len(data["cards"]) == 3

    app2, c2 = _fresh_client(tmp_path / "other", clock)
    with c2:
        r = c2.post(
            "/import",
            files={"file": ("p.json", first.content, "application/json")},
            data={"csrf_token": c2.cookies["tq_csrf"]},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "imported" in r.headers["location"]
        again = c2.get("/export.json").json()
        assert _strip(again) == _strip(data)
        # The imported cards behave: same next card, same intervals on the grade buttons.
        assert c2.get("/api/next").json() == client.get("/api/next").json()
    app2.state.engine.dispose()


def test_import_refuses_an_account_with_progress(client, clock):
    _study(client, clock)
    body = client.get("/export.json").content
    r = client.post(
        "/import",
        files={"file": ("p.json", body, "application/json")},
        data={"csrf_token": client.cookies["tq_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 409 and "already has progress" in r.text
    assert len(client.get("/export.json").json()["reviews"]) == 4  # nothing duplicated


def test_import_refuses_garbage(client):
    r = client.post(
        "/import",
        files={"file": ("p.json", b"{not json", "application/json")},
        data={"csrf_token": client.cookies["tq_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "import-failed" in r.text


def test_import_needs_the_csrf_token(client):
    r = client.post(
        "/import",
        files={"file": ("p.json", b"{}", "application/json")},
        headers={"X-CSRF-Token": ""},
    )
    assert r.status_code == 403


def test_exports_are_scoped_to_the_member(group_app):  # noqa: F811
    a, b = member(group_app, "alice"), member(group_app, "bob")
    a.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    b.post("/api/reviews", json={"question_id": "beta-one", "rating": 3})
    ea, eb = a.get("/export.json").json(), b.get("/export.json").json()
    assert [c["question_id"] for c in ea["cards"]] == ["alpha-two"] and ea["username"] == "alice"
    assert [c["question_id"] for c in eb["cards"]] == ["beta-one"] and eb["username"] == "bob"
    assert (
        prime_csrf(TestClient(group_app)).get("/export.json", follow_redirects=False).status_code
        == 303
    )


def test_anki_deck_is_a_valid_package_with_one_note_per_question(tmp_path):
    bank = load_bank(REAL_BANK)
    path = tmp_path / "deck.apkg"
    assert export_apkg(bank, path, "both") == len(bank.questions)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {"collection.anki2", "media"} <= names
        db = tmp_path / "c.anki2"
        db.write_bytes(z.read("collection.anki2"))
    con = sqlite3.connect(db)
    notes = con.execute("SELECT flds, tags FROM notes").fetchall()
    assert len(notes) == len(bank.questions)
    fields = [n[0].split("\x1f") for n in notes]
    assert {f[5] for f in fields} == set(bank.questions)  # the Id field
    assert any("\\(" in f[3] for f in fields)  # math handed to Anki's MathJax
    assert not any("$" in f[3] for f in fields)
    con.close()


def test_anki_route(client):
    r = client.get("/export.apkg?lang=en")
    assert r.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None
    assert client.get("/export.apkg?lang=fr").status_code == 422


runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TQ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TQ_QUESTIONS_DIR", str(FIXTURE_BANK))
    monkeypatch.setenv("TQ_DRILLS_DIR", str(FIXTURE_DRILLS))
    from app.config import get_settings

    get_settings.cache_clear()  # the CLI reads settings from the environment
    yield tmp_path
    get_settings.cache_clear()


def test_cli_export_import_stats_anki(client, clock, cli_env):
    _study(client, clock)
    src = cli_env / "progress.json"
    src.write_bytes(client.get("/export.json").content)
    r = runner.invoke(cli, ["import", str(src)])
    assert r.exit_code == 0, r.output
    assert "imported 3 cards and 4 reviews" in r.output
    r = runner.invoke(cli, ["import", str(src)])
    assert r.exit_code == 1 and "already has progress" in r.output
    out = cli_env / "again.json"
    r = runner.invoke(cli, ["export", str(out)])
    assert r.exit_code == 0, r.output
    assert (
        _strip(json.loads(out.read_text()))["reviews"]
        == _strip(json.loads(src.read_text()))["reviews"]
    )
    r = runner.invoke(cli, ["stats"])
    assert r.exit_code == 0 and "4 reviews" in r.output and "cards:" in r.output
    r = runner.invoke(cli, ["anki", str(cli_env / "d.apkg"), "--lang", "zh"])
    assert r.exit_code == 0 and "3 notes" in r.output


def test_cram_answers_travel_in_the_export_and_stay_out_of_the_stats(client, clock, tmp_path):
    from sqlmodel import Session

    from app.srs import Grade
    from app.study import cram

    _study(client, clock)
    before = client.get("/api/stats").json()
    with Session(client.app.state.engine) as s:
        user_id = 1  # the local user
        qid = client.get("/export.json").json()["cards"][0]["question_id"]
        cram.record(s, user_id, qid, Grade.again, clock())
    data = client.get("/export.json").json()
    assert [r["cram"] for r in data["reviews"]].count(True) == 1
    after = client.get("/api/stats").json()
    assert after["total_reviews"] == before["total_reviews"]  # practice is not a review
    app2, c2 = _fresh_client(tmp_path / "other", clock)
    with c2:
        r = c2.post(
            "/import",
            files={"file": ("p.json", client.get("/export.json").content, "application/json")},
            data={"csrf_token": c2.cookies["tq_csrf"]},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert [x["cram"] for x in c2.get("/export.json").json()["reviews"]].count(True) == 1
    app2.state.engine.dispose()


def test_a_progress_file_past_the_general_body_limit_still_imports(client, clock, tmp_path):
    # A year of study exports ~6 MB; the 1 MB limit on other requests refused it with a 413.
    _study(client, clock)
    body = client.get("/export.json").content + b" " * (2 << 20)  # valid JSON, over 1 MB
    app2, c2 = _fresh_client(tmp_path / "other", clock)
    with c2:
        r = c2.post(
            "/import",
            files={"file": ("p.json", body, "application/json")},
            data={"csrf_token": c2.cookies["tq_csrf"]},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "imported" in r.headers["location"]
        assert len(c2.get("/export.json").json()["reviews"]) == 4
        # Everything else keeps the general limit.
        big = c2.post("/api/reviews", content=b"x" * (2 << 20), headers=JSON_HEADERS)
        assert big.status_code == 413
    app2.state.engine.dispose()


def test_a_file_past_the_upload_limit_gets_a_413_page_in_the_readers_language(tmp_path, clock):
    a, c = _fresh_client(tmp_path, clock, max_import_bytes=2 << 20)
    with c:
        c.cookies.set("lang", "zh")
        r = c.post(
            "/import",
            files={"file": ("p.json", b" " * (3 << 20), "application/json")},
            data={"csrf_token": c.cookies["tq_csrf"]},
            headers={"accept": "text/html"},
            follow_redirects=False,
        )
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
        assert "提交的内容太大" in r.text and "content-security-policy" in r.headers
    a.state.engine.dispose()

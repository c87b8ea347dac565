"""Study-group mode: accounts, isolation between members, throttling, admin powers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import FIXTURE_BANK, FIXTURE_DRILLS, _database_url, prime_csrf

QID = "soul-04-fixture-scaling"
PW = "correct horse battery"


@pytest.fixture
def group_settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=_database_url(tmp_path),
        questions_dir=FIXTURE_BANK,
        drills_dir=FIXTURE_DRILLS,
        fsrs_fuzz=False,
        auth_enabled=True,
        secret_key="test-secret-key-0123456789-abcdefghij",
        invite_code="organiser-code",
        _env_file=None,
    )


@pytest.fixture
def group_app(group_settings, clock):
    app = create_app(group_settings)
    app.state.clock = clock
    yield app
    app.state.engine.dispose()


def member(app, username: str, invite: str | None = "organiser-code") -> TestClient:
    c = prime_csrf(TestClient(app))
    r = c.post(
        "/register",
        data={"username": username, "password": PW, "invite": invite or ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c


def test_default_secret_is_refused_with_accounts(tmp_path):
    with pytest.raises(ValueError, match="TQ_SECRET_KEY"):
        Settings(data_dir=tmp_path, auth_enabled=True, _env_file=None)


def test_pages_and_api_need_login(group_app):
    c = prime_csrf(TestClient(group_app))
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert c.get("/api/next").status_code == 401
    assert c.get("/healthz").status_code == 200


def test_first_user_is_admin_and_needs_no_invite(group_app):
    a = member(group_app, "alice", invite=None)
    assert a.get("/api/me").json()["is_admin"] is True
    assert a.get("/admin").status_code == 200


def test_registration_needs_a_valid_invite(group_app):
    member(group_app, "alice", invite=None)
    c = prime_csrf(TestClient(group_app))
    r = c.post("/register", data={"username": "mallory", "password": PW, "invite": "guess"})
    assert r.status_code == 400 and "invite code is not valid" in r.text
    r = c.post("/register", data={"username": "mallory", "password": PW})
    assert r.status_code == 400


def test_admin_invite_is_single_use(group_app):
    admin = member(group_app, "alice", invite=None)
    admin.post("/admin/invites", data={"max_uses": "1"})
    code = re.search(r'class="invite-code">([^<]+)<', admin.get("/admin").text).group(1)
    member(group_app, "bob", invite=code)
    c = prime_csrf(TestClient(group_app))
    r = c.post("/register", data={"username": "carol", "password": PW, "invite": code})
    assert r.status_code == 400


def test_members_cannot_see_or_change_each_others_progress(group_app):
    a = member(group_app, "alice", invite=None)
    b = member(group_app, "bob")
    a_review = a.post("/api/reviews", json={"question_id": QID, "rating": 3}).json()
    # B sees its own (untouched) card, not A's.
    assert b.get(f"/api/cards/{QID}").json()["state"] == "new"
    assert b.get("/api/progress").json()["reviews"] == 0
    # B cannot read A's review by id, nor undo it.
    assert b.get(f"/api/reviews/{a_review['review_id']}").status_code == 404
    assert a.get(f"/api/reviews/{a_review['review_id']}").status_code == 200
    assert b.post("/api/undo").json()["undone"] is False
    assert a.get(f"/api/cards/{QID}").json()["state"] == "learning"
    # B's grade lands on B's card only; a user id smuggled into the body is refused.
    r = b.post("/api/reviews", json={"question_id": QID, "rating": 1, "user_id": 1})
    assert r.status_code == 422
    assert a.get(f"/api/cards/{QID}").json()["reps"] == 1


def test_wrong_password_is_throttled(group_app):
    member(group_app, "alice", invite=None)
    c = prime_csrf(TestClient(group_app))
    codes = [
        c.post("/login", data={"username": "alice", "password": "wrong-password"}).status_code
        for _ in range(10)
    ]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    # Even the right password waits out the lock.
    r = c.post("/login", data={"username": "alice", "password": PW})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert c.post("/api/session", json={"username": "alice", "password": PW}).status_code == 429


def test_throttle_expires(group_app, clock):
    member(group_app, "alice", invite=None)
    c = prime_csrf(TestClient(group_app))
    for _ in range(6):
        c.post("/login", data={"username": "alice", "password": "nope-nope"})
    clock.advance(minutes=16)
    r = c.post("/login", data={"username": "alice", "password": PW}, follow_redirects=False)
    assert r.status_code == 303


def test_login_logout_and_session_cookie_flags(group_app):
    member(group_app, "alice", invite=None)
    c = prime_csrf(TestClient(group_app))
    r = c.post("/login", data={"username": "alice", "password": PW}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert c.get("/api/me").json()["username"] == "alice"
    c.post("/logout")
    assert c.get("/api/me").status_code == 401


def test_admin_resets_a_members_password(group_app):
    admin = member(group_app, "alice", invite=None)
    bob = member(group_app, "bob")
    bob_id = bob.get("/api/me").json()["id"]
    html = admin.post(f"/admin/users/{bob_id}/reset-password").text
    temp = re.search(r"<code>([^<]+)</code>", html.split('id="temp-password"')[1]).group(1)
    assert bob.get("/api/me").status_code == 401  # old sessions die with the old password
    fresh = prime_csrf(TestClient(group_app))
    assert fresh.post("/api/session", json={"username": "bob", "password": temp}).status_code == 200
    # Members cannot reach admin pages at all.
    assert fresh.get("/admin").status_code == 404
    assert fresh.post(f"/admin/users/{bob_id}/reset-password").status_code == 404


def test_leaderboard_opt_out_and_weak_topics(group_app):
    admin = member(group_app, "alice", invite=None)
    bob = member(group_app, "bob")
    for c, rating in ((admin, 3), (bob, 1)):
        for qid in (QID, "alpha-two"):
            c.post("/api/reviews", json={"question_id": qid, "rating": rating})
    admin.post("/admin/leaderboard", data={"enabled": "true"})
    html = bob.get("/group").text
    assert 'id="leaderboard"' in html and "alice" in html and "bob" in html
    bob.post("/account/leaderboard", data={})
    board = bob.get("/group").text.split('id="leaderboard"')[1]
    assert "bob" not in board.split("</table>")[0] and "alice" in board
    assert "/questions?topic=alpha" in html  # the group's weak topic


def test_local_mode_has_no_account_pages(client):
    assert client.get("/login").status_code == 404
    assert client.get("/admin").status_code == 404

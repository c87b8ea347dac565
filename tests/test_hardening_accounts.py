"""Hardening of study-group accounts (issue #10, items 1, 3, 4, 5, 6, 9): the login throttle holds
under parallel requests and per address, one first admin, logout ends the session on the server,
one canonical username, nothing but login/registration/health/static without a session, and a
password policy that answers on the form."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import accounts
from app.config import Settings
from app.main import create_app
from app.models import LoginAttempt, User
from tests.conftest import FIXTURE_BANK, FIXTURE_DRILLS, _database_url, prime_csrf
from tests.test_accounts import PW, group_app, group_settings, member  # noqa: F401 (fixtures)


def _client(app) -> TestClient:
    return prime_csrf(TestClient(app))


def _login(app, username: str, password: str, ip: str = "203.0.113.7") -> int:
    c = TestClient(app, client=(ip, 50000))
    c.get("/login")
    r = c.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": c.cookies["tq_csrf"]},
        follow_redirects=False,
    )
    return r.status_code


class CountingVerify:
    """Counts the password checks argon2 actually runs (the expensive step the throttle guards)."""

    def __init__(self, real):
        self.real = real
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, password, hashed):
        with self.lock:
            self.calls += 1
        return self.real(password, hashed)


@pytest.fixture
def counted(monkeypatch):
    counter = CountingVerify(accounts.hasher.verify)
    monkeypatch.setattr(accounts.hasher, "verify", counter)
    return counter


# ---- 1. the login throttle ---------------------------------------------------------------------


def test_parallel_wrong_logins_are_checked_at_most_five_times(group_app, counted):  # noqa: F811
    member(group_app, "alice", invite=None)
    counted.calls = 0
    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(lambda _: _login(group_app, "alice", "wrong-guess-1"), range(40)))
    assert counted.calls <= accounts.THROTTLE_FAILS, counted.calls
    assert codes.count(401) <= accounts.THROTTLE_FAILS
    assert set(codes) <= {401, 429}
    # Refused attempts were never checked, so only the checked ones count towards the lock.
    checked = counted.calls
    assert _login(group_app, "alice", PW) == (429 if checked == accounts.THROTTLE_FAILS else 303)


def test_a_right_password_inside_a_burst_is_not_checked_after_the_limit(group_app, counted):  # noqa: F811
    member(group_app, "alice", invite=None)
    for _ in range(accounts.THROTTLE_FAILS):
        assert _login(group_app, "alice", "wrong-guess-2") == 401
    counted.calls = 0
    guesses = ["wrong-guess-3"] * 19 + [PW]
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda pw: _login(group_app, "alice", pw), guesses))
    assert codes == [429] * 20 and counted.calls == 0


def test_the_throttle_key_is_the_canonical_username(group_app):  # noqa: F811
    member(group_app, "alice", invite=None)
    for name in ("alice", "ALICE", "Alice", " alice ", "aLiCe"):
        _login(group_app, name, "wrong-guess-4")
    assert _login(group_app, "alice", PW) == 429


def test_one_address_spraying_many_usernames_is_slowed(group_app, counted):  # noqa: F811
    member(group_app, "alice", invite=None)
    counted.calls = 0
    codes = [_login(group_app, f"user{i:03d}", "password-spray") for i in range(60)]
    assert counted.calls <= accounts.IP_THROTTLE_FAILS
    assert codes[-1] == 429
    # Another address is not blocked by it, and the member herself still logs in from there.
    assert _login(group_app, "alice", PW, ip="198.51.100.9") == 303


def test_a_success_does_not_reset_an_attackers_count_from_another_address(group_app):  # noqa: F811
    member(group_app, "alice", invite=None)
    for _ in range(accounts.THROTTLE_FAILS - 1):
        assert _login(group_app, "alice", "wrong-guess-5", ip="192.0.2.66") == 401
    # Alice's own login (another address) succeeds: it clears only her own typos.
    assert _login(group_app, "alice", PW, ip="198.51.100.9") == 303
    assert _login(group_app, "alice", "wrong-guess-6", ip="192.0.2.66") == 401
    assert _login(group_app, "alice", "wrong-guess-7", ip="192.0.2.66") == 429


def test_old_login_attempts_are_purged(group_app, clock):  # noqa: F811
    member(group_app, "alice", invite=None)
    for _ in range(3):
        _login(group_app, "alice", "wrong-guess-8")
    clock.advance(hours=2)
    _login(group_app, "bob", "wrong-guess-9")
    with Session(group_app.state.engine) as s:
        rows = s.exec(select(LoginAttempt)).all()
    assert [r.username for r in rows] == ["bob"]


# ---- 3. one first admin --------------------------------------------------------------------------


def _register(app, username: str, invite: str = "") -> int:
    c = TestClient(app)
    c.get("/register")
    r = c.post(
        "/register",
        data={
            "username": username,
            "password": PW,
            "invite": invite,
            "csrf_token": c.cookies["tq_csrf"],
        },
        follow_redirects=False,
    )
    return r.status_code


@pytest.mark.parametrize("mode", ["invite", "open"])
def test_parallel_first_registrations_make_exactly_one_admin(tmp_path, clock, mode):
    s = Settings(
        data_dir=tmp_path,
        database_url=_database_url(tmp_path),
        questions_dir=FIXTURE_BANK,
        drills_dir=FIXTURE_DRILLS,
        auth_enabled=True,
        secret_key="test-secret-key-0123456789-abcdefghij",
        registration=mode,
        _env_file=None,
    )
    app = create_app(s)
    app.state.clock = clock
    try:
        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda i: _register(app, f"founder{i:02d}"), range(12)))
        with Session(app.state.engine) as db:
            users = db.exec(select(User)).all()
        assert sum(u.is_admin for u in users) == 1
        # Invite mode: everyone but the first needed a code; open mode: the rest are members.
        assert codes.count(303) == (1 if mode == "invite" else 12)
        assert set(codes) <= {303, 400}
    finally:
        app.state.engine.dispose()


# ---- 4. logout ends the session on the server ------------------------------------------------------


def test_a_copied_cookie_dies_with_logout(group_app):  # noqa: F811
    a = member(group_app, "alice", invite=None)
    stolen = a.cookies["tq_session"]
    assert a.post("/logout", follow_redirects=False).status_code == 303
    thief = TestClient(group_app)
    thief.cookies.set("tq_session", stolen)
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_only_this_session_and_log_out_everywhere_ends_all(group_app):  # noqa: F811
    member(group_app, "alice", invite=None)
    laptop, phone, tablet = (_client(group_app) for _ in range(3))
    for c in (laptop, phone, tablet):
        r = c.post("/api/session", json={"username": "alice", "password": PW})
        assert r.status_code == 200
    laptop.post("/logout")
    assert laptop.get("/api/me").status_code == 401
    assert phone.get("/api/me").status_code == 200
    r = phone.post("/account/logout-everywhere", follow_redirects=False)
    assert r.status_code == 303
    assert phone.get("/api/me").status_code == 401
    assert tablet.get("/api/me").status_code == 401


def test_a_password_change_keeps_this_session_and_ends_the_others(group_app):  # noqa: F811
    a = member(group_app, "alice", invite=None)
    other = _client(group_app)
    other.post("/api/session", json={"username": "alice", "password": PW})
    r = a.post(
        "/account/password",
        data={"current": PW, "new": "a new passphrase 42"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert a.get("/api/me").status_code == 200
    assert other.get("/api/me").status_code == 401


def test_a_forged_or_expired_session_is_refused(group_app, clock):  # noqa: F811
    a = member(group_app, "alice", invite=None)
    forged = TestClient(group_app)
    forged.cookies.set("tq_session", a.cookies["tq_session"][:-3] + "AAA")
    assert forged.get("/api/me").status_code == 401
    clock.advance(days=31)
    assert a.get("/api/me").status_code == 401


# ---- 5. one canonical username -----------------------------------------------------------------


def test_usernames_differing_only_in_case_are_one_name(group_app):  # noqa: F811
    member(group_app, "Zed", invite=None)
    c = _client(group_app)
    r = c.post("/register", data={"username": "zed", "password": PW, "invite": "organiser-code"})
    assert r.status_code == 400 and "taken" in r.text
    for typed in ("zed", "ZED", "Zed"):
        assert _login(group_app, typed, PW) == 303
    assert (
        _client(group_app)
        .post("/api/session", json={"username": "zeD", "password": PW})
        .json()["username"]
        == "zed"
    )


def test_the_database_refuses_a_non_canonical_username(group_app):  # noqa: F811
    with Session(group_app.state.engine) as s:
        s.add(User(username="Zed"))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_the_admin_username_setting_matches_any_case(tmp_path, clock):
    s = Settings(
        data_dir=tmp_path,
        database_url=_database_url(tmp_path),
        questions_dir=FIXTURE_BANK,
        drills_dir=FIXTURE_DRILLS,
        auth_enabled=True,
        secret_key="test-secret-key-0123456789-abcdefghij",
        registration="open",
        admin_username="Boss",
        _env_file=None,
    )
    app = create_app(s)
    app.state.clock = clock
    try:
        member(app, "first", invite=None)
        assert member(app, "BOSS", invite=None).get("/api/me").json()["is_admin"] is True
    finally:
        app.state.engine.dispose()


# ---- 6. nothing without a session but login, registration, health and static ---------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/api/demos", {}),
        ("post", "/api/demos/scaling-variance", {"json": {}}),
        ("post", "/demos/scaling-variance/run", {"data": {"d_k": "64"}}),
        ("get", "/demos", {}),
        ("get", "/demos/scaling-variance", {}),
        ("get", "/export.apkg", {}),
        ("get", "/api/questions", {}),
        ("get", "/quiz", {}),
        ("get", "/quiz/start", {}),
        ("get", "/mock", {}),
        ("get", "/docs", {}),
        ("get", "/openapi.json", {}),
    ],
)
def test_accounts_mode_needs_a_session_for_everything_else(group_app, method, path, kwargs):  # noqa: F811
    c = _client(group_app)
    if "data" in kwargs:
        kwargs = {"data": {**kwargs["data"], "csrf_token": c.cookies["tq_csrf"]}}
    r = getattr(c, method)(path, follow_redirects=False, **kwargs)
    assert r.status_code in (303, 401), (path, r.status_code)
    if r.status_code == 303:
        assert r.headers["location"].startswith("/login")


def test_login_registration_health_and_static_stay_open(group_app):  # noqa: F811
    c = _client(group_app)
    for path in (
        "/login",
        "/register",
        "/healthz",
        "/static/app.css",
        "/sw.js",
        "/lang/en?next=/login",
    ):
        assert c.get(path, follow_redirects=False).status_code in (200, 303), path
    assert c.get("/lang/en?next=/login", follow_redirects=False).headers["location"] == "/login"


# ---- 9. password policy, long passwords, the secret key ------------------------------------------


@pytest.mark.parametrize(
    "weak",
    [
        "password",
        "        ",
        "\t\t\t\t\t\t\t\t\t",
        "12345678",
        "Password1",
        "qwertyuiop",
        "aaaaaaaaaa",
        "iloveyou",
        "newmember",
        "transformer-quiz",
    ],
)
def test_common_and_blank_passwords_are_refused(group_app, weak):  # noqa: F811
    member(group_app, "alice", invite=None)
    c = _client(group_app)
    r = c.post(
        "/register",
        data={"username": "newmember", "password": weak, "invite": "organiser-code"},
    )
    assert r.status_code == 400 and "<form" in r.text and "password" in r.text.lower()


def test_a_long_password_gets_the_form_not_json(group_app):  # noqa: F811
    member(group_app, "alice", invite=None)
    c = _client(group_app)
    for path, data in (
        ("/register", {"username": "bob", "password": "x" * 257, "invite": "organiser-code"}),
        ("/login", {"username": "alice", "password": "y" * 257}),
    ):
        r = c.post(path, data=data)
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("text/html")
        assert "<form" in r.text


def test_a_short_secret_key_is_one_clear_line(tmp_path, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("TQ_AUTH_ENABLED", "true")
    monkeypatch.setenv("TQ_SECRET_KEY", "short")
    monkeypatch.setenv("TQ_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as e:
            get_settings()
    finally:
        get_settings.cache_clear()
    msg = str(e.value)
    assert "\n" not in msg and "TQ_SECRET_KEY" in msg and "32" in msg


def test_login_attempts_do_not_outlive_the_window(group_app, clock):  # noqa: F811
    member(group_app, "alice", invite=None)
    _login(group_app, "alice", "wrong-guess-10")
    clock.advance(seconds=accounts.THROTTLE_WINDOW.total_seconds() + 1)
    _login(group_app, "alice", PW)
    with Session(group_app.state.engine) as s:
        cutoff = clock.now - timedelta(seconds=accounts.THROTTLE_WINDOW.total_seconds())
        assert not s.exec(select(LoginAttempt).where(LoginAttempt.at < cutoff)).all()


def test_migration_0004_makes_existing_usernames_canonical(settings):
    """Existing rows: names lower-cased; of two that differ only in case, the older keeps it."""
    from alembic import command
    from alembic.config import Config

    from app.db import MIGRATIONS_DIR, make_engine, migrate

    engine = make_engine(settings)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    with engine.begin() as c:
        for name in ("Zed", "zed", "Alice", "bob"):
            c.execute(
                sa.text(
                    'INSERT INTO "user" (username, is_admin, created_at, session_version,'
                    " show_on_leaderboard) VALUES (:n, false, :at, 0, true)"
                ),
                {"n": name, "at": datetime(2026, 1, 5, 9, 0)},
            )
    migrate(engine)
    with engine.connect() as c:
        rows = c.execute(sa.text('SELECT id, username FROM "user" ORDER BY id')).all()
    assert [r.username for r in rows] == ["zed", f"zed-{rows[1].id}", "alice", "bob"]
    with Session(engine) as s:
        s.add(User(username="Carol"))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()
    engine.dispose()

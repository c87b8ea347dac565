"""The lean read of a user's cards (issue #17): plain values through SQLAlchemy Core, and a
corrupt row still repaired as the ORM's load event repairs it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime as sa_DateTime
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlmodel import Session, select

from app import services
from app.models import CARD_FIELDS, CardState, card_problems
from app.srs import Srs, humanize

QIDS = ["alpha-two", "beta-one", "soul-04-fixture-scaling"]

_stamps = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2300, 1, 1), timezones=st.just(UTC)
    ),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2300, 1, 1)),  # naive
)
_numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=20.0),
    st.integers(min_value=-5, max_value=200),
    st.booleans(),
)
_card = st.fixed_dictionaries(
    {
        "state": st.one_of(st.integers(min_value=-1, max_value=4), st.booleans(), st.none()),
        "step": st.one_of(st.none(), st.integers(min_value=-2, max_value=120), st.booleans()),
        "stability": _numbers,
        "difficulty": _numbers,
        "due": _stamps,
        "last_review": _stamps,
        "reps": st.one_of(st.integers(min_value=-2, max_value=5), st.booleans(), st.none()),
        "lapses": st.one_of(st.integers(min_value=-2, max_value=5), st.booleans()),
    }
)


@settings(max_examples=3000, deadline=None)
@given(_card)
def test_what_the_fast_check_passes_card_problems_passes_too(card):
    # A sufficient condition: the fast path may refuse a good card (it then takes the ORM's
    # path), but must never let a card through that card_problems would repair.
    if services.plainly_valid(*(card[f] for f in CARD_FIELDS)):
        assert card_problems(card) == []


def test_the_fast_check_passes_the_cards_fsrs_writes(client, app, clock):
    for q, g in (("alpha-two", 3), ("beta-one", 1), ("soul-04-fixture-scaling", 4)):
        assert client.post("/api/reviews", json={"question_id": q, "rating": g}).status_code == 201
    clock.advance(days=3)
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    with Session(app.state.engine) as s:
        rows = s.exec(select(CardState)).all()
        assert len(rows) == 3
        for r in rows:
            assert services.plainly_valid(*(getattr(r, f) for f in CARD_FIELDS)), r


def test_cards_by_question_reads_what_the_orm_reads(client, app, clock):
    for q, g in (("alpha-two", 3), ("beta-one", 1)):
        client.post("/api/reviews", json={"question_id": q, "rating": g})
    client.post(f"/api/cards/{QIDS[2]}/hold", json={"action": "bury"})
    with Session(app.state.engine) as s:
        orm = {r.question_id: r for r in s.exec(select(CardState)).all()}
    with Session(app.state.engine) as s:
        plain = services.cards_by_question(s, 1)
    assert set(plain) == set(orm) == set(QIDS)
    for q, row in plain.items():
        for f in services.CardRow.__slots__:
            assert getattr(row, f) == getattr(orm[q], f), (q, f)
    assert plain[QIDS[2]].buried_until is not None and plain[QIDS[2]].reps == 0


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE card_state SET state = 7",
        "UPDATE card_state SET stability = -2",
        "UPDATE card_state SET difficulty = 99",
        "UPDATE card_state SET state = 3, step = NULL",
    ],
)
def test_a_corrupt_row_is_read_as_the_orm_repairs_it(client, app, sql):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    with Session(app.state.engine) as s:
        s.execute(text(sql))
        s.commit()
    with Session(app.state.engine) as s:
        repaired = s.exec(select(CardState)).one()
    with Session(app.state.engine) as s:
        row = services.cards_by_question(s, 1)["alpha-two"]
    assert (row.state, row.step, row.stability, row.difficulty) == (1, 0, None, None)
    assert (row.state, row.step, row.stability) == (
        repaired.state,
        repaired.step,
        repaired.stability,
    )
    assert row.reps == 1  # kept: the guard of the next grade's optimistic update
    r = client.get("/api/next")
    assert r.status_code == 200
    assert (
        client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3}).status_code
        == 201
    )


def test_next_card_previews_from_the_plain_row(client, clock):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    clock.advance(days=30)
    body = client.get("/api/next").json()
    assert body["question"]["id"] == "alpha-two" and body["is_new"] is False
    assert body["due_count"] == 1
    # A review card's Good is days away, a new card's Good minutes: the preview used the row.
    assert body["intervals"]["good"].endswith(("d", "mo")), body["intervals"]


def test_new_cards_today_reads_the_partial_index_not_the_days_reviews(app, client, clock):
    """A busy day must not slow next card: the count walks only the reviews that introduced a
    card (migration 0008), not every review made today."""
    if app.state.engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL picks by table statistics")
    for q in QIDS:
        client.post("/api/reviews", json={"question_id": q, "rating": 1})
    for _ in range(3):
        client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 1})
    seen: list[tuple[str, tuple]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    engine = app.state.engine
    sa_event.listen(engine, "before_cursor_execute", grab)
    try:
        with Session(engine) as s:
            assert services.new_cards_today(s, 1, clock()) == 3
    finally:
        sa_event.remove(engine, "before_cursor_execute", grab)
    ((statement, params),) = seen
    with engine.connect() as c:
        plan = " ".join(
            str(r[-1]) for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "ix_review_log_user_new" in plan, plan


def test_a_grade_answers_with_what_it_stored(client, app, clock):
    first = client.post("/api/reviews", json={"question_id": "beta-one", "rating": 3}).json()
    clock.advance(days=2)
    second = client.post("/api/reviews", json={"question_id": "beta-one", "rating": 1}).json()
    assert second["review_id"] > first["review_id"]
    assert second["card"] == client.get("/api/cards/beta-one").json()
    assert second["card"]["reps"] == 2
    logs = client.get("/api/reviews", params={"question_id": "beta-one"}).json()
    assert [r["id"] for r in logs] == [second["review_id"], first["review_id"]]
    assert [r["rating"] for r in logs] == [1, 3]
    # Undo restores the card as it was after the first grade, from the log row written here.
    assert client.post("/api/undo").json()["card"] == first["card"]


def test_a_change_of_prefs_reaches_next_card_at_once(client):
    """Prefs are converted once per stored row, never served stale: the row is read each time."""
    assert client.get("/api/next").json()["new_left_today"] == 3
    r = client.patch("/api/settings", json={"new_per_day": 1})
    assert r.status_code == 200, r.text
    assert client.get("/api/next").json()["new_left_today"] == 1
    client.patch("/api/settings", json={"new_per_day": None})
    assert client.get("/api/next").json()["new_left_today"] == 3


def test_a_new_cards_intervals_follow_the_members_scheduler(client, clock):
    def expected(retention: float) -> dict[str, str]:
        return {
            g.name: humanize(d)
            for g, d in Srs(retention, fuzz=False).preview(None, clock()).items()
        }

    body = client.get("/api/next").json()
    assert body["is_new"] and body["intervals"] == expected(0.9)
    client.patch("/api/settings", json={"desired_retention": 0.75})
    clock.advance(hours=5)
    body = client.get("/api/next").json()
    assert body["intervals"] == expected(0.75) != expected(0.9)


@pytest.mark.parametrize(
    "stored",
    [
        "2026-01-05 09:00:00.000000",  # as SQLAlchemy writes them
        "2026-01-05 09:00:00.123456",
        "2026-01-05 09:00:00",
        "2026-01-05T09:00:00.123456",
    ],
)
def test_a_stored_stamp_reads_back_as_the_same_aware_utc_time(app, stored):
    if app.state.engine.dialect.name != "sqlite":
        pytest.skip("SQLite stores stamps as text")
    from app.models import UTCDateTime

    dialect = app.state.engine.dialect
    # As SQLAlchemy calls them: on the type adapted to the dialect.
    fast = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    general = sa_DateTime().dialect_impl(dialect).result_processor(dialect, None)
    got = fast(stored)
    assert got == general(stored).replace(tzinfo=UTC) and got.utcoffset().total_seconds() == 0
    assert fast(None) is None


def test_a_naive_stamp_from_postgresql_reads_as_the_same_time_in_utc():
    from sqlalchemy.dialects.postgresql import psycopg

    from app.models import UTCDateTime

    dialect = psycopg.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    naive = datetime(2026, 1, 5, 9, 0, 0, 123456)
    assert process(naive) == naive.replace(tzinfo=UTC)
    assert process(naive).tzinfo is UTC and process(None) is None


# ---- the per-worker card cache (migration 0009's card_version) -----------------------------


def _card_reads(engine) -> tuple[list[str], object]:
    """The statements that read a user's whole card list, as they reach the driver."""
    seen: list[str] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "FROM card_state" in statement and "card_state.question_id =" not in statement:
            seen.append(statement)

    sa_event.listen(engine, "before_cursor_execute", grab)
    return seen, grab


def test_next_card_reads_the_cards_again_only_after_they_change(client, app):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    client.get("/api/next")
    engine = app.state.engine
    seen, grab = _card_reads(engine)
    try:
        for _ in range(3):
            assert client.get("/api/next").status_code == 200
        assert seen == []  # one version read each, the cards from the worker's cache
        client.post("/api/reviews", json={"question_id": "beta-one", "rating": 3})
        client.get("/api/next")
        client.get("/api/next")
        assert len(seen) == 1
    finally:
        sa_event.remove(engine, "before_cursor_execute", grab)


def test_a_write_by_another_process_is_seen_on_the_next_request(client, app, settings, clock):
    """Another worker, a script, an import: any change to card_state through any connection
    bumps the version (triggers), so the next request reads the cards again."""
    from app.db import make_engine

    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    clock.advance(days=30)
    body = client.get("/api/next").json()
    assert body["question"]["id"] == "alpha-two" and body["due_count"] == 1
    other = make_engine(settings)  # its own pool: another worker's connections
    try:
        with other.begin() as c:
            c.execute(text("UPDATE card_state SET suspended = :t"), {"t": True})
        body = client.get("/api/next").json()
        assert body["due_count"] == 0 and body["question"]["id"] != "alpha-two"
        with other.begin() as c:
            c.execute(text("DELETE FROM card_state"))
        assert client.get("/api/cards/alpha-two").json()["state"] == "new"
        assert client.get("/api/next").json()["new_left_today"] == 3
    finally:
        other.dispose()


def test_a_write_that_rolls_back_never_reaches_the_cache(client, app):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    engine = app.state.engine
    with Session(engine) as s:
        s.execute(text("UPDATE card_state SET reps = 41"))
        assert services.cards_by_question(s, 1)["alpha-two"].reps == 41  # its own write
        s.rollback()
    with Session(engine) as s:
        assert services.cards_by_question(s, 1)["alpha-two"].reps == 1
    # Another change later takes the version the rolled-back one had: the cards read again.
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    with Session(engine) as s:
        assert services.cards_by_question(s, 1)["alpha-two"].reps == 2


def test_the_shared_cards_cannot_be_changed_by_a_request(client, app):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    with Session(app.state.engine) as s:
        cards = services.cards_by_question(s, 1)
    with Session(app.state.engine) as s:
        assert services.cards_by_question(s, 1) is cards  # the cached map itself
    with pytest.raises(TypeError):
        cards["beta-one"] = cards["alpha-two"]
    with pytest.raises(TypeError):
        cards.pop("alpha-two")
    with pytest.raises(AttributeError):  # frozen dataclass
        cards["alpha-two"].reps = 9  # type: ignore[misc]
    assert dict(cards)["alpha-two"].reps == 1


def test_every_change_to_a_users_cards_bumps_only_their_version(app):
    engine = app.state.engine
    version = "SELECT version FROM card_version WHERE user_id = :u"
    now = datetime(2026, 1, 5, 9, 0)
    with engine.begin() as c:
        for name in ("ada", "bob"):
            c.execute(
                text(
                    'INSERT INTO "user" (username, is_admin, created_at, show_on_leaderboard)'
                    " VALUES (:n, false, :at, true)"
                ),
                {"n": name, "at": now},
            )
        ada, bob = (
            c.execute(text('SELECT id FROM "user" WHERE username = :n'), {"n": n}).scalar_one()
            for n in ("ada", "bob")
        )
    seen = []
    for stmt in (
        "INSERT INTO card_state (user_id, question_id, state, due, reps, lapses, suspended)"
        " VALUES (:u, 'q', 1, :at, 0, 0, false)",
        "UPDATE card_state SET reps = 1 WHERE user_id = :u",
        "DELETE FROM card_state WHERE user_id = :u",
    ):
        with engine.begin() as c:
            c.execute(text(stmt), {"u": ada, "at": now})
            seen.append(c.execute(text(version), {"u": ada}).scalar_one())
            assert c.execute(text(version), {"u": bob}).scalar() is None
    assert seen == sorted(seen) and len(set(seen)) == 3


# ---- cold start ------------------------------------------------------------------------------


def test_the_head_read_from_the_files_is_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.db import MIGRATIONS_DIR, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head() is not None


def test_a_start_on_a_migrated_database_does_not_import_alembic(tmp_path):
    """Alembic (and every dialect's DDL it loads) only when there is something to migrate."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from app.config import Settings\n"
        "from app.db import make_engine, migrate\n"
        f"e = make_engine(Settings(database_url='sqlite:///{tmp_path}/q.db', _env_file=None))\n"
        "migrate(e)\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [r.stdout.split() for r in runs] == [["True"], ["False"]]
    with Session(make_engine_for(tmp_path)) as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0009"


def make_engine_for(tmp_path):
    from app.config import Settings
    from app.db import make_engine

    return make_engine(Settings(database_url=f"sqlite:///{tmp_path}/q.db", _env_file=None))


def test_the_zone_list_is_not_built_at_import_but_is_in_the_schema():
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import zoneinfo, app.study.prefs as p\n"
            "print(p._zones.cache_info().currsize)\n"
            "s = p.PrefsIn.model_json_schema()['properties']['timezone']['anyOf'][0]\n"
            "print('Asia/Shanghai' in s['enum'], s['maxLength'], p._zones.cache_info().currsize)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["0", "True", "64", "1"]


@settings(max_examples=300, deadline=None)
@given(
    state=st.sampled_from([1, 2, 3]),
    step=st.integers(min_value=0, max_value=3),
    stability=st.floats(min_value=0.01, max_value=3000),
    difficulty=st.floats(min_value=1, max_value=10),
    since=st.floats(min_value=0, max_value=400 * 86400),
    later=st.floats(min_value=0, max_value=86399),
    more=st.integers(min_value=1, max_value=60),
)
def test_the_cached_intervals_of_a_seen_card_are_fsrs_own(
    state, step, stability, difficulty, since, later, more
):
    """The grade buttons' intervals are cached per whole day since the last review: at any
    moment of that day FSRS itself gives the same ones."""
    from datetime import timedelta

    from app.web import api

    last = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    first = last + timedelta(seconds=since)
    # A second moment in the same whole day since the last review.
    elapsed = (first - last).days
    second = last + timedelta(days=elapsed, seconds=later)
    card = services.CardRow(
        id=1,
        user_id=1,
        question_id="q",
        state=state,
        step=None if state == 2 else step,
        stability=stability,
        difficulty=difficulty,
        due=first,
        last_review=last,
        reps=3,
        lapses=0,
        suspended=False,
        buried_until=None,
    )
    srs = Srs(0.9, fuzz=False)
    # And a moment some days later, where the same card may have other intervals.
    for now in (first, second, second + timedelta(days=more)):
        direct = {g.name: humanize(d) for g, d in srs.preview(services.snapshot(card), now).items()}
        assert api._card_intervals(srs, card, now) == direct

"""Hostile progress files (issue #10, item 7): every one gets a 4xx that names the problem, stores
nothing, and leaves every page of that user working; a user can reset their own progress; a
corrupt row already in the database is reported, never a 500."""

from __future__ import annotations

import copy
import json
import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from tests.conftest import prime_csrf

QIDS = ["alpha-two", "beta-one", "soul-04-fixture-scaling"]


def _valid(client: TestClient, clock) -> dict:
    """A real export: three cards in learning/review/relearning-ish states, a suspended one."""
    for day, (q, g) in enumerate([("alpha-two", 3), ("beta-one", 1), ("alpha-two", 4)]):
        clock.advance(days=day)
        assert client.post("/api/reviews", json={"question_id": q, "rating": g}).status_code == 201
    client.post(f"/api/cards/{QIDS[2]}/hold", json={"action": "suspend"})
    data = client.get("/export.json").json()
    _reset(client)
    return data


def _reset(client: TestClient) -> None:
    r = client.post("/progress/reset", data={"confirm": "reset"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _import(client: TestClient, body: bytes):
    return client.post(
        "/import",
        files={"file": ("p.json", body, "application/json")},
        follow_redirects=False,
    )


def _stored(client: TestClient) -> tuple[list, list]:
    ex = client.get("/export.json")
    assert ex.status_code == 200
    return ex.json()["cards"], ex.json()["reviews"]


def _every_page_works(client: TestClient) -> None:
    pages = ["/", "/stats", "/questions", "/review", "/api/next", "/api/stats", "/api/progress"]
    pages += [f"/q/{q}" for q in QIDS] + [f"/api/cards/{q}" for q in QIDS]
    for p in pages:
        r = client.get(p)
        assert r.status_code == 200, (p, r.status_code, r.text[:300])


def _mutate(data: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _dumps(data) -> bytes:
    # allow_nan: the attacker's file may carry NaN / Infinity literals, as Python's json writes them
    return json.dumps(data, allow_nan=True).encode()


HOSTILE_CARD_VALUES = [
    ("state", 7),
    ("state", 0),
    ("state", -1),
    ("state", "2"),
    ("state", 2.5),
    ("state", None),
    ("stability", math.nan),
    ("stability", math.inf),
    ("stability", -3.0),
    ("stability", 0.0),
    ("stability", 1e308),
    ("difficulty", 0.5),
    ("difficulty", 11),
    ("difficulty", math.nan),
    ("step", -1),
    ("step", 2**40),
    ("reps", 2**70),
    ("reps", -1),
    ("lapses", 2**63),
    ("lapses", -5),
    ("due", "0001-01-01T00:00:00Z"),
    ("due", "9999-12-31T23:59:59Z"),
    ("due", "2026-01-01T00:00:00"),  # naive
    ("due", "yesterday"),
    ("due", None),
    ("last_review", "9999-12-31T23:59:59+00:00"),
    ("last_review", "2999-01-01T00:00:00Z"),  # in the future
    ("buried_until", "99999-01-01T00:00:00Z"),
    ("question_id", "no-such-question"),
    ("question_id", "a" * 5000),
    ("question_id", "\ud800"),
    ("suspended", "maybe"),
]

HOSTILE_REVIEW_VALUES = [
    ("rating", 0),
    ("rating", 5),
    ("rating", math.nan),
    ("duration_ms", -1),
    ("duration_ms", 2**70),
    ("card_before", "[]"),
    ("card_before", "1"),
    ("card_before", '"text"'),
    ("card_before", "{}"),
    ("card_before", "not json"),
    (
        "card_before",
        '{"state": 7, "step": 0, "stability": 1, "difficulty": 5, "due": '
        '"2026-01-05T09:00:00+00:00", "last_review": null, "reps": 1, "lapses": 0}',
    ),
    (
        "card_before",
        '{"state": 2, "step": null, "stability": NaN, "difficulty": 5, "due": '
        '"2026-01-05T09:00:00+00:00", "last_review": null, "reps": 1, "lapses": 0}',
    ),
    ("card_before", "[" * 100_000 + "]" * 100_000),
    ("card_before", {"state": 2}),
    ("reviewed_at", "0001-01-01T00:00:00Z"),
    ("reviewed_at", "2026-01-01T00:00:00"),
    ("due_after", "9999-12-31T23:59:59Z"),
    ("question_id", "no-such-question"),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE_CARD_VALUES)
def test_a_hostile_card_field_is_refused_and_nothing_is_stored(client, clock, field, value):
    data = _mutate(_valid(client, clock), ("cards", 0, field), value)
    r = _import(client, _dumps(data))
    assert 400 <= r.status_code < 500, r.status_code
    assert "cards" in r.text and "<form" in r.text  # the stats page, naming where it failed
    assert _stored(client) == ([], [])
    _every_page_works(client)


@pytest.mark.parametrize(("field", "value"), HOSTILE_REVIEW_VALUES)
def test_a_hostile_review_field_is_refused_and_nothing_is_stored(client, clock, field, value):
    data = _mutate(_valid(client, clock), ("reviews", 0, field), value)
    r = _import(client, _dumps(data))
    assert 400 <= r.status_code < 500, r.status_code
    assert _stored(client) == ([], [])
    _every_page_works(client)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b"null",
        b"\xff\xfe\x00garbage",
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        json.dumps({"format": "transformer-quiz/progress", "version": 1}).encode(),
        json.dumps({"format": "something-else", "version": 1, "cards": [], "reviews": []}).encode(),
        b'{"format": "transformer-quiz/progress", "version": 1e400}',
        b'{"format": "transformer-quiz/progress", "version": 99999999999999999999999999}',
    ],
    ids=[
        "garbage",
        "list",
        "null",
        "binary",
        "deep-list",
        "deep-object",
        "missing-fields",
        "wrong-format",
        "inf-version",
        "huge-version",
    ],
)
def test_a_file_that_is_not_a_progress_export_is_refused(client, body):
    r = _import(client, body)
    assert 400 <= r.status_code < 500, r.status_code
    assert _stored(client) == ([], [])
    _every_page_works(client)


def test_duplicate_cards_and_unknown_questions_are_named(client, clock):
    data = _valid(client, clock)
    data["cards"].append(copy.deepcopy(data["cards"][0]))
    data["cards"].append({**copy.deepcopy(data["cards"][1]), "question_id": "gone-1"})
    data["reviews"].append({**copy.deepcopy(data["reviews"][0]), "question_id": "gone-2"})
    r = _import(client, _dumps(data))
    assert r.status_code == 422
    assert "duplicate" in r.text and data["cards"][0]["question_id"] in r.text
    assert "gone-1" in r.text and "gone-2" in r.text
    assert _stored(client) == ([], [])


def test_a_valid_file_still_imports_and_an_account_with_progress_refuses_with_409(client, clock):
    data = _valid(client, clock)
    r = _import(client, _dumps(data))
    assert r.status_code == 303 and "imported" in r.headers["location"]
    cards, reviews = _stored(client)
    assert len(cards) == len(data["cards"]) and len(reviews) == len(data["reviews"])
    r = _import(client, _dumps(data))
    assert r.status_code == 409 and "already has progress" in r.text
    _every_page_works(client)


def test_reset_needs_confirmation_and_then_empties_only_this_account(client, clock):
    _valid(client, clock)
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    for confirm in ("", "yes", "no"):
        r = client.post("/progress/reset", data={"confirm": confirm})
        assert r.status_code == 422
    assert len(_stored(client)[1]) == 1
    _reset(client)
    assert _stored(client) == ([], [])
    _every_page_works(client)


def test_reset_needs_the_csrf_token(client, clock):
    client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    r = client.post(
        "/progress/reset", data={"confirm": "reset"}, headers={"X-CSRF-Token": "forged"}
    )
    assert r.status_code == 403
    assert len(_stored(client)[1]) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE card_state SET state = 7",
        "UPDATE card_state SET stability = -2",
        "UPDATE card_state SET difficulty = 99",
        "UPDATE card_state SET step = -4",
        "UPDATE card_state SET state = 2, step = 3, stability = NULL",
        "UPDATE card_state SET state = 3, step = NULL",
    ],
)
def test_a_corrupt_row_already_stored_does_not_take_a_page_down(app, client, sql):
    for q, g in (("alpha-two", 3), ("beta-one", 1)):
        client.post("/api/reviews", json={"question_id": q, "rating": g})
    with Session(app.state.engine) as s:
        s.execute(text(sql))
        s.commit()
    _every_page_works(client)
    # Grading the damaged card works and writes a valid card back.
    r = client.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3})
    assert r.status_code == 201
    assert client.get("/api/cards/alpha-two").json()["state"] in ("learning", "review")
    _every_page_works(client)


# ---- fuzz: any single-field mutation of a real export ------------------------------------------

_hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "2026-02-30T00:00:00Z"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(data=st.data())
def test_fuzz_any_mutated_field_is_refused_or_harmless(app, clock, data):
    with TestClient(app) as c:
        c = prime_csrf(c)
        _reset(c)
        valid = _valid(c, clock)
        section = data.draw(st.sampled_from(["cards", "reviews"]))
        i = data.draw(st.integers(0, len(valid[section]) - 1))
        field = data.draw(st.sampled_from(sorted(valid[section][i])))
        value = data.draw(_hostile)
        r = _import(c, _dumps(_mutate(valid, (section, i, field), value)))
        if r.status_code == 303:
            assert "imported" in r.headers["location"]
        else:
            assert 400 <= r.status_code < 500, r.status_code
            assert _stored(c) == ([], [])
        _every_page_works(c)
        assert c.post("/api/reviews", json={"question_id": QIDS[0], "rating": 2}).status_code == 201
        _every_page_works(c)

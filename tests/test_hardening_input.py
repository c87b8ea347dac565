"""Malformed input gets a clear 4xx and changes nothing (issue #10, item 8): CSRF tokens that are
not ASCII, Unicode digits, numbers with thousands of digits, naive datetimes, NaN / Infinity /
lone surrogates in JSON bodies, on every form field and every JSON route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import prime_csrf
from tests.test_accounts import group_app, group_settings  # noqa: F401 (fixtures)

QID = "soul-04-fixture-scaling"
IDS = "alpha-two,beta-one"
# Characters str.isdigit() accepts that int() refuses, or digits of other scripts, or too many.
BAD_NUMBERS = ["²", "³1", "①", "٣", "१", "1e3", "0x10", "-1", " ", "", "9" * 5000, "1_000", "\x00"]


def _reviews(c: TestClient) -> int:
    return len(c.get("/api/reviews").json())


def _assert_4xx(r) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])


@pytest.mark.parametrize("token", ["é", "токен", "\u2028", "a" * 10_000, "💥"])
def test_a_non_ascii_csrf_token_is_403_not_500(raw_client, token):
    raw_client.get("/")
    for headers, data in (({"x-csrf-token": token}, {}), ({}, {"csrf_token": token})):
        # Raw UTF-8 bytes in the header, as a hostile client sends them.
        r = raw_client.post("/undo", headers={k: v.encode() for k, v in headers.items()}, data=data)
        assert r.status_code == 403


def test_a_non_ascii_csrf_cookie_is_403_not_500(raw_client):
    r = raw_client.post("/undo", data={"csrf_token": "é"}, headers={"cookie": "tq_csrf=é".encode()})
    assert r.status_code == 403


def test_a_non_ascii_csrf_token_before_login(group_app):  # noqa: F811
    c = TestClient(group_app)
    c.get("/login")
    r = c.post("/login", data={"username": "a", "password": "b", "csrf_token": "ü"})
    assert r.status_code == 403


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_grade_fields_take_only_plain_numbers(client, bad):
    r = client.post(f"/q/{QID}/grade", data={"rating": bad}, follow_redirects=False)
    _assert_4xx(r)
    r = client.post(
        f"/q/{QID}/grade", data={"rating": "3", "duration_ms": bad}, follow_redirects=False
    )
    assert r.status_code == 303 or 400 <= r.status_code < 500
    assert _reviews(client) <= 1


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_quiz_answer_fields_take_only_plain_numbers(client, bad):
    for data in (
        {"ids": IDS, "i": bad, "right": "0", "choice": "0"},
        {"ids": IDS, "i": "0", "right": bad, "choice": "0"},
        {"ids": IDS, "i": "0", "right": "0", "choice": bad},
    ):
        r = client.post("/quiz/q", data=data, follow_redirects=False)
        assert r.status_code == 303 or 400 <= r.status_code < 500, (data, r.status_code)


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_choose_takes_only_plain_numbers(client, bad):
    r = client.post(f"/q/{QID}/choose", data={"choice": bad})
    assert r.status_code == 200 or 400 <= r.status_code < 500


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_mock_interview_fields_take_only_plain_numbers(client, clock, bad):
    started = clock.now.isoformat()
    base = {"ids": IDS, "i": "0", "seconds": "120", "started": started, "answer": "x"}
    for key in ("i", "seconds", "elapsed"):
        r = client.post("/mock/q", data={**base, key: bad})
        assert r.status_code == 200 or 400 <= r.status_code < 500, (key, r.status_code)
    for data in (
        {"ids": IDS, "elapsed": bad},
        {"ids": IDS, "kp-alpha-two": bad},
        {"ids": IDS, "kp-alpha-two": ["0", bad]},
    ):
        r = client.post("/mock/grade", data=data, follow_redirects=False)
        assert r.status_code == 303 or 400 <= r.status_code < 500, (data, r.status_code)


@pytest.mark.parametrize(
    "started",
    [
        "2026-01-05T09:00:00",
        "2026-01-05",
        "not a date",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00",
        "2026-01-05T09:00:00+99:00",
    ],
)
def test_mock_started_must_be_an_aware_sane_datetime(client, started):
    r = client.post("/mock/q", data={"ids": IDS, "i": "0", "seconds": "120", "started": started})
    assert r.status_code == 200 or 400 <= r.status_code < 500


JSON_BODIES = [
    b'{"question_id": "alpha-two", "rating": NaN}',
    b'{"question_id": "alpha-two", "rating": 3, "duration_ms": NaN}',
    b'{"question_id": "alpha-two", "rating": 3, "duration_ms": Infinity}',
    b'{"question_id": "alpha-two", "rating": 3, "duration_ms": -Infinity}',
    b'{"question_id": "\\ud800", "rating": 3}',
    b'{"question_id": "alpha-two", "rating": "\\udfff"}',
    b'{"question_id": "alpha-two", "rating": 3, "extra\\ud800": 1}',
    b'{"question_id": "alpha-two", "rating": 1e999}',
    b'{"question_id": "alpha-two", "rating": ' + b"9" * 5000 + b"}",
    b'{"question_id": "alpha-two", "rating": 3, "duration_ms": ' + b"9" * 5000 + b"}",
    b"[" * 10_000 + b"]" * 10_000,
    b'"\\ud800"',
    b"\xff\xfe",
]


@pytest.mark.parametrize("body", JSON_BODIES)
def test_hostile_json_bodies_get_a_4xx_on_every_json_route(client, body):
    paths = ["/api/reviews", f"/api/cards/{QID}/hold", "/api/demos/scaling-variance"]
    for path in paths:
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        _assert_4xx(r)
        r.json()  # a JSON error that the client can read
    assert _reviews(client) == 0


@pytest.mark.parametrize(
    "params",
    [b'{"d_k": NaN}', b'{"d_k": Infinity}', b'{"d_k": "\\ud800"}', b'{"\\ud800": 1}'],
)
def test_hostile_demo_parameters_get_a_422(client, params):
    r = client.post(
        "/api/demos/scaling-variance", content=params, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    r.json()


def test_hostile_json_before_login(group_app):  # noqa: F811
    c = prime_csrf(TestClient(group_app))
    for body in (
        b'{"username": "\\ud800", "password": "x"}',
        b'{"username": "a", "password": NaN}',
        b'{"username": "' + b"a" * 100 + b'", "password": "x"}',
    ):
        r = c.post("/api/session", content=body, headers={"content-type": "application/json"})
        _assert_4xx(r)
        r.json()


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_admin_and_demo_form_numbers(client, bad):
    r = client.post("/demos/scaling-variance/run", data={"seed": bad, "d_k": "64"})
    assert r.status_code in (200, 422)
    r = client.post("/demos/scaling-variance/run", data={"d_k": bad})
    assert r.status_code in (200, 422)

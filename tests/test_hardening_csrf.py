"""Cross-site requests change nothing (issue #10, item 2).

A page on another site, or on another port of the same host (same-site, so the browser sends the
cookies), can send a POST without a body and without a Content-Type (``fetch(url, {method:
"POST", mode: "no-cors"})``) or a form. Every unsafe route must refuse it: the API demands
``application/json`` or the CSRF header, and any request whose ``Origin`` / ``Sec-Fetch-Site``
says it comes from elsewhere is refused before it reaches a route."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import prime_csrf
from tests.test_accounts import group_app, group_settings, member  # noqa: F401 (fixtures)

QID = "soul-04-fixture-scaling"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# What a browser attaches to a request another page makes.
HOSTILE = [
    pytest.param({}, id="no-origin-no-type"),
    pytest.param({"origin": "http://evil.example"}, id="cross-site-origin"),
    pytest.param({"origin": "null"}, id="opaque-origin"),
    pytest.param({"sec-fetch-site": "cross-site"}, id="sec-fetch-cross-site"),
    pytest.param(
        {"sec-fetch-site": "same-site", "origin": "http://testserver:3000"}, id="same-site-port"
    ),
    pytest.param({"origin": "http://testserver.evil.example"}, id="lookalike-origin"),
    pytest.param({"content-type": "text/plain"}, id="text-plain"),
    pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="form-type"),
    pytest.param({"content-type": "multipart/form-data; boundary=x"}, id="multipart"),
    pytest.param({"content-type": "application/jsonp"}, id="json-lookalike-type"),
]


def _unsafe_api_routes(app) -> list[tuple[str, str]]:
    """Every unsafe method of every API route the app declares, path parameters filled in."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in sorted(m.upper() for m in ops if m.upper() in UNSAFE):
            filled = path.replace("{question_id}", QID).replace("{demo_id}", "scaling-variance")
            out.append((method, re.sub(r"\{[^}]+\}", "1", filled)))
    return out


def _state(c: TestClient) -> tuple:
    ex = c.get("/export.json").json()
    return (ex["cards"], ex["reviews"])


def _victim_local(app) -> TestClient:
    c = prime_csrf(TestClient(app))
    for q, g in (("alpha-two", 3), ("beta-one", 1), (QID, 4)):
        assert c.post("/api/reviews", json={"question_id": q, "rating": g}).status_code == 201
    # From here on the browser attaches only what the attacker's page can make it attach.
    del c.headers["X-CSRF-Token"]
    return c


@pytest.mark.parametrize("headers", HOSTILE)
def test_a_cross_site_bodyless_post_to_every_unsafe_api_route_changes_nothing(app, headers):
    c = _victim_local(app)
    before = _state(c)
    routes = _unsafe_api_routes(app)
    assert ("POST", "/api/undo") in routes and ("POST", "/api/reviews") in routes
    for method, path in routes:
        r = c.request(method, path, headers=headers)
        assert r.status_code in (403, 415), (method, path, r.status_code)
    assert _state(c) == before


@pytest.mark.parametrize("headers", HOSTILE)
def test_the_same_in_accounts_mode_with_the_session_cookie(group_app, headers):  # noqa: F811
    a = member(group_app, "alice", invite=None)
    for q in ("alpha-two", "beta-one"):
        assert a.post("/api/reviews", json={"question_id": q, "rating": 3}).status_code == 201
    token = a.headers.pop("X-CSRF-Token")
    before = _state(a)
    for method, path in _unsafe_api_routes(group_app):
        r = a.request(method, path, headers=headers)
        assert r.status_code in (403, 415), (method, path, r.status_code)
    assert _state(a) == before
    a.headers["X-CSRF-Token"] = token
    assert a.get("/api/me").status_code == 200  # still logged in: nothing was changed


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "http://testserver:3000"},
    ],
)
def test_a_cross_site_form_with_a_planted_token_changes_nothing(app, headers):
    # A same-site page can plant its own CSRF cookie (cookies ignore ports) and post that token.
    c = _victim_local(app)
    before = _state(c)
    token = c.cookies["tq_csrf"]
    for path, data in (
        ("/undo", {}),
        (f"/q/{QID}/grade", {"rating": "1"}),
        (f"/q/{QID}/hold", {"action": "suspend"}),
    ):
        r = c.post(path, data={**data, "csrf_token": token}, headers=headers)
        assert r.status_code == 403, (path, r.status_code)
    assert _state(c) == before


def test_same_origin_requests_still_work(app):
    c = _victim_local(app)
    token = c.cookies["tq_csrf"]
    same = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    r = c.post("/api/reviews", json={"question_id": "alpha-two", "rating": 3}, headers=same)
    assert r.status_code == 201
    # The page's own script: a body-less POST with the CSRF header.
    r = c.post("/api/undo", headers={**same, "x-csrf-token": token})
    assert r.status_code == 200 and r.json()["undone"] is True
    # JSON without browser metadata (a script, curl) is not a browser's cross-site request.
    r = c.post("/api/undo", headers={"content-type": "application/json"})
    assert r.status_code == 200
    # A typed-in navigation has Sec-Fetch-Site: none.
    r = c.post(
        f"/q/{QID}/grade",
        data={"rating": "3", "csrf_token": token},
        headers={"sec-fetch-site": "none"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_a_wrong_csrf_header_is_refused_even_with_json(app):
    c = _victim_local(app)
    before = _state(c)
    for extra in ({}, {"content-type": "application/json"}):
        r = c.post("/api/undo", headers={"x-csrf-token": "forged", **extra})
        assert r.status_code == 403
    assert _state(c) == before

"""CSRF on form posts, security headers, body limits, JSON-only API."""

from __future__ import annotations

import re

QID = "soul-04-fixture-scaling"


def test_form_post_without_csrf_token_is_rejected(raw_client):
    r = raw_client.post(f"/q/{QID}/grade", data={"rating": "3"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert raw_client.get(f"/api/cards/{QID}").json()["state"] == "new"


def test_form_post_with_the_pages_token_works(raw_client):
    html = raw_client.get(f"/q/{QID}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert raw_client.cookies["tq_csrf"] == token
    r = raw_client.post(
        f"/q/{QID}/grade", data={"rating": "3", "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = raw_client.post(f"/q/{QID}/grade", data={"rating": "3", "csrf_token": "forged"})
    assert r.status_code == 403


def test_api_refuses_form_bodies(raw_client):
    r = raw_client.post("/api/reviews", data={"question_id": QID, "rating": "3"})
    assert r.status_code == 415


def test_security_headers(raw_client):
    r = raw_client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp  # no inline scripts on our pages
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "httponly" in r.headers["set-cookie"].lower()


def test_oversized_body_is_413(raw_client):
    r = raw_client.post(
        "/api/reviews", content=b"x" * (2 << 20), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_api_docs_are_served_without_a_cdn(raw_client):
    html = raw_client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()


def test_a_cross_site_form_post_shows_a_browser_a_page_not_json(raw_client):
    r = raw_client.post(
        "/import",
        files={"file": ("p.json", b"{}", "application/json")},
        headers={"origin": "http://evil.example", "accept": "text/html"},
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "x-frame-options" in r.headers
    api = raw_client.post("/api/reviews", json={}, headers={"origin": "http://evil.example"})
    assert api.status_code == 403 and api.json() == {"detail": "cross-site request refused"}

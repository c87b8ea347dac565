"""The Docker image's start command outside Docker: `transformer-quiz serve` with accounts on, two
workers, migrations on start, and DATABASE_URL pointing at PostgreSQL when the suite has one
(`make test-pg`), SQLite otherwise. An organiser starts the group, invites a member, and neither
sees the other's progress."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURE_BANK, _database_url
from tests.live import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.deploy]


def _form_client(url: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    c.get("/healthz")
    return c


def _post_form(c: httpx.Client, path: str, **data) -> httpx.Response:
    return c.post(path, data={"csrf_token": c.cookies.get("tq_csrf"), **data})


def _api(c: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": c.cookies.get("tq_csrf")}


def test_docker_start_command_serves_a_study_group(tmp_path: Path):
    env = {
        "TQ_AUTH_ENABLED": "true",
        "TQ_SECRET_KEY": secrets.token_urlsafe(32),
        "TQ_REGISTRATION": "invite",
        "TQ_WORKERS": "2",
    }
    db = _database_url(tmp_path)
    if db:
        env["DATABASE_URL"] = db
    with LiveServer(tmp_path, FIXTURE_BANK, workers=2, env=env) as server:
        org, member, stranger = (_form_client(server.url) for _ in range(3))
        try:
            assert org.get("/api/next").status_code == 401

            # The first account needs no invite and becomes the admin.
            r = _post_form(org, "/register", username="organiser", password="correct horse 1")
            assert r.status_code == 303, r.text
            assert org.get("/api/me").json()["is_admin"] is True

            # The organiser makes an invite; a member joins with it, a stranger cannot.
            assert _post_form(org, "/admin/invites", max_uses="1").status_code == 303
            code = re.search(r'class="invite-code">([^<]+)<', org.get("/admin").text).group(1)
            r = _post_form(stranger, "/register", username="stranger", password="pw-pw-pw-pw")
            assert r.status_code == 400
            r = _post_form(
                member, "/register", username="member", password="battery staple", invite=code
            )
            assert r.status_code == 303, r.text
            assert member.get("/api/me").json()["is_admin"] is False

            # Each grades a card; neither sees the other's reviews.
            body = {"question_id": "alpha-two", "rating": 3}
            mine = member.post("/api/reviews", json=body, headers=_api(member))
            assert mine.status_code == 201, mine.text
            rid = mine.json()["review_id"]
            assert org.get("/api/reviews").json() == []
            assert org.get(f"/api/reviews/{rid}").status_code == 404
            assert member.get(f"/api/reviews/{rid}").status_code == 200
        finally:
            for c in (org, member, stranger):
                c.close()

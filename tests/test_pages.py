"""The server-rendered pages: they render, carry math for KaTeX, and grading works by plain form."""

from __future__ import annotations

import re

QID = "soul-04-fixture-scaling"


def test_home_lists_topics_with_counts(client):
    html = client.get("/").text
    assert 'id="topic-alpha"' in html and 'id="topic-beta"' in html
    assert 'id="new-count">3<' in html
    assert "/review" in html


def test_question_page_renders_markdown_and_math(client):
    r = client.get(f"/q/{QID}", headers={"accept-language": "en"})
    assert r.status_code == 200
    html = r.text
    assert "Why divide by √d_k?" in html
    assert '<span class="math display">' in html and '<span class="math inline">' in html
    # Every $ of the bank became a math element: none is left raw in the page.
    body = html.split("<main", 1)[1]
    assert "$" not in re.sub(r"<script.*?</script>", "", body, flags=re.S)
    assert 'id="grade-good"' in html and "10m" in html  # grade buttons show the next interval
    assert 'id="demo-scaling-variance"' in html  # the demo sits beside the explanation


def test_language_toggle_is_remembered(client):
    assert "Why divide" in client.get(f"/q/{QID}", headers={"accept-language": "en"}).text
    r = client.get("/lang/zh", params={"next": f"/q/{QID}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/q/{QID}"
    assert "lang=zh" in r.headers["set-cookie"]
    html = client.get(f"/q/{QID}", headers={"accept-language": "en"}).text
    assert "为什么要除以" in html and 'lang="zh-CN"' in html


def test_lang_redirect_refuses_other_sites(client):
    r = client.get("/lang/en", params={"next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_review_flow_by_form(client):
    html = client.get("/review").text
    assert f'data-question="{QID}"' in html
    r = client.post(
        f"/q/{QID}/grade", data={"rating": "3", "next": "/review"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/review")
    html = client.get(r.headers["location"]).text
    assert 'data-question="alpha-two"' in html and "Grade recorded" in html
    client.post("/q/alpha-two/grade", data={"rating": "4", "next": "/review"})
    client.post("/q/beta-one/grade", data={"rating": "4", "next": "/review"})
    assert 'id="review-done"' in client.get("/review").text


def test_topic_and_question_list(client):
    r = client.get("/topics/beta")
    assert r.status_code == 200 and "/q/beta-one" in r.text and "/q/alpha-two" not in r.text
    html = client.get("/questions", params={"q": "second"}).text
    assert "/q/alpha-two" in html and "/q/beta-one" not in html
    assert client.get("/topics/nope").status_code == 404
    assert client.get("/q/nope").status_code == 404


def test_multiple_choice_feedback(client):
    html = client.post(f"/q/{QID}/choose", data={"choice": "1"}).text
    assert 'id="mc-verdict"' in html and "Not quite" in html
    html = client.post(f"/q/{QID}/choose", data={"choice": "0"}).text
    assert "Correct" in html


def test_healthz(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_static_vendor_assets_are_served(client):
    for path in [
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/katex/katex.min.js",
        "/static/vendor/chartjs/chart.umd.min.js",
        "/static/app.js",
    ]:
        assert client.get(path).status_code == 200, path


def test_undo_from_the_page(client):
    client.post(f"/q/{QID}/grade", data={"rating": "3", "next": "/review"})
    html = client.get("/review?flash=graded").text
    assert 'id="undo"' in html
    r = client.post("/undo", data={"next": "/review?flash=graded"}, follow_redirects=False)
    assert r.headers["location"] == "/review?flash=undone"
    assert client.get(f"/api/cards/{QID}").json()["state"] == "new"


def test_bury_and_suspend_from_the_page(client):
    r = client.post(
        f"/q/{QID}/hold", data={"action": "bury", "next": "/review"}, follow_redirects=False
    )
    assert r.headers["location"] == "/review?flash=buried"
    assert f'data-question="{QID}"' not in client.get("/review").text
    client.post(f"/q/{QID}/hold", data={"action": "suspend", "next": f"/q/{QID}"})
    assert 'id="unsuspend"' in client.get(f"/q/{QID}").text
    assert client.post(f"/q/{QID}/hold", data={"action": "nope"}).status_code == 422


def test_typed_answer_is_shown_beside_the_key_points_without_js(client):
    html = client.get(f"/q/{QID}", params={"typed": "variance grows like d_k"}).text
    assert '<details id="reveal" open' in html
    assert 'id="typed-echo">variance grows like d_k</pre>' in html


def test_question_filters_from_the_form(client):
    # The form sends empty values for "any": they are no filter, not an error.
    r = client.get("/questions?q=&topic=&difficulty=&tag=")
    assert r.status_code == 200 and r.text.count("<tr>") == 3
    r = client.get("/questions?difficulty=3")
    assert r.text.count("<tr>") == 1 and "/q/beta-one" in r.text
    r = client.get("/questions?tag=soul-04")
    assert r.text.count("<tr>") == 1 and "/q/soul-04-fixture-scaling" in r.text
    r = client.get("/questions?q=variance")  # searches answers too, both languages
    assert "/q/soul-04-fixture-scaling" in r.text


def test_home_groups_topics_into_the_2017_transformer_and_modern_llms(tmp_path, compute_pool):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from tests.conftest import REAL_BANK

    s = Settings(
        data_dir=tmp_path,
        questions_dir=REAL_BANK,
        compute_socket=compute_pool.socket,
        _env_file=None,
    )
    with TestClient(create_app(s)) as c:
        html = c.get("/").text
    a, b = html.index('id="group-transformer-2017"'), html.index('id="group-modern-llm"')
    assert a < html.index('id="topic-attention"') < b < html.index('id="topic-kv-cache"')

"""What a person sees when something goes wrong, and that every form step can be reloaded
(issue #16): HTML error pages in the site's layout and language, JSON kept for /api, and every
POST answered by a redirect to a GET page."""

from __future__ import annotations

HTML = {"accept": "text/html,application/xhtml+xml", "accept-language": "en"}
QID = "soul-04-fixture-scaling"


def test_unknown_page_is_an_html_page_in_the_layout(client):
    r = client.get("/nope", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert 'id="error"' in r.text and 'class="topbar"' in r.text and "Page not found" in r.text


def test_error_page_speaks_the_readers_language(client):
    r = client.get("/nope", headers={**HTML, "accept-language": "zh-CN"})
    assert r.status_code == 404 and "没有这个页面" in r.text and 'lang="zh-CN"' in r.text


def test_api_and_scripts_keep_json(client):
    r = client.get("/api/questions/nope", headers=HTML)
    assert r.status_code == 404 and r.json() == {"detail": "no question 'nope'"}
    r = client.get("/nope")  # no Accept: text/html, a script
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


def test_invalid_input_is_a_page_naming_the_field_without_echoing_it(client):
    r = client.get("/quiz/done", params={"ids": "x<script>", "right": "1"}, headers=HTML)
    assert r.status_code == 422 and 'id="error-problems"' in r.text
    assert "ids" in r.text and "<script>" not in r.text.split("<main", 1)[1]
    r = client.get("/quiz/done", params={"ids": "x<script>"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "ids"]


def test_wrong_method_is_a_page(client):
    r = client.put(f"/q/{QID}", headers=HTML)
    assert r.status_code == 405 and "cannot be opened this way" in r.text

"""What a person sees when something goes wrong, and that every form step can be reloaded
(issue #16): HTML error pages in the site's layout and language, JSON kept for /api, and every
POST answered by a redirect to a GET page."""

from __future__ import annotations

import re

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


def test_installable_manifest_icons_and_service_worker(client):
    html = client.get("/", headers=HTML).text
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in html
    m = client.get("/static/manifest.webmanifest").json()
    assert m["start_url"] == "/" and m["display"] == "standalone"
    sizes = set()
    for icon in m["icons"]:
        r = client.get(icon["src"])
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes  # what a phone needs to add it to the home screen
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["content-type"]
    assert "/static/offline.html" in sw.text
    offline = client.get("/static/offline.html")
    assert (
        offline.status_code == 200
        and "连不上服务器" in offline.text
        and "cannot be reached" in offline.text
    )


def test_review_keeps_demos_closed_until_the_answer_is_shown(client):
    html = client.get("/review", headers=HTML).text
    assert f'data-question="{QID}"' in html
    box = re.search(r'<details class="demos demos-box" id="demos"([^>]*)>', html)
    assert box and " open" not in box.group(1) and 'data-after-reveal="true"' in box.group(1)
    # Browsing the same question keeps them open.
    html = client.get(f"/q/{QID}", headers=HTML).text
    box = re.search(r'<details class="demos demos-box" id="demos"([^>]*)>', html)
    assert box and " open" in box.group(1)

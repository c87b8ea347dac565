"""What a person sees when something goes wrong, and that every form step can be reloaded
(issue #16): HTML error pages in the site's layout and language, JSON kept for /api, and every
POST answered by a redirect to a GET page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

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


def test_check_on_a_question_redirects_to_a_page_that_reloads(client):
    token = client.cookies.get("tq_csrf")
    r = client.post(
        f"/q/{QID}/choose",
        data={"csrf_token": token, "choice": "1", "next": "/review"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    assert url.startswith(f"/q/{QID}?picked=1&next=%2Freview")
    for _ in range(2):  # reload: the same verdict, no 405
        page = client.get(url.split("#")[0], headers=HTML)
        assert page.status_code == 200 and 'id="mc-verdict"' in page.text
        assert "verdict bad" in page.text
    # An old history entry pointing at the POST address lands on the question, not a 405.
    old = client.get(f"/q/{QID}/choose", headers=HTML, follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"] == f"/q/{QID}"


def _hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


def test_mock_interview_lives_in_its_address(client, clock):
    r = client.get("/mock/start?n=2&seconds=60", follow_redirects=False)
    first = r.headers["location"]
    assert "started=" in first  # stamped when shown: a reload keeps the time
    page = client.get(first, headers=HTML)
    qid = re.search(r'id="mock-card" data-question="([^"]+)"', page.text).group(1)
    clock.advance(seconds=20)
    again = client.get(first, headers=HTML)  # reload 20 s later: same question, 40 s left
    assert f'data-question="{qid}"' in again.text and ">40s<" in again.text
    # "Next" is a GET that redirects to the next question's own address.
    query = {k: v[0] for k, v in parse_qs(urlsplit(first).query).items()}
    step = client.get(
        "/mock/next", params={**query, "answer": "缩放防止 softmax 饱和"}, follow_redirects=False
    )
    assert step.status_code == 303
    second = step.headers["location"]
    assert "i=1" in second and "elapsed=20" in second and "t=" in second
    page = client.get(second, headers=HTML)
    assert page.status_code == 200 and f'data-question="{qid}"' not in page.text
    assert client.get(second, headers=HTML).text.count('id="mock-card"') == 1  # reload works
    query = {k: v for k, v in parse_qs(urlsplit(second).query).items()}
    query = {k: (v if k == "elapsed" else v[0]) for k, v in query.items()}
    done = client.get("/mock/next", params={**query, "answer": "second"}, follow_redirects=False)
    grade = done.headers["location"]
    assert grade.startswith("/mock/grade?")
    page = client.get(grade, headers=HTML)
    assert 'id="mock-grade"' in page.text
    assert "缩放防止 softmax 饱和" in page.text and "second" in page.text
    assert client.get(grade, headers=HTML).status_code == 200  # and the grading page reloads


def test_mock_summary_lists_only_topics_not_fully_covered(client):
    ids = f"{QID},alpha-two"
    kp = client.get(f"/api/questions/{QID}").json()["key_points"]["en"]
    r = client.get(f"/mock/done?ids={ids}&hits={len(kp)},0", headers=HTML)
    assert "Topics to work on" in r.text and "weakest topics" not in r.text
    weak = re.search(r'<ol id="weak-topics".*?</ol>', r.text, re.S).group(0)
    assert "100%" not in weak and "0%" in weak


def test_long_answers_still_fit_the_address():
    from app.web.study import MOCK_URL_BUDGET, _fit, pack_answers, unpack_answers

    answers = ["注意力" * 1300, "LayerNorm " * 400, "", "短"]
    packed = pack_answers(_fit(answers))
    assert len(packed) <= MOCK_URL_BUDGET
    assert unpack_answers(packed) == answers  # compressible text survives intact


def test_validation_messages_speak_the_readers_language(client):
    zh = {**HTML, "accept-language": "zh-CN"}
    r = client.get("/mock/start", params={"seconds": "5000"}, headers=zh)
    assert r.status_code == 422 and "seconds: 不能大于 900" in r.text
    r = client.get("/mock/start", params={"seconds": "x"}, headers=HTML)
    assert "seconds: must be a whole number" in r.text
    token = client.cookies.get("tq_csrf")
    r = client.post(
        "/demos/scaling-variance/run",
        data={"csrf_token": token, "d_k": "0", "seed": "0"},
        headers={**zh, "hx-request": "true"},
    )
    assert r.status_code == 422 and "允许范围" in r.text and "Input should" not in r.text


def test_prompts_typeset_code_and_math_inline():
    from app.web.pages import _inline_markdown

    html = str(_inline_markdown("Why not encode `<|im_end|>` typed by a user, given $d_k$?"))
    assert "<code>&lt;|im_end|&gt;</code>" in html and '<span class="math inline">' in html
    assert "<p>" not in html and "`" not in html  # fits in a heading or a link


def test_question_heading_has_no_raw_markdown(client):
    html = client.get(f"/q/{QID}", headers=HTML).text
    heading = re.search(r'<h1 class="prompt">(.*?)</h1>', html, re.S).group(1)
    assert "`" not in heading and "<p>" not in heading


def test_incompressible_answers_are_shortened_to_fit_quickly():
    import random
    import time

    from app.web.study import MOCK_URL_BUDGET, _fit, pack_answers

    rng = random.Random(0)
    noise = ["".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(4000)) for _ in range(30)]
    start = time.perf_counter()
    fitted = _fit(noise)
    assert len(pack_answers(fitted)) <= MOCK_URL_BUDGET
    assert all(a for a in fitted) and time.perf_counter() - start < 5

"""A newcomer's first session in a real browser, and a review done by keyboard alone."""

from __future__ import annotations

from playwright.sync_api import expect


def _question_with_demo(api, demo: str = "scaling-variance") -> dict:
    qs = api.get("/api/questions").json()
    return next(q for q in qs if demo in q["demos"])


def _review_count(api) -> int:
    return len(api.get("/api/reviews", params={"limit": 1000}).json())


def _chart_drawn(page, selector: str) -> None:
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].some(c => window.Chart && Chart.getChart(c))",
        arg=selector,
    )


def test_newcomer_first_session(page, api):
    shot = page.shots
    q = _question_with_demo(api)
    before = _review_count(api)

    # 1. Home: topics with counts.
    page.goto("/")
    expect(page.locator(".topic-card").first).to_be_visible()
    shot(page, "home")

    # 2. Pick the topic, then the question.
    page.locator(f"#topic-{q['topic']} h3 a").click()
    expect(page).to_have_url(f"/questions?topic={q['topic']}")
    shot(page, "topic")
    page.locator(f"a[href='/q/{q['id']}']").first.click()
    expect(page.locator("#card")).to_have_attribute("data-question", q["id"])
    expect(page.locator("#reveal")).not_to_have_attribute("open", "")
    shot(page, "question")

    # 3. Space reveals the answer; the explanation's math is typeset by KaTeX.
    page.keyboard.press("Space")
    expect(page.locator("#reveal")).to_have_attribute("open", "")
    expect(page.locator("#explanation .katex").first).to_be_visible()
    assert "$" not in page.locator("#explanation").inner_text()
    shot(page, "revealed")

    # 4. "Show me": the demo runs on the server and its chart is drawn beside the explanation.
    demo = page.locator("#demo-scaling-variance")
    demo.locator("button.show-me").click()
    expect(demo.locator(".result .conclusion")).to_be_visible()
    _chart_drawn(page, "#demo-scaling-variance canvas.chart-canvas")
    card_box = page.locator("#card").bounding_box()
    demo_box = demo.bounding_box()
    assert demo_box["x"] > card_box["x"] + card_box["width"] / 2, "demo should sit beside the text"
    shot(page, "demo")

    # 5. Grade by keyboard: 3 = Good. The review is recorded.
    page.locator("#reveal-btn").focus()
    page.keyboard.press("3")
    expect(page.locator(".flash")).to_be_visible()
    assert _review_count(api) == before + 1
    shot(page, "graded")

    # 6. Switch language; the choice survives a reload.
    lang = page.locator("html").get_attribute("lang")
    target = "en" if lang.startswith("zh") else "zh"
    page.locator(f"#lang-{target}").click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if target == "en" else "zh-CN")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en" if target == "en" else "zh-CN")
    shot(page, f"lang-{target}")

    # 7. The stats page draws its charts.
    page.goto("/stats")
    _chart_drawn(page, "canvas.chart-canvas")
    shot(page, "stats")


def test_review_five_cards_by_keyboard_alone(page, api):
    shot = page.shots
    before = _review_count(api)
    page.goto("/review")
    seen = []
    for i in range(5):
        card = page.locator("#card")
        expect(card).to_be_visible()
        qid = card.get_attribute("data-question")
        assert qid not in seen, f"card {qid} came back within the session"
        seen.append(qid)
        page.keyboard.press("Space")
        expect(page.locator("#reveal")).to_have_attribute("open", "")
        shot(page, f"card{i + 1}-revealed")
        page.keyboard.press(str((i % 4) + 1 if i % 4 else 3))
        page.wait_for_function(
            "q => { const c = document.querySelector('#card');"
            " return !c || c.dataset.question !== q; }",
            arg=qid,
        )
    shot(page, "after-five")
    logs = api.get("/api/reviews", params={"limit": 5}).json()
    assert _review_count(api) == before + 5
    assert {r["question_id"] for r in logs} == set(seen)


def test_demo_page_refuses_out_of_range_params_with_the_allowed_range(page):
    shot = page.shots
    page.expected_errors.append("status of 422")
    page.goto("/demos/scaling-variance")
    page.locator("details.params summary").click()
    field = page.locator("input[name='d_k']")
    # Bypass the browser's own min/max check: the server must say it too.
    field.evaluate("el => { el.removeAttribute('max'); el.value = '99999'; }")
    page.locator("button.show-me").click()
    err = page.locator(".errors")
    expect(err).to_be_visible()
    expect(err).to_contain_text("4096")
    shot(page, "422")

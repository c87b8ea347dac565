"""A drill in a real browser: a wrong solution shows the failing case, the fix passes, the drill's
card is scheduled; the editor is CodeMirror and Ctrl+Enter runs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

DRILL = "scaled-dot-product-attention"
REF = (Path(__file__).resolve().parents[2] / "drills" / DRILL / "reference.py").read_text()
WRONG = REF.replace(" / math.sqrt(q.size(-1))", "")  # forgets to divide by √d_k


def _set_code(page, code: str) -> None:
    page.evaluate(
        "code => tqEditor.dispatch({changes: {from: 0, to: tqEditor.state.doc.length, insert: code}})",
        code,
    )


def test_write_a_wrong_solution_fix_it_and_the_card_is_scheduled(page, api):
    assert WRONG != REF, "the mistake must change the reference"
    shot = page.shots
    page.goto(f"/drills/{DRILL}")
    expect(page.locator("#editor .cm-editor")).to_be_visible()  # CodeMirror replaced the textarea
    expect(page.locator("#code")).to_be_hidden()
    shot(page, "drill")

    _set_code(page, WRONG)
    page.locator("#editor .cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#verdict")).to_have_text("Some tests failed", timeout=20_000)
    failing = page.locator("#cases li.fail").first
    expect(failing).to_be_visible()
    expect(failing.locator("pre")).to_contain_text("√d_k")  # the message names the slip
    shot(page, "failed")

    # The editor comes back with the learner's last code; fix it and run again.
    page.locator("a[href^='/drills'][href*='attempt']").first.wait_for()
    _set_code(page, REF)
    page.locator("#run").click()
    expect(page.locator("#verdict")).to_have_text("All tests passed", timeout=20_000)
    expect(page.locator("#cases li.fail")).to_have_count(0)
    expect(page.locator("#result")).to_contain_text("Hard")  # it took a failure first
    shot(page, "passed")

    detail = api.get(f"/api/drills/{DRILL}").json()
    assert [a["verdict"] for a in detail["attempts"]][:2] == ["passed", "failed"]
    assert detail["attempts"][0]["rating"] == 2 and detail["reference"]


def test_hints_are_revealed_one_at_a_time(page):
    page.goto(f"/drills/{DRILL}")
    hints = page.locator("#hints .hint")
    expect(hints.nth(0)).to_be_visible()
    if hints.count() > 1:
        expect(hints.nth(1)).to_be_hidden()
        hints.nth(0).locator("summary").click()
        expect(hints.nth(1)).to_be_visible()
        assert page.locator("#hints-used").input_value() == "1"


def test_the_chinese_page_names_the_cases_and_tags_in_chinese(page, api, server):
    # Case names and the "hidden" tag follow the page's language, like every other word on it.
    page.context.add_cookies([{"name": "lang", "value": "zh", "url": server.url}])
    run = api.post(f"/api/drills/{DRILL}/submit", json={"code": WRONG}).json()
    assert run["passed"] is False
    page.goto(f"/drills/{DRILL}?attempt={run['attempt']['id']}#result")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#cases li", has_text="分数乘以 1/√d_k")).to_have_class("fail")
    expect(page.locator("#cases .tag").first).to_have_text("隐藏")
    expect(page.locator("#cases")).not_to_contain_text("hidden")
    expect(page.locator("#cases")).not_to_contain_text("scores are scaled by 1/√d_k")
    expect(page.locator(".examples summary").first).to_have_text("带批次和头维度时的形状")
    expect(page.locator("#editor .cm-content")).to_have_attribute("aria-label", "你的代码")
    page.shots(page, "drill-zh")

"""The quiz and the mock interview as a person takes them, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def _reviews(api) -> list[dict]:
    return api.get("/api/reviews", params={"limit": 1000}).json()


def _choices(api, qid: str) -> list[dict]:
    return api.get(f"/api/questions/{qid}").json()["choices"]


def test_quiz_three_questions_one_wrong(page, api):
    shot = page.shots
    before = len(_reviews(api))
    page.goto("/quiz")
    page.locator("select[name='topic']").select_option("attention")
    page.locator("input[name='n']").fill("3")
    shot(page, "start")
    page.locator("#quiz-go").click()

    seen: list[str] = []
    for i in range(3):
        card = page.locator("#quiz-card")
        # Links are boosted (htmx swaps the page): wait for the new, unanswered question.
        expect(page.locator("#quiz-check")).to_be_visible()
        for prev in seen:
            expect(card).not_to_have_attribute("data-question", prev)
        qid = card.get_attribute("data-question")
        seen.append(qid)
        choices = _choices(api, qid)
        wrong = i == 0
        picks = (
            [next(k for k, c in enumerate(choices) if not c["correct"])]
            if wrong
            else [k for k, c in enumerate(choices) if c["correct"]]
        )
        for k in picks:
            page.locator(f"#quiz-form input[name='choice'][value='{k}']").check()
        page.locator("#quiz-check").click()

        # Immediate feedback: the verdict, and the why of every option.
        verdict = page.locator("#quiz-verdict")
        expect(verdict).to_have_class(re.compile("bad" if wrong else "ok"))
        expect(page.locator(".opts .why")).to_have_count(len(choices))
        expect(page.locator("#quiz-score")).to_have_text("0" if wrong else str(i))
        shot(page, f"q{i + 1}-{'wrong' if wrong else 'right'}")
        if wrong:
            # The wrong answer scheduled the card (Again); a reload records nothing more.
            logs = _reviews(api)
            assert len(logs) == before + 1
            assert (logs[0]["question_id"], logs[0]["rating"]) == (qid, 1)
            page.reload()
            expect(page.locator("#quiz-verdict")).to_have_class(re.compile("bad"))
            assert len(_reviews(api)) == before + 1
        page.locator("#quiz-next").click()

    expect(page.locator("#quiz-final")).to_have_text("2 / 3")
    assert len(_reviews(api)) == before + 1  # right answers leave the schedule alone
    shot(page, "score")


def test_mock_interview_timed_typed_and_self_graded(page, api):
    shot = page.shots
    before = len(_reviews(api))
    page.goto("/mock")
    page.locator("input[name='n']").fill("2")
    page.locator("input[name='seconds']").fill("30")
    page.locator("#mock-go").click()

    # The countdown runs in the page.
    countdown = page.locator("#countdown")
    expect(countdown).to_have_text(re.compile(r"^\d+s$"))
    page.wait_for_function(
        "() => parseInt(document.getElementById('countdown').textContent, 10) < 30"
    )
    first = page.locator("#mock-card").get_attribute("data-question")
    page.locator("#mock-answer").fill("Scaling keeps the logits' variance at one.")
    shot(page, "q1")
    page.locator("#mock-next").click()

    expect(page.locator("#mock-card")).not_to_have_attribute("data-question", first)
    second = page.locator("#mock-card").get_attribute("data-question")
    page.locator("#mock-answer").fill("")
    page.locator("#mock-next").click()

    # Self-grading: my typed answer beside the key points; tick all of the first question's.
    grade = page.locator("#mock-grade")
    expect(grade).to_be_visible()
    expect(grade).to_contain_text("Scaling keeps the logits' variance at one.")
    for box in page.locator(f"input[name='kp-{first}']").all():
        box.check()
    shot(page, "self-grade")
    page.locator("#mock-submit").click()

    expect(page.locator("#mock-score")).to_be_visible()
    expect(page.locator("#weak-topics li").first).to_be_visible()
    ratings = {r["question_id"]: r["rating"] for r in _reviews(api)[:2]}
    assert ratings == {first: 4, second: 1}  # every point → Easy, none → Again
    page.reload()
    assert len(_reviews(api)) == before + 2
    shot(page, "summary")

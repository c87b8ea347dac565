"""Study science in a real browser: the settings page, readiness for an interview date, and a
cram session by keyboard that leaves the schedule alone."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect


def test_settings_readiness_and_plan(page, api):
    shot = page.shots
    page.goto("/settings")
    expect(page.locator("#settings-form")).to_be_visible()
    shot(page, "settings")

    today = date.fromisoformat(api.get("/api/settings").json()["today"])
    interview = today + timedelta(days=10)
    page.locator("#f-timezone").fill("Asia/Shanghai")
    page.locator("#f-day-start").fill("4")
    page.locator("#f-interview").fill(interview.isoformat())
    page.locator("#f-daily-limit").fill("60")
    page.locator("#settings-save").click()
    expect(page.locator("#settings-flash")).to_be_visible()
    expect(page.locator("#f-timezone")).to_have_value("Asia/Shanghai")
    shot(page, "saved")
    got = api.get("/api/settings").json()
    assert (got["timezone"], got["day_start_hour"], got["daily_limit"]) == ("Asia/Shanghai", 4, 60)
    assert got["interview_date"] == interview.isoformat()

    # The workload at each retention, before choosing one.
    page.locator("#show-workload").click()
    expect(page.locator("#workload tbody tr")).to_have_count(8, timeout=90_000)  # on the pool
    expect(page.locator("#workload tr.best")).to_have_count(1)
    shot(page, "workload")

    # Readiness: nothing studied yet, so 0% now; the plan spreads the bank over the days left.
    page.goto("/readiness")
    expect(page.locator("#expected-share")).to_have_text("0%")
    expect(page.locator("#plan tbody tr")).to_have_count(
        int(page.locator("#days-left").inner_text())
    )
    expect(page.locator("#plan-today")).to_contain_text("/ 60")
    shot(page, "readiness")

    # The review queue now shows its counters; one Good raises readiness.
    page.goto("/review")
    expect(page.locator("#queue-counts")).to_be_visible()
    page.keyboard.press("Space")
    expect(page.locator("#reveal")).to_have_attribute("open", "")
    page.keyboard.press("3")
    expect(page.locator(".flash")).to_be_visible()
    shot(page, "review-counters")
    page.goto("/readiness")
    expect(page.locator("#expected-share")).not_to_have_text("0%")


def test_cram_by_keyboard_moves_no_schedule(page, api):
    shot = page.shots
    qs = [q["id"] for q in api.get("/api/questions", params={"soul": True}).json()]
    before = {q: api.get(f"/api/cards/{q}").json() for q in qs}
    logs_before = len(api.get("/api/reviews", params={"limit": 1000}).json())

    page.goto("/cram")
    page.locator("#cram-soul").check()
    page.locator("#cram-n").fill("2")
    shot(page, "start")
    page.locator("#cram-go").click()
    for rating in ("1", "3"):
        expect(page.locator("#cram-note")).to_be_visible()
        expect(page.locator("#reveal")).not_to_have_attribute("open", "")
        page.keyboard.press("Space")
        expect(page.locator("#reveal")).to_have_attribute("open", "")
        shot(page, f"card-{rating}")
        page.keyboard.press(rating)
    expect(page.locator("#cram-summary")).to_contain_text("1 / 2")
    shot(page, "done")

    after = {q: api.get(f"/api/cards/{q}").json() for q in qs}
    assert after == before  # no card's schedule moved
    logs = api.get("/api/reviews", params={"limit": 1000}).json()
    assert len(logs) == logs_before + 2  # the answers are kept
    crammed = [x["question_id"] for x in logs[:2]]
    detail = api.get(f"/api/cards/{crammed[0]}/details").json()
    assert detail["history"][0]["cram"] is True
    page.goto(f"/card/{crammed[0]}")
    expect(page.locator("#card-history tr.cram")).to_have_count(
        sum(1 for h in detail["history"] if h["cram"])
    )
    shot(page, "card-view")

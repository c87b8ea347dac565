"""A demo that trains for seconds shows its progress while it runs, then its result."""

from __future__ import annotations

from playwright.sync_api import expect


def test_tiny_transformer_shows_progress_then_the_trained_heads(page):
    page.goto("/demos/tiny-transformer")
    form = page.locator("form.demo-form")
    # Record every progress value the bar shows (the run may be quick).
    page.evaluate(
        """() => { window.seen = []; const bar = document.querySelector('.demo-progress');
        new MutationObserver(() => window.seen.push(Number(bar.value)))
          .observe(bar, {attributes: true}); }"""
    )
    form.locator("button.show-me").click()
    expect(page.locator(".demo-out .result")).to_be_visible(timeout=60_000)
    expect(page.locator(".demo-out .conclusion")).to_contain_text("steps")
    seen = page.evaluate("window.seen")
    assert max(seen) > 0, seen  # the bar moved before the result came
    expect(page.locator(".demo-progress")).to_be_hidden()
    page.shots(page, "trained")

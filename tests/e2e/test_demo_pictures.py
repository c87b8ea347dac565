"""Demo pictures a person can read: heatmaps with labels, a colour scale and the value under the
pointer, one head at a time, the demo's own code, sliders that re-run after a pause, charts with
log-marked axes, and a demo page that fits a 360 px phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]


def _run(page, demo_id: str, lang: str = "en"):
    page.goto(f"/lang/{lang}?next=/demos/{demo_id}")
    page.locator("button.show-me").click()
    expect(page.locator(".result .conclusion")).to_be_visible(timeout=60_000)
    return page.locator("figure.heatmap")


def _matrix(fig) -> list[list[float | None]]:
    return fig.evaluate(
        "f => JSON.parse(f.querySelector('script.heatmap-data').textContent).matrix"
    )


def _cell(fig, r: int, c: int):
    return fig.locator(f'.hm-cell[data-r="{r}"][data-c="{c}"]')


def _tip_value(fig) -> float:
    return float(fig.locator(".hm-tip .hm-val").inner_text())


def test_heatmap_has_labels_a_colour_scale_and_reads_out_a_cell(page):
    fig = _run(page, "causal-mask").first  # n = 8 tokens by default
    m = _matrix(fig)
    assert len(m) == 8

    # Row and column labels are text beside the grid (indices when the demo gives none).
    assert fig.locator(".hm-rl").all_inner_texts() == [str(i) for i in range(8)]
    assert fig.locator(".hm-cl").all_inner_texts() == [str(j) for j in range(8)]
    # The colour scale runs from the smallest to the largest weight: 0 above the diagonal,
    # 1 where the first query can only see itself.
    expect(fig.locator(".hm-scale .hm-min")).to_have_text("0")
    expect(fig.locator(".hm-scale .hm-max")).to_have_text("1")

    # Hovering a cell names its row and column (by the demo's axis titles) and gives the number the server computed; the
    # matrix is lower-triangular, so a swapped row/column would read 0 here.
    assert m[5][1] > 0 and m[1][5] == 0
    _cell(fig, 5, 1).hover()
    tip = fig.locator(".hm-tip")
    expect(tip).to_be_visible()
    expect(tip.locator(".hm-where")).to_have_text("query position 5 · key position 1")
    assert _tip_value(fig) == pytest.approx(m[5][1], rel=1e-3)
    _cell(fig, 1, 5).hover()
    expect(tip.locator(".hm-where")).to_have_text("query position 1 · key position 5")
    assert _tip_value(fig) == 0

    # The keyboard reaches every cell too: focus the map (it starts at the top-left), then arrows.
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    fig.locator(".hm-grid").focus()
    expect(tip.locator(".hm-where")).to_have_text("query position 0 · key position 0")
    for key in ("ArrowDown", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    expect(tip.locator(".hm-where")).to_have_text("query position 2 · key position 1")
    assert _tip_value(fig) == pytest.approx(m[2][1], rel=1e-3)
    page.shots(page, "causal-mask-tooltip")


def test_masked_cells_are_hatched_not_painted_like_small_weights(page):
    fig = _run(page, "rope-vs-alibi").first  # ALiBi biases, the causal upper triangle is NaN
    m = _matrix(fig)
    assert m[0][5] is None and m[1][1] == 0
    masked, zero = _cell(fig, 0, 5), _cell(fig, 1, 1)
    bg = "e => getComputedStyle(e).backgroundImage"
    assert "repeating-linear-gradient" in masked.evaluate(bg)
    assert zero.evaluate(bg) == "none"
    expect(fig.locator(".hm-masked-key")).to_contain_text("masked")
    masked.hover()
    expect(fig.locator(".hm-tip .hm-val")).to_contain_text("masked")
    page.shots(page, "alibi-masked")


def test_many_heads_show_one_at_a_time_with_a_picker(page):
    figs = _run(page, "multihead-subspaces")  # 4 heads by default, one map each
    expect(figs).to_have_count(4)
    picker = page.locator(".hm-picker select")
    expect(picker).to_have_count(1)
    expect(picker.locator("option")).to_have_count(4)
    expect(page.locator("figure.heatmap:visible")).to_have_count(1)
    expect(page.locator("figure.heatmap:visible figcaption")).to_have_text("Head 1 weights")

    picker.select_option(label="Head 3 weights")
    shown = page.locator("figure.heatmap:visible")
    expect(shown).to_have_count(1)
    expect(shown.locator("figcaption")).to_have_text("Head 3 weights")
    # The picked head is really drawn: its cells read out its own matrix.
    m = _matrix(figs.nth(2))
    _cell(shown, 0, 0).hover()
    assert _tip_value(shown) == pytest.approx(m[0][0], rel=1e-3)
    page.shots(page, "head-3")


def test_without_javascript_every_head_is_listed(browser, server):
    ctx = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto("/lang/en?next=/demos/multihead-subspaces")
        page.locator("button.show-me").click()  # a plain form post: the whole page comes back
        expect(page.locator(".result .conclusion")).to_be_visible(timeout=60_000)
        expect(page.locator("figure.heatmap:visible")).to_have_count(4)
        expect(page.locator(".hm-picker")).to_have_count(0)
    finally:
        ctx.close()


def test_view_the_code_shows_the_demo_module_itself(page):
    page.goto("/lang/en?next=/demos/causal-mask")
    code = page.locator("#demo-source pre code")
    expect(code).to_be_hidden()
    page.locator("#demo-source summary").click()
    expect(code).to_be_visible()
    expect(code).to_contain_text("def run(")
    expect(page.locator("#demo-source summary")).to_contain_text("app/demos/causal_mask.py")
    # The file as it is on disk, and coloured by the vendored highlighter.
    assert code.text_content() == (ROOT / "app/demos/causal_mask.py").read_text(encoding="utf-8")
    expect(code.locator(".hljs-keyword").first).to_be_visible()
    page.shots(page, "source")


def test_a_slider_reruns_the_demo_once_after_a_pause(page):
    figs = _run(page, "causal-mask")
    runs: list[str] = []
    page.on("request", lambda r: runs.append(r.url) if r.url.endswith("/run") else None)
    page.locator("details.params summary").click()
    slider = page.locator("form.demo-form input.param-slider[aria-label='n']")
    expect(slider).to_be_visible()
    # A drag: several values in a row, faster than the debounce.
    slider.evaluate(
        "s => { for (const v of [9, 10, 11, 12]) {"
        " s.value = v; s.dispatchEvent(new Event('input', {bubbles: true})); } }"
    )
    expect(page.locator("input[type=number][name='n']")).to_have_value("12")
    expect(figs.first.locator(".hm-rl")).to_have_count(12, timeout=60_000)
    page.wait_for_timeout(1000)
    assert len(runs) == 1, runs
    # The number box still works on its own (and without JS): a change re-runs too.
    page.locator("input[type=number][name='n']").fill("6")
    page.locator("input[type=number][name='n']").press("Tab")
    expect(figs.first.locator(".hm-rl")).to_have_count(6, timeout=60_000)
    expect(slider).to_have_value("6")


def test_charts_fill_their_column_and_say_when_an_axis_is_log(page):
    page.set_viewport_size({"width": 360, "height": 740})
    _run(page, "scaling-variance")
    canvas = page.locator("canvas.chart-canvas").first
    page.wait_for_function("c => window.Chart && Chart.getChart(c)", arg=canvas.element_handle())
    titles = canvas.evaluate(
        "c => { const s = Chart.getChart(c).options.scales;"
        " return [s.x.title.text, s.y.title.text]; }"
    )
    assert titles == ["d_k (log)", "variance (log)"]
    fig_w = canvas.evaluate("c => c.closest('figure').clientWidth")
    box = canvas.bounding_box()
    assert box["width"] >= 0.95 * fig_w and box["height"] >= 200
    page.shots(page, "chart-360")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_demo_page_fits_a_phone(page, lang):
    page.set_viewport_size({"width": 360, "height": 740})
    figs = _run(page, "multihead-subspaces", lang)
    page.locator("details.params summary").click()
    page.locator("#demo-source summary").click()
    expect(page.locator("#demo-source pre code .hljs-keyword").first).to_be_visible()
    shown = page.locator("figure.heatmap:visible")
    # A tooltip at the right edge stays inside the picture.
    _cell(shown, 0, len(_matrix(figs.first)[0]) - 1).hover()
    expect(shown.locator(".hm-tip")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.shots(page, f"phone-{lang}")

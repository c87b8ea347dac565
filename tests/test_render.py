from app.render import render_markdown


def test_math_becomes_katex_targets():
    html = render_markdown("a $x_i^2$ b\n\n$$\n\\frac{1}{2}\n$$\n")
    assert '<span class="math inline">x_i^2</span>' in html
    assert '<div class="math block">' in html and "\\frac{1}{2}" in html


def test_script_in_markdown_is_inert():
    html = render_markdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">')
    # The tags survive only as escaped text: nothing the browser would run.
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_javascript_links_are_dropped():
    html = render_markdown("[x](javascript:alert(1)) [y](https://example.org)")
    assert 'href="javascript' not in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer"' in html


def test_tables_render():
    assert "<table>" in render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n")


def test_display_math_without_blank_lines_stays_display():
    html = render_markdown("The variance:\n$$\nx\n$$\n")
    assert '<span class="math display">' in html and "math inline" not in html


def test_a_text_that_starts_with_math_and_ends_in_a_digit_keeps_its_first_formula():
    # dollarmath looked at src[-1] (the last character) as "the character before" position 0.
    for text in ("$a$ x $b$ y $c$ 1", "$a$ 与 $b$ 为 0", "- $d_k$ is 64"):
        html = render_markdown(text)
        assert "$" not in html, html
    assert render_markdown("$5 and $6 today 1").count("math") == 0  # prices stay prices

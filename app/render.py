"""Markdown + LaTeX from the bank → safe HTML.

Math is left as ``<span class="math inline">`` / ``<div class="math block">`` holding the TeX
source; KaTeX renders it in the browser (and without JS the reader still sees the TeX). Whatever a
question file contains, the HTML is sanitised with nh3, so a bank file cannot inject script.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar

_md = (
    MarkdownIt("commonmark", {"html": False, "typographer": False})
    .use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    .enable("table")
    .enable("strikethrough")
)


def _display_inline(self, tokens, idx, options, env) -> str:
    # `$$...$$` inside a paragraph (no blank line around it) is still display math.
    return f'<span class="math display">{escapeHtml(tokens[idx].content)}</span>'


_md.add_render_rule("math_inline_double", _display_inline)

# dollarmath's "no digit right before the opening $" check reads src[pos - 1], which at pos 0 is
# the *last* character: a paragraph starting with $x$ and ending in a digit lost its first formula.
# At the start of the text there is no character before, so the check is skipped there.
_strict = math_inline_dollar(allow_space=False, allow_digits=False, allow_double=True)
_at_start = math_inline_dollar(allow_space=False, allow_digits=True, allow_double=True)
_md.inline.ruler.at(
    "math_inline", lambda state, silent: (_at_start if state.pos == 0 else _strict)(state, silent)
)

_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "span",
    "div",
    "sup",
    "sub",
    "img",
}
_ATTRS = {
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
}


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 (sanitised just above)

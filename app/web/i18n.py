"""The interface's own words (the bank carries its own), through gettext catalogs managed with
Babel: ``app/locale/<lang>/LC_MESSAGES/messages.po``, compiled to ``messages.mo``.

A message id is a short key, e.g. ``t("start_review")`` in a template or ``t = translator(lang)``
in Python; the English catalog holds the English wording and the Chinese one the Chinese (each
Chinese entry carries the English as a comment for the translator). Templates can also use
Jinja2's i18n extension (``{% trans %}``, ``_()``). Keys looked up by a computed name
(``t("state_" ~ state)``) are listed in ``app/web/i18n_keys.py``.

Adding or changing words, with Babel's own tools (``tests/test_i18n.py`` fails on any message
without a Chinese translation, and on catalogs out of step with the code)::

    pybabel extract -F babel.cfg -k t -k N_ -k _ --no-wrap --sort-by-file \\
        -o app/locale/messages.pot .
    pybabel update -i app/locale/messages.pot -d app/locale --no-wrap
    # translate the new entries in each messages.po (any .po editor), then
    pybabel compile -d app/locale

``python -m app.web.i18n_sync`` runs those three steps (and moves words still written in the
old dictionary into the catalogs), then lists what is left to translate.

A third language is a catalog, not code: ``pybabel init -i app/locale/messages.pot -d app/locale
-l ja``, translate, compile, and add the code to ``LANGS``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from app.bank.models import Lang
from app.web.i18n_study import STUDY_UI

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGS: tuple[str, ...] = ("zh", "en")
SOURCE_LANG = "en"

# The hand-written dictionary this replaced. Its words now live in the catalogs; a key added to
# it since (STUDY_UI is still being extended) is served from here until it is moved into the
# catalogs, which tests/test_i18n.py demands.
UI: dict[str, dict[Lang, str]] = {}
UI.update(STUDY_UI)


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (read once per process)."""
    return Translations.load(str(LOCALE_DIR), [lang], domain=DOMAIN)


def translator(lang: Lang) -> Callable[[str], str]:
    """``t(key)``: the key's message in ``lang``; else the English; else the key itself."""
    own, source = translations(lang), translations(SOURCE_LANG)

    def t(key: str) -> str:
        text = own.gettext(key)
        if text != key:
            return text
        legacy = UI.get(key)
        if legacy:
            return legacy.get(lang) or legacy["en"]
        return source.gettext(key)

    return t


def gettext_callables(lang: Lang) -> dict[str, Callable[..., str]]:
    """What Jinja2's i18n extension calls for ``{% trans %}`` and ``_()`` in a template."""
    tr = translations(lang)
    return {"gettext": tr.gettext, "ngettext": tr.ngettext, "_": tr.gettext}

"""``python -m app.web.i18n_sync``: bring the catalogs in step with the code, with Babel's own
extract / update / compile, and move any words still written in the old dictionary (``UI``,
i.e. ``STUDY_UI``) into the catalogs. Prints what still lacks a translation.

The same steps by hand are in the docstring of ``app/web/i18n.py``."""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from app.web.i18n import LANGS, LOCALE_DIR, SOURCE_LANG, UI

ROOT = LOCALE_DIR.parent.parent
KEYS_FILE = Path(__file__).with_name("i18n_keys.py")
POT = LOCALE_DIR / "messages.pot"


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def _mark_keys(keys: list[str]) -> None:
    """List keys in i18n_keys.py (N_) so extraction keeps them: their code may compute them."""
    text = KEYS_FILE.read_text(encoding="utf-8")
    have = set(re.findall(r'N_\("([^"]+)"\)', text))
    new = [k for k in keys if k not in have]
    if not new:
        return
    body = text.rstrip()
    assert body.endswith("]"), "i18n_keys.py must end with the COMPUTED_KEYS list"
    block = "    # Moved from the old dictionary by app/web/i18n_sync.py\n"
    block += "".join(f'    N_("{k}"),\n' for k in new)
    KEYS_FILE.write_text(body[:-1] + block + "]\n", encoding="utf-8")


def _extract() -> None:
    with contextlib.chdir(ROOT):  # locations relative to the repository, as pybabel run there
        _pybabel(
            "extract", "-F", "babel.cfg", "-k", "t", "-k", "N_", "-k", "_",
            "--no-wrap", "--sort-by-file", "--project", "Transformer Quiz",
            "--msgid-bugs-address", "", "-o", str(POT.relative_to(ROOT)), ".",
        )  # fmt: skip


def sync() -> dict[str, list[str]]:
    """Extract, update, fill from the old dictionary, compile. Returns untranslated ids."""
    _extract()
    with POT.open("rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    unseen = [k for k in UI if k not in extracted]
    if unseen:  # looked up by a computed name: listed so that update keeps them
        _mark_keys(unseen)
        _extract()
    _pybabel(
        "update", "-i", str(POT), "-d", str(LOCALE_DIR), "--no-wrap", "--no-fuzzy-matching",
        "--ignore-obsolete",
    )  # fmt: skip
    missing: dict[str, list[str]] = {}
    source: dict[str, str] = {}
    for lang in sorted(LANGS, key=lambda x: x != SOURCE_LANG):  # English first
        path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for msg in catalog:
            if not msg.id:
                continue
            words = UI.get(msg.id)
            if words and words.get(lang):
                msg.string = words[lang]
                msg.flags.discard("fuzzy")
            if lang == SOURCE_LANG:
                source[msg.id] = msg.string
            elif not msg.user_comments and source.get(msg.id) and source[msg.id] != msg.id:
                msg.user_comments = [f"en: {source[msg.id]}"]  # for the translator
        with path.open("wb") as f:
            write_po(f, catalog, width=0, sort_by_file=True)
        missing[lang] = [m.id for m in catalog if m.id and not m.string]
    _pybabel("compile", "-d", str(LOCALE_DIR))
    return missing


def main() -> int:
    missing = sync()
    for lang, ids in missing.items():
        if ids:
            print(f"{lang}: {len(ids)} without a translation: {', '.join(ids)}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

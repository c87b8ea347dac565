"""The interface's words go through one translation layer, gettext catalogs managed with Babel
(issue #16, item 8): every message has a Chinese translation, the compiled catalogs match their
sources, every key the code uses is in the catalogs, and the pages speak the reader's language."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.web import i18n
from app.web.i18n import LOCALE_DIR, UI, translator

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"t": None, "N_": None, "_": None}


def _po(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _pot():
    with (LOCALE_DIR / "messages.pot").open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_message_has_a_translation(lang):
    catalog = _po(lang)
    ids = {m.id for m in _pot() if m.id}
    have = {m.id: m for m in catalog if m.id}
    missing = sorted(k for k in ids if k not in have or not have[k].string)
    fuzzy = sorted(m.id for m in have.values() if m.fuzzy)
    assert not missing, f"{lang}: messages without a translation: {missing}"
    assert not fuzzy, f"{lang}: fuzzy (unchecked) translations: {fuzzy}"


def test_chinese_is_chinese():
    # A message "translated" by copying the English is not a translation. Names may stay.
    english = {m.id: m.string for m in _po("en") if m.id}
    same = [
        m.id
        for m in _po("zh")
        if m.id
        and m.string == english.get(m.id)
        and any(c.isalpha() for c in m.string)
        and m.string not in {"Transformer Quiz", "API", "English", "JSON", "Anki"}
    ]
    assert not same, f"zh messages identical to the English: {same}"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_compiled_catalogs_match_their_sources(lang):
    po = {m.id: m.string for m in _po(lang) if m.id}
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po, f"run: pybabel compile -d app/locale ({lang}/messages.mo is stale)"


def test_every_key_the_code_uses_is_in_the_catalog():
    """What `pybabel extract` finds now (t("..."), N_("..."), _("..."), and every demo
    parameter's description) is all in messages.pot."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options = parse_mapping_cfg(f)
    found = {
        msg if isinstance(msg, str) else msg[0]
        for _file, _line, msg, _c, _ctx in extract_from_dir(
            str(ROOT), method_map, options, keywords=KEYWORDS
        )
        if msg
    }
    pot = {m.id for m in _pot() if m.id}
    missing = sorted(found - pot)
    assert not missing, (
        f"not in the catalogs: {missing}; run python -m app.web.i18n_sync, then translate"
    )


def test_words_added_to_the_old_dictionary_are_in_the_catalogs():
    """Someone still extending the hand-written dictionary (STUDY_UI) gets told to move the
    words into the catalogs: its keys must be there, with the same text."""
    catalogs = {lang: {m.id: m.string for m in _po(lang) if m.id} for lang in i18n.LANGS}
    stray = [
        (key, lang)
        for key, words in UI.items()
        for lang in i18n.LANGS
        if catalogs[lang].get(key) != words.get(lang)
    ]
    assert not stray, (
        f"dictionary words not (or differently) in the catalogs: {stray}; "
        "run python -m app.web.i18n_sync to move them"
    )


def test_translator_serves_the_catalogs():
    assert translator("zh")("start_review") == "开始复习"
    assert translator("en")("start_review") == "Start review"
    assert translator("zh")("wd_6") == "周日"
    assert translator("zh")("no-such-key") == "no-such-key"


def test_the_pages_speak_chinese(client):
    html = client.get("/", headers={"accept-language": "zh-CN"}).text
    footer = html[html.index('<footer class="foot">') :]
    assert "API 文档" in footer and "Transformer 面试题库" in footer
    stats = client.get("/stats", headers={"accept-language": "zh-CN"}).text
    assert "到期卡片" in stats and '"name": "due"' not in stats  # chart legends translated


def test_jinja_i18n_extension_is_on(client):
    from app.web.pages import templates

    assert "jinja2.ext.InternationalizationExtension" in templates.env.extensions
    tpl = templates.env.from_string("{% trans %}start_review{% endtrans %}|{{ _('stats') }}")
    assert tpl.render(**i18n.gettext_callables("zh")) == "开始复习|统计"


def test_catalog_has_no_po_syntax_problems():
    for lang in i18n.LANGS:
        raw = (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").read_bytes()
        read_po(io.BytesIO(raw), locale=lang, abort_invalid=True)


def test_demo_parameters_are_described_in_the_readers_language(client):
    html = client.get("/demos/scaling-variance", headers={"accept-language": "zh-CN"}).text
    form = html[html.index('class="demo-form"') :]
    titles = re.findall(r'<label title="([^"]*)"', form)
    assert titles and all(re.search(r"[\u4e00-\u9fff]", t) for t in titles if t), titles


def test_a_printed_boolean_is_a_word_of_the_readers_language():
    from app.web.pages import templates

    tpl = templates.env.from_string("{{ flag }}|{{ other }}|{{ n }}")
    assert tpl.render(flag=True, other=False, n=1, t=translator("zh")) == "是|否|1"
    assert tpl.render(flag=True, other=False, n=1, t=translator("en")) == "yes|no|1"


def test_account_form_reasons_speak_the_readers_language(tmp_path):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from tests.conftest import FIXTURE_BANK, FIXTURE_DRILLS, prime_csrf

    settings = Settings(
        data_dir=tmp_path,
        questions_dir=FIXTURE_BANK,
        drills_dir=FIXTURE_DRILLS,
        auth_enabled=True,
        secret_key="test-secret-key-0123456789-abcdefghij",
        registration="open",
        _env_file=None,
    )
    app = create_app(settings)
    try:
        with TestClient(app) as raw:
            c = prime_csrf(raw)
            zh = {"accept-language": "zh-CN"}
            r = c.post("/login", data={"username": "nobody", "password": "x" * 9}, headers=zh)
            assert "用户名或密码错误" in r.text
            r = c.post("/register", data={"username": "amy", "password": "password"}, headers=zh)
            assert "最常见的密码" in r.text
    finally:
        app.state.engine.dispose()


def test_stats_outcome_is_translated():
    from app.web.study import _stats_message

    t = translator("zh")
    assert _stats_message("imported:3 cards, 4 reviews", t) == (
        "imported",
        "已导入 3 张卡片、4 条复习记录。",
    )
    kind, text = _stats_message("import-failed: line 1: not JSON", t)
    assert kind == "import-failed" and text.startswith("导入被拒绝：")

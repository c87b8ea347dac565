"""The shipped bank (questions/): complete, bilingual, every formula typesets, every demo used."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.bank.loader import load_bank
from app.bank.models import LANGS, Question
from app.demos import REGISTRY, load_all
from app.render import render_markdown
from tests.conftest import REAL_BANK

ROOT = REAL_BANK.parent
TOPICS = {
    "architecture",
    "embedding",
    "positional-encoding",
    "attention",
    "masking",
    "residual",
    "normalization",
    "ffn",
    "initialization",
    "training",
    "tokenization",
}
MATH = re.compile(r'<(span|div) class="math (?:inline|display|block)">(.*?)</\1>', re.S)


@pytest.fixture(scope="module")
def bank():
    return load_bank(REAL_BANK, known_demos=set(load_all()))


def _texts(q: Question, lang: str) -> list[str]:
    out = [q.prompt.get(lang), q.answer.get(lang), q.explanation.get(lang)]
    out += q.key_points.get(lang)
    for c in q.choices:
        out += [c.text.get(lang), c.why.get(lang)]
    return out


def test_all_twenty_soul_questions_are_there(bank):
    numbers = {q.soul_number for q in bank.questions.values() if q.is_soul}
    assert numbers == set(range(1, 21)), sorted(set(range(1, 21)) - numbers)
    for q in bank.questions.values():
        if q.is_soul:
            assert f"soul-{q.soul_number:02d}" in q.tags, q.id


def test_every_topic_has_questions_and_the_bank_is_big_enough(bank):
    by_topic: dict[str, int] = {}
    for q in bank.questions.values():
        by_topic[q.topic] = by_topic.get(q.topic, 0) + 1
    assert set(by_topic) >= TOPICS, TOPICS - set(by_topic)
    assert len(bank.questions) >= 45
    assert by_topic["initialization"] >= 3 and by_topic["attention"] >= 5


def test_every_question_is_complete_for_self_grading_and_multiple_choice(bank):
    for q in bank.questions.values():
        assert 3 <= len(q.key_points.en) <= 6, q.id
        assert 3 <= len(q.choices) <= 5, q.id
        assert q.source, q.id


def test_every_demo_is_shown_beside_some_question(bank):
    used = {d for q in bank.questions.values() for d in q.demos}
    assert set(REGISTRY) <= used, sorted(set(REGISTRY) - used)


def test_no_raw_dollar_is_left_after_rendering(bank):
    for q in bank.questions.values():
        for lang in LANGS:
            for text in _texts(q, lang):
                rendered = MATH.sub("", str(render_markdown(text)))
                assert "$" not in rendered, (q.id, lang, text[:120])


def test_chinese_and_english_are_both_really_written(bank):
    han = re.compile(r"[\u4e00-\u9fff]")
    for q in bank.questions.values():
        assert han.search(q.explanation.zh), q.id
        assert not han.search(q.explanation.en), q.id
        assert han.search(q.answer.zh) and not han.search(q.answer.en), q.id


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run KaTeX")
def test_every_formula_typesets_with_the_vendored_katex(bank, tmp_path: Path):
    formulas: dict[str, str] = {}
    for q in bank.questions.values():
        for lang in LANGS:
            for text in _texts(q, lang):
                for tag, tex in MATH.findall(str(render_markdown(text))):
                    formulas[html.unescape(tex)] = f"{q.id} ({lang}, {tag})"
    assert formulas
    src = tmp_path / "formulas.json"
    src.write_text(json.dumps(list(formulas)))
    script = (
        f"const k = require({json.dumps(str(ROOT / 'static/vendor/katex/katex.min.js'))});"
        f"const bad = [];"
        f"for (const f of require({json.dumps(str(src))})) {{"
        f"  try {{ k.renderToString(f, {{throwOnError: true, strict: 'ignore'}}); }}"
        f"  catch (e) {{ bad.push([f, e.message]); }} }}"
        f"console.log(JSON.stringify(bad));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    bad = json.loads(out.stdout)
    assert not bad, "\n".join(f"{formulas[f]}: {f!r}: {msg}" for f, msg in bad)


SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed notes are not beside this checkout")
def test_no_sentence_is_copied_from_the_seed_notes(bank):
    """Facts carry over from the seeds, sentences do not: no 16-character run of a seed's prose with
    at least 8 Chinese characters (punctuation and spaces ignored) appears in the bank."""
    squash = re.compile(r"[\s，。、：；！？（）()“”\"'`*#>\-|$]")
    bank_text = squash.sub("", "".join(t for q in bank.questions.values() for t in _texts(q, "zh")))
    copied = []
    for f in sorted(SEEDS.glob("*.txt")):
        for sentence in re.split(r"[。！？\n]", f.read_text(encoding="utf-8")):
            s = squash.sub("", sentence)
            if len(re.findall(r"[\u4e00-\u9fff]", s)) < 8:
                continue  # formulas, headings and short phrases are facts, not prose
            for i in range(0, len(s) - 15):
                window = s[i : i + 16].lower()
                if len(re.findall(r"[\u4e00-\u9fff]", window)) >= 8 and window in bank_text:
                    copied.append((f.name, sentence.strip()[:60]))
                    break
    assert not copied, copied

"""The drill loader names the file, line, drill and field of every problem, like the bank's."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.bank.loader import BankError
from app.drills.loader import load_drills

DRILLS = Path(__file__).resolve().parents[2] / "drills"
SAMPLE = "scaled-dot-product-attention"
KNOWN = {"soul-04-scaled-dot-product", "soul-05-padding-mask", "soul-03-dot-vs-additive"}


@pytest.fixture
def tmp_drills(tmp_path: Path) -> Path:
    shutil.copytree(DRILLS / SAMPLE, tmp_path / SAMPLE)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def issues_of(directory: Path, known: set[str] | None = KNOWN):
    with pytest.raises(BankError) as ei:
        load_drills(directory, known)
    return ei.value.issues


def test_a_good_drill_loads_with_its_sources_and_cases(tmp_drills):
    drill = load_drills(tmp_drills, KNOWN)[SAMPLE]
    assert drill.entry == "attention" and drill.time_limit_s == 5
    assert "raise NotImplementedError" in drill.starter and "def attention" in drill.reference
    assert drill.tests.startswith("import math") and len(drill.visible_cases) >= 2


def test_a_bad_field_names_file_line_drill_and_field(tmp_drills):
    edit(tmp_drills / SAMPLE / "drill.yaml", "difficulty: 2", "difficulty: 5")
    (issue,) = issues_of(tmp_drills)
    assert (issue.file, issue.question_id, issue.field) == (
        f"{SAMPLE}/drill.yaml",
        SAMPLE,
        "difficulty",
    )
    assert issue.line == 4
    assert str(issue).startswith(f"{SAMPLE}/drill.yaml:4, question '{SAMPLE}', field 'difficulty'")


def test_an_unknown_field_and_too_many_hints_are_named(tmp_drills):
    path = tmp_drills / SAMPLE / "drill.yaml"
    edit(path, "entry: attention", "entry: attention\nauthor: me")
    edit(path, "  en:\n    - ", "  en:\n    - one more\n    - ")
    edit(path, "  zh:\n    - ", "  zh:\n    - 再一个\n    - ")
    issues = issues_of(tmp_drills)
    assert {i.field for i in issues} == {"author", "hints"}
    assert any("5 hints: give at most 4" in i.message for i in issues)


def test_hints_in_one_language_only_are_named(tmp_drills):
    edit(tmp_drills / SAMPLE / "drill.yaml", "  en:\n    - ", "  en:\n    - one more\n    - ")
    (issue,) = issues_of(tmp_drills)
    assert issue.field == "hints" and "zh has 4 items but en has 5" in issue.message


def test_an_id_that_differs_from_its_folder(tmp_drills):
    edit(tmp_drills / SAMPLE / "drill.yaml", f"id: {SAMPLE}", "id: attention-again")
    (issue,) = issues_of(tmp_drills)
    assert (issue.file, issue.line, issue.field) == (f"{SAMPLE}/drill.yaml", 1, "id")
    assert "differs from its folder name" in issue.message


def test_an_entry_the_reference_or_starter_does_not_define(tmp_drills):
    edit(tmp_drills / SAMPLE / "reference.py", "def attention(", "def attend(")
    (issue,) = issues_of(tmp_drills)
    assert (issue.file, issue.question_id, issue.field) == (
        f"{SAMPLE}/reference.py",
        SAMPLE,
        "entry",
    )
    assert "defines no top-level 'attention'" in issue.message
    edit(tmp_drills / SAMPLE / "drill.yaml", "entry: attention", "entry: attend")
    (issue,) = issues_of(tmp_drills)
    assert issue.file == f"{SAMPLE}/starter.py" and issue.field == "entry"


def test_an_unknown_question_names_its_position_and_line(tmp_drills):
    (issue,) = issues_of(tmp_drills, KNOWN - {"soul-05-padding-mask"})
    assert (issue.file, issue.line, issue.field) == (f"{SAMPLE}/drill.yaml", 5, "questions[1]")
    assert "unknown question 'soul-05-padding-mask'" in issue.message
    load_drills(tmp_drills, None)  # without a bank to check against, ids are not checked


def test_a_python_syntax_error_names_file_and_line(tmp_drills):
    edit(tmp_drills / SAMPLE / "tests.py", "def pair(result):", "def pair(result)")
    (issue,) = issues_of(tmp_drills)
    assert issue.file == f"{SAMPLE}/tests.py" and issue.question_id == SAMPLE
    assert issue.line == 16 and issue.message.startswith("Python syntax error")


def test_a_yaml_syntax_error_names_its_line(tmp_drills):
    edit(tmp_drills / SAMPLE / "drill.yaml", "topic: attention", "topic: [attention")
    (issue,) = issues_of(tmp_drills)
    assert issue.file == f"{SAMPLE}/drill.yaml" and issue.line is not None
    assert "YAML syntax error" in issue.message


def test_a_missing_file_is_named(tmp_drills):
    (tmp_drills / SAMPLE / "starter.py").unlink()
    (issue,) = issues_of(tmp_drills)
    assert issue.file == f"{SAMPLE}/starter.py" and issue.message.startswith("missing")


def test_too_few_cases_and_a_repeated_case_name(tmp_drills):
    tests = tmp_drills / SAMPLE / "tests.py"
    edit(tests, "visible=True)\ndef worked", ")\ndef worked")
    edit(tests, '@case("scores are scaled by 1/√d_k",', '@case("a worked 2×2 example",')
    issues = issues_of(tmp_drills)
    assert {i.file for i in issues} == {f"{SAMPLE}/tests.py"}
    messages = " | ".join(i.message for i in issues)
    assert "two cases are named 'a worked 2×2 example'" in messages
    assert "1 visible and 10 hidden cases: a drill needs at least 2 visible" in messages


def _line_of(path: Path, text: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def test_a_case_without_a_chinese_name_is_named_with_its_file_and_line(tmp_drills):
    # The page shows each case's name in the reader's language: a new case must bring its zh.
    tests = tmp_drills / SAMPLE / "tests.py"
    edit(tests, ', zh="分数乘以 1/√d_k"', "")
    (issue,) = issues_of(tmp_drills)
    assert (issue.file, issue.question_id, issue.field) == (f"{SAMPLE}/tests.py", SAMPLE, "zh")
    assert issue.line == _line_of(tests, '@case("scores are scaled by 1/√d_k")')
    assert "case 'scores are scaled by 1/√d_k' has no Chinese name" in issue.message
    assert str(issue).startswith(f"{SAMPLE}/tests.py:{issue.line}, question '{SAMPLE}'")


def test_an_empty_copied_or_repeated_chinese_name_is_named(tmp_drills):
    tests = tmp_drills / SAMPLE / "tests.py"
    edit(tests, 'zh="分数乘以 1/√d_k"', 'zh="  "')
    edit(tests, 'zh="梯度传到 q、k 和 v"', 'zh="gradients reach q, k and v"')
    edit(tests, 'zh="带批次和头维度时的形状"', 'zh="手算的 2×2 例子"')
    issues = issues_of(tmp_drills)
    assert {(i.file, i.field) for i in issues} == {(f"{SAMPLE}/tests.py", "zh")}
    messages = sorted(i.message for i in issues)
    assert len(messages) == 3, messages
    assert "case 'gradients reach q, k and v': its zh name is the English one copied" in messages[0]
    assert "case 'scores are scaled by 1/√d_k' has no Chinese name" in messages[1]
    assert messages[2] == "two cases have the Chinese name '手算的 2×2 例子'"


def test_a_zh_name_that_is_not_a_literal_is_named(tmp_drills):
    edit(tmp_drills / SAMPLE / "tests.py", 'zh="分数乘以 1/√d_k"', "zh=ZH")
    issues = issues_of(tmp_drills)
    assert {i.file for i in issues} == {f"{SAMPLE}/tests.py"}
    line = _line_of(tmp_drills / SAMPLE / "tests.py", "zh=ZH")
    assert any(f"line {line}: @case(zh=...) must be a string literal" in i.message for i in issues)


def test_every_broken_drill_is_reported_at_once(tmp_drills):
    shutil.copytree(tmp_drills / SAMPLE, tmp_drills / "second")
    edit(tmp_drills / SAMPLE / "drill.yaml", "topic: attention", "topic: Attention!")
    issues = issues_of(tmp_drills)
    assert {(i.question_id, i.field) for i in issues} == {(SAMPLE, "topic"), ("second", "id")}


def test_an_empty_directory_is_an_error(tmp_path):
    (issue,) = issues_of(tmp_path)
    assert "no drill folders" in issue.message


def test_loading_drills_never_imports_torch():
    # The web processes load the drills and must not pay torch's start-up (nor need it).
    code = (
        "import sys; from pathlib import Path; from app.drills.loader import load_drills; "
        f"load_drills(Path({str(DRILLS)!r})); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_unknown_topic_names_its_line(tmp_drills):
    with pytest.raises(BankError) as e:
        load_drills(tmp_drills, None, known_topics={"masking"})
    (issue,) = [i for i in e.value.issues if i.file == f"{SAMPLE}/drill.yaml"]
    assert (issue.line, issue.field) == (
        3,
        "topic",
    ) and "unknown topic 'attention'" in issue.message

"""The bank loader names the file, line, question and field of every problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.bank.loader import BankError, load_bank
from tests.conftest import FIXTURE_BANK

GOOD_Q = """
  - id: {qid}
    tags: [t]
    difficulty: 1
    prompt: {{zh: 问, en: Ask}}
    answer: {{zh: 答, en: Answer}}
    explanation: {{zh: 解, en: Explain}}
    key_points: {{zh: [甲], en: [a]}}
    source: [test]
"""


def write(tmp_path: Path, name: str, body: str, topic: str | None = None) -> Path:
    topic = topic or name.removesuffix(".yaml")
    head = f"topic:\n  id: {topic}\n  title: {{zh: 题, en: T}}\nquestions:\n"
    (tmp_path / name).write_text(head + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return tmp_path


def issues_of(tmp_path: Path, demos: set[str] | None = None):
    with pytest.raises(BankError) as ei:
        load_bank(tmp_path, demos)
    return ei.value.issues


def test_fixture_bank_loads():
    bank = load_bank(FIXTURE_BANK, {"scaling-variance"})
    assert set(bank.questions) == {"soul-04-fixture-scaling", "alpha-two", "beta-one"}
    assert [t.id for t in bank.topics] == ["alpha", "beta"]
    assert bank.questions["soul-04-fixture-scaling"].soul_number == 4


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="a") + "    bad: [unclosed\n")
    (issue,) = issues_of(tmp_path)
    assert issue.file == "t.yaml" and issue.line is not None
    assert "YAML syntax error" in str(issue) and str(issue).startswith("t.yaml:")


def test_missing_field_names_file_id_field_and_line(tmp_path):
    body = GOOD_Q.format(qid="q-one").replace("    answer: {zh: 答, en: Answer}\n", "")
    write(tmp_path, "t.yaml", body)
    (issue,) = issues_of(tmp_path)
    assert (issue.file, issue.question_id, issue.field) == ("t.yaml", "q-one", "answer")
    assert issue.line == 5  # the question's mapping starts at line 5; "answer" is absent
    assert str(issue) == "t.yaml:5, question 'q-one', field 'answer': Field required"


def test_missing_language_names_nested_field(tmp_path):
    body = GOOD_Q.format(qid="q-one").replace("prompt: {zh: 问, en: Ask}", "prompt: {zh: 问}")
    write(tmp_path, "t.yaml", body)
    (issue,) = issues_of(tmp_path)
    assert issue.field == "prompt.en" and issue.question_id == "q-one"
    assert issue.line == 8


def test_wrong_value_names_field(tmp_path):
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="q-one").replace("difficulty: 1", "difficulty: 7"))
    (issue,) = issues_of(tmp_path)
    assert issue.field == "difficulty" and issue.line == 7 and issue.question_id == "q-one"


def test_key_points_length_mismatch(tmp_path):
    body = GOOD_Q.format(qid="q-one").replace("en: [a]", "en: [a, b]")
    write(tmp_path, "t.yaml", body)
    (issue,) = issues_of(tmp_path)
    assert issue.field == "key_points" and "zh has 1 items but en has 2" in issue.message


def test_unknown_key_is_rejected(tmp_path):
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="q-one") + "    anwser: typo\n")
    (issue,) = issues_of(tmp_path)
    assert issue.field == "anwser" and "Extra inputs" in issue.message


def test_duplicate_id_across_files(tmp_path):
    write(tmp_path, "a.yaml", GOOD_Q.format(qid="same"))
    write(tmp_path, "b.yaml", GOOD_Q.format(qid="same"))
    (issue,) = issues_of(tmp_path)
    assert (issue.file, issue.question_id, issue.field) == ("b.yaml", "same", "id")
    assert "already used in a.yaml:5" in issue.message


def test_duplicate_yaml_key(tmp_path):
    body = GOOD_Q.format(qid="q-one").replace("difficulty: 1", "difficulty: 1\n    difficulty: 2")
    write(tmp_path, "t.yaml", body)
    (issue,) = issues_of(tmp_path)
    assert issue.question_id == "q-one" and issue.field == "difficulty"
    assert "twice" in issue.message


def test_unknown_demo(tmp_path):
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="q-one") + "    demos: [no-such-demo]\n")
    (issue,) = issues_of(tmp_path, {"scaling-variance"})
    assert (issue.question_id, issue.field) == ("q-one", "demos[0]")
    assert "unknown demo 'no-such-demo'" in issue.message and issue.line == 13


def test_choices_need_a_correct_option(tmp_path):
    choices = "".join(
        f"      - text: {{zh: 选{i}, en: opt{i}}}\n        why: {{zh: 因, en: why}}\n"
        for i in range(3)
    )
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="q-one") + "    choices:\n" + choices)
    (issue,) = issues_of(tmp_path)
    assert issue.field == "choices" and "correct" in issue.message


def test_question_in_the_wrong_topic_file(tmp_path):
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="q-one") + "    topic: other\n")
    (issue,) = issues_of(tmp_path)
    assert issue.field == "topic" and "move the question" in issue.message


def test_bad_id_slug(tmp_path):
    write(tmp_path, "t.yaml", GOOD_Q.format(qid="Bad Id"))
    (issue,) = issues_of(tmp_path)
    assert issue.field == "id" and issue.question_id == "Bad Id"


def test_top_level_not_a_mapping(tmp_path):
    (tmp_path / "t.yaml").write_text("- just\n- a list\n")
    (issue,) = issues_of(tmp_path)
    assert issue.file == "t.yaml" and "mapping" in issue.message


def test_all_problems_reported_at_once(tmp_path):
    write(tmp_path, "a.yaml", GOOD_Q.format(qid="x").replace("difficulty: 1", "difficulty: 9"))
    write(tmp_path, "b.yaml", GOOD_Q.format(qid="y").replace("tags: [t]", "tags: [t, t]"))
    issues = issues_of(tmp_path)
    assert {(i.file, i.field) for i in issues} == {("a.yaml", "difficulty"), ("b.yaml", "tags")}


def test_empty_directory(tmp_path):
    (issue,) = issues_of(tmp_path)
    assert "no *.yaml" in issue.message


def test_filters_and_search():
    bank = load_bank(FIXTURE_BANK)
    assert [q.id for q in bank.filter(soul_only=True)] == ["soul-04-fixture-scaling"]
    assert [q.id for q in bank.filter(topics=["beta"])] == ["beta-one"]
    assert [q.id for q in bank.filter(difficulty=[1])] == ["alpha-two"]
    assert [q.id for q in bank.search("√d_k")] == ["soul-04-fixture-scaling"]
    assert [q.id for q in bank.search("第二")] == ["alpha-two"]
    assert [q.id for q in bank.search("answer two")] == ["alpha-two"]

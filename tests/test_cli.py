from typer.testing import CliRunner

from app.cli import app
from tests.conftest import FIXTURE_BANK, FIXTURE_DRILLS

runner = CliRunner()


def test_check_passes_on_a_good_bank():
    r = runner.invoke(app, ["check", str(FIXTURE_BANK), "--drills-dir", str(FIXTURE_DRILLS)])
    assert r.exit_code == 0, r.output
    assert "OK: 3 questions in 2 topics" in r.output and "1 drills" in r.output


def test_check_names_a_broken_drill(tmp_path):
    import shutil

    shutil.copytree(FIXTURE_DRILLS, tmp_path / "d")
    spec = tmp_path / "d" / "stable-softmax" / "drill.yaml"
    spec.write_text(spec.read_text().replace("difficulty: 1", "difficulty: 7"))
    r = runner.invoke(app, ["check", str(FIXTURE_BANK), "--drills-dir", str(tmp_path / "d")])
    assert r.exit_code == 1
    assert "drill.yaml" in r.output and "difficulty" in r.output


def test_check_fails_naming_file_question_field(tmp_path):
    (tmp_path / "t.yaml").write_text(
        "topic: {id: t, title: {zh: 题, en: T}}\nquestions:\n  - id: q-one\n    difficulty: 1\n"
    )
    r = runner.invoke(app, ["check", str(tmp_path)])
    assert r.exit_code == 1
    assert "t.yaml:3, question 'q-one', field 'prompt': Field required" in r.output
    assert "problem(s)" in r.output

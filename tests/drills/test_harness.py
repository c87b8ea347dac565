"""The harness: what a learner reads when a submission fails, and what it never shows them."""

from __future__ import annotations

import textwrap

import pytest
import torch

from app.drills.harness import (
    MAX_MESSAGE,
    CheckFailed,
    HarnessError,
    check_close,
    check_shape,
    describe_cases,
    run_drill,
)

REFERENCE = """
import torch

def double(x):
    return x * 2
"""

TESTS = """
import time

import torch

from app.drills.harness import case, check, check_close


@case("doubles a vector", zh="向量乘以 2", visible=True)
def vector(fn, ref):
    x = torch.arange(4.0)
    check_close(fn(x), ref(x), "out")


@case("keeps float64", zh="保持 float64")
def float64(fn, ref):
    x = torch.arange(3, dtype=torch.float64)
    check_close(fn(x), ref(x), "out")


@case("a slow one")
def slow(fn, ref):
    time.sleep(0.02)
    check(fn(torch.ones(1)).item() == 2.0, "2 × 1 should be 2")


@case("another visible one", visible=True)
def after_slow(fn, ref):
    check_close(fn(torch.zeros(2)), ref(torch.zeros(2)), "out")
"""


def run(submission: str, tests: str = TESTS):
    return run_drill(
        submission=textwrap.dedent(submission), reference=REFERENCE, tests=tests, entry="double"
    )


def test_a_correct_submission_passes_every_case_in_file_order_and_each_is_timed():
    v = run("def double(x):\n    return x + x\n")
    assert v.passed and v.error is None
    assert [c.name for c in v.cases] == [
        "doubles a vector",
        "keeps float64",
        "a slow one",
        "another visible one",
    ]
    assert [c.visible for c in v.cases] == [True, False, False, True]
    assert all(c.passed and c.message == "" for c in v.cases)
    assert v.cases[2].time_ms >= 20 and all(c.time_ms > 0 for c in v.cases)


def test_each_result_carries_both_names_and_labels_itself_in_the_pages_language():
    v = run("def double(x):\n    return x + x\n")
    assert [c.name_zh for c in v.cases] == ["向量乘以 2", "保持 float64", None, None]
    assert [c.label("zh") for c in v.cases[:3]] == ["向量乘以 2", "保持 float64", "a slow one"]
    assert [c.label("en") for c in v.cases[:2]] == ["doubles a vector", "keeps float64"]
    # The verdict crosses the sandbox's pipe as JSON: both names survive the trip.
    again = type(v).model_validate_json(v.model_dump_json())
    assert again.cases[0].name_zh == "向量乘以 2" and again.cases[2].name_zh is None


def test_a_syntax_error_is_reported_with_its_submission_line():
    v = run("def double(x):\n    return x *\n")
    assert not v.passed and v.cases == []
    assert v.error.startswith("SyntaxError: ") and v.error.endswith("(<submission> line 2)")


def test_an_indentation_error_keeps_its_name():
    v = run("def double(x):\nreturn x * 2\n")
    assert v.error.startswith("IndentationError: ") and v.error.endswith("(<submission> line 2)")


def test_an_exception_at_import_names_its_type_text_and_line():
    v = run("import torch\nscale = 1 / 0\ndef double(x):\n    return x * 2\n")
    assert v.error == "ZeroDivisionError: division by zero (<submission> line 2)"


def test_a_missing_or_non_callable_entry_is_named():
    assert "defines no `double`" in run("def twice(x):\n    return 2 * x\n").error
    assert "non-function `double`" in run("double = 2\n").error


def test_an_exception_in_the_learners_code_shows_only_its_own_lines():
    v = run(
        """
        import torch

        def helper(x):
            return x.view(-1, 7)

        def double(x):
            return helper(x) * 2
        """
    )
    assert not v.passed and v.error is None
    msg = v.cases[0].message
    assert msg.startswith("RuntimeError: shape '[-1, 7]' is invalid for input of size 4")
    assert msg.endswith("(<submission> lines 8, 5)")
    for leak in ("<tests>", "<reference>", "harness", "Traceback", "File "):
        assert leak not in msg


def test_a_wrong_value_names_what_shape_dtype_and_the_largest_difference():
    v = run("def double(x):\n    return x * 2 + (x == 3) * 0.5\n")
    failed = {c.name: c.message for c in v.cases if not c.passed}
    assert set(failed) == {"doubles a vector"}
    msg = failed["doubles a vector"]
    assert msg.startswith("out: 1 of 4 values differ")
    assert "(shape (4,) float32)" in msg
    assert "Largest difference at index (3,): expected 6, got 6.5" in msg
    assert "expected: [0, 2, 4, 6]" in msg and "got:      [0, 2, 4, 6.5]" in msg


def test_a_wrong_dtype_or_shape_or_type_is_said_plainly():
    v = run("def double(x):\n    return (x * 2).float()\n")
    assert [c.message for c in v.cases if not c.passed] == [
        "out: expected dtype float64, got float32"
    ]
    v = run("def double(x):\n    return (x * 2).unsqueeze(0)\n")
    assert v.cases[0].message == "out: expected shape (4,) float32, got (1, 4) float32"
    v = run("def double(x):\n    return (x * 2).tolist()\n")
    assert (
        v.cases[0].message == "out: expected a tensor of shape (4,) float32, got a list of 4 items"
    )


def test_messages_are_trimmed():
    v = run("def double(x):\n    raise ValueError('x' * 5000)\n")
    assert all(len(c.message) <= MAX_MESSAGE for c in v.cases)
    assert v.cases[0].message.endswith("…")


def test_values_are_trimmed_to_a_few_entries():
    with pytest.raises(CheckFailed) as ei:
        check_close(torch.zeros(1000), torch.ones(1000), "big")
    msg = str(ei.value)
    assert "1000 of 1000 values differ" in msg and "expected: [1, 1, 1, 1, 1, 1, …]" in msg
    assert len(msg) < 400


def test_nan_is_pointed_out_and_bool_tensors_compare_exactly():
    with pytest.raises(
        CheckFailed, match=r"2 NaN where a number was expected \(first at \(0, 1\)\)"
    ):
        check_close(torch.tensor([[0.0, float("nan"), float("nan")]]), torch.zeros(1, 3), "w")
    check_close(torch.tensor([float("nan")]), torch.tensor([float("nan")]), "nan matches nan")
    with pytest.raises(CheckFailed) as ei:
        check_close(torch.tensor([True, True, True]), torch.tensor([True, False, False]), "mask")
    assert str(ei.value).startswith(
        "mask: 2 of 3 values differ exactly (shape (3,) bool).\n"
        "First difference at index (1,): expected False, got True."
    )


def test_float16_tolerance_accepts_a_reordered_sum_but_not_a_real_error():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, 32, generator=g).half(), torch.randn(32, 8, generator=g).half()
    check_close((a / 4) @ b, (a @ b) / 4, "reordered")
    with pytest.raises(CheckFailed):
        check_close((a @ b) * 1.05, a @ b, "5% off")


def test_numbers_and_shapes():
    check_close(0.1 + 0.2, 0.3, "sum")
    with pytest.raises(CheckFailed, match=r"lr: expected 0.001, got 0.002"):
        check_close(0.002, 0.001, "lr")
    with pytest.raises(CheckFailed, match=r"lr: expected a Python number like 0.001, got a tensor"):
        check_close(torch.tensor(0.001), 0.001, "lr")
    with pytest.raises(CheckFailed, match=r"^mask: expected shape \(2, 2\), got \(2,\)$"):
        check_shape(torch.ones(2), (2, 2), "mask")


def test_a_broken_drill_is_our_error_not_the_learners():
    with pytest.raises(HarnessError):
        run_drill(
            submission="def double(x):\n    return 2 * x\n",
            reference="def double(x) return\n",
            tests=TESTS,
            entry="double",
        )


def test_describe_cases_reads_names_and_visible_sources_without_running_anything():
    tests = "raise SystemExit('never run')\n" + TESTS
    cases = describe_cases(tests)
    assert [(c.name, c.name_zh, c.visible) for c in cases] == [
        ("doubles a vector", "向量乘以 2", True),
        ("keeps float64", "保持 float64", False),
        ("a slow one", None, False),
        ("another visible one", None, True),
    ]
    decorators = [i for i, ln in enumerate(tests.splitlines(), 1) if ln.startswith("@case(")]
    assert [c.line for c in cases] == decorators and len(decorators) == 4  # for the loader
    assert cases[0].source.startswith("def vector(fn, ref):\n    x = torch.arange(4.0)")
    assert cases[1].source is None and cases[2].source is None


def test_describe_cases_rejects_a_name_it_cannot_read():
    with pytest.raises(ValueError, match="line 2: @case needs its name as a string literal"):
        describe_cases("NAME = 'x'\n@case(NAME)\ndef t(fn, ref):\n    pass\n")
    with pytest.raises(ValueError, match=r"line 2: @case\(zh=...\) must be a string literal"):
        describe_cases("ZH = 'x'\n@case('x', zh=ZH)\ndef t(fn, ref):\n    pass\n")

"""Run a learner's submission against a drill's test cases; this module runs inside the sandbox.

It imports only the standard library and pydantic at the top. torch is imported inside the checks
and ``run_drill``, which only the sandbox calls: the loader reads ``describe_cases`` from here in
the web process, where torch is never imported.

A drill's ``tests.py`` imports the helpers below (also ``check_grads``, ``randn``, ``dtype_name``)::

    from app.drills.harness import case, check, check_close, check_shape

    @case("a worked 2×2 example", zh="手算的 2×2 例子", visible=True)
    def worked_example(fn, ref):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        check_close(fn(x), ref(x), "output")

Every case has an English name and a Chinese one (``zh``): the page shows the one in its own
language, and the loader reports a case without ``zh``. ``fn`` is the learner's entry function,
``ref`` the reference's. A check that fails raises :class:`CheckFailed`, whose text the learner
reads; any other exception is described by its type, its text and the ``<submission>`` lines it
passed through, never by our own code.
"""

from __future__ import annotations

import ast
import math
import textwrap
import time
import traceback
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    import torch

SUBMISSION = "<submission>"
REFERENCE = "<reference>"
TESTS = "<tests>"
MAX_MESSAGE = 600
_CASE_ATTR = "__drill_case__"
_SHOWN_VALUES = 6


class CaseName(BaseModel):
    """A case's name in both languages. ``name_zh`` is optional on the wire: attempts stored
    before it existed carry only ``name`` and must still render."""

    name: str  # English; also the case's identity (unique within a drill)
    name_zh: str | None = None

    def label(self, lang: str) -> str:
        """The name in ``lang`` (the interface's languages are zh and en), else the English."""
        return self.name_zh if lang == "zh" and self.name_zh else self.name


class CaseResult(CaseName):
    visible: bool
    passed: bool
    message: str
    time_ms: float


class Verdict(BaseModel):
    passed: bool  # every case passed
    error: str | None  # the submission did not load: syntax error, missing entry, import failure
    cases: list[CaseResult]


class CaseInfo(CaseName):
    visible: bool
    source: str | None  # only for visible cases: hidden ones stay hidden
    line: int | None = None  # of the @case decorator in tests.py, for the loader's reports


class CheckFailed(AssertionError):
    """A check in a test case failed; the text is written for the learner."""


class HarnessError(RuntimeError):
    """The drill itself is broken (its reference or tests do not load): our bug, not the learner's."""


Entry = Callable[..., Any]
CaseFn = Callable[[Entry, Entry], None]


# ---------------------------------------------------------------- helpers for tests.py


def case(name: str, *, zh: str | None = None, visible: bool = False) -> Callable[[CaseFn], CaseFn]:
    """Mark ``def f(fn, ref) -> None`` as a test case named ``name`` (English) and ``zh``
    (Chinese); cases run in file order. The loader requires ``zh``; the harness does not, so an
    unfinished drill still runs."""

    def mark(fn: CaseFn) -> CaseFn:
        setattr(fn, _CASE_ATTR, (name, zh, visible))
        return fn

    return mark


def check(cond: object, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def check_shape(t: object, shape: Sequence[int], what: str) -> None:
    import torch

    if not isinstance(t, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor of shape {_shape(shape)}, got {_kind(t)}")
    if tuple(t.shape) != tuple(shape):
        raise CheckFailed(f"{what}: expected shape {_shape(shape)}, got {_shape(t.shape)}")


def check_grads(got: Sequence[object], want: Sequence[object], names: Sequence[str]) -> None:
    """Each input's ``.grad`` after the learner's backward pass against the reference's."""
    for name, g, w in zip(names, got, want, strict=True):
        if g is None:
            raise CheckFailed(f"{name}.grad is None: the output is cut off from {name}")
        check_close(g, w, f"{name}.grad")


def randn(seed: int, *shape: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A standard-normal input from its own seeded generator: fresh and reproducible per case,
    whatever ran before it."""
    import torch

    t = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    return t if dtype is None else t.to(dtype)


def dtype_name(dtype: torch.dtype) -> str:
    """``float16`` rather than ``torch.float16``, for messages."""
    return str(dtype).removeprefix("torch.")


# Default tolerances per dtype, (atol, rtol). Looser than torch.testing's own defaults: a correct
# submission may order its sums differently from the reference (split heads, scale q before the
# product, tile the keys), and in float16 one reordering moves a result by a few units in the
# last place.
_TOLERANCE: dict[str, tuple[float, float]] = {
    "torch.float16": (2e-3, 1e-2),
    "torch.bfloat16": (1e-2, 2e-2),
    "torch.float32": (1e-5, 1e-4),
    "torch.float64": (1e-10, 1e-7),
}


def check_close(
    actual: object,
    expected: object,
    what: str,
    *,
    atol: float | None = None,
    rtol: float | None = None,
) -> None:
    """``actual`` equals ``expected`` within tolerance (tensors: same shape and dtype too).

    Tolerances default by dtype (see ``_TOLERANCE``); bool and integer tensors must match exactly.
    NaN matches NaN. Python numbers are compared as float64.
    """
    import torch

    if isinstance(expected, torch.Tensor):
        _close_tensors(actual, expected, what, atol, rtol)
        return
    if isinstance(expected, bool) or not isinstance(expected, int | float):
        raise TypeError(f"check_close compares tensors or numbers, not {type(expected).__name__}")
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        raise CheckFailed(
            f"{what}: expected a Python number like {expected!r}, got {_kind(actual)}"
        )
    a_tol, r_tol = _tolerance(torch.float64, atol, rtol)
    try:
        torch.testing.assert_close(
            float(actual), float(expected), atol=a_tol, rtol=r_tol, equal_nan=True
        )
    except AssertionError:
        raise CheckFailed(
            f"{what}: expected {expected:.10g}, got {actual:.10g} "
            f"(difference {abs(actual - expected):.3g}; atol={a_tol:g}, rtol={r_tol:g})"
        ) from None


def _tolerance(dtype: torch.dtype, atol: float | None, rtol: float | None) -> tuple[float, float]:
    a, r = _TOLERANCE.get(str(dtype), (0.0, 0.0))
    return (a if atol is None else atol), (r if rtol is None else rtol)


def _close_tensors(
    actual: object, expected: torch.Tensor, what: str, atol: float | None, rtol: float | None
) -> None:
    import torch

    want = f"{_shape(expected.shape)} {dtype_name(expected.dtype)}"
    if not isinstance(actual, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor of shape {want}, got {_kind(actual)}")
    got = f"{_shape(actual.shape)} {dtype_name(actual.dtype)}"
    if actual.shape != expected.shape:
        raise CheckFailed(f"{what}: expected shape {want}, got {got}")
    if actual.dtype != expected.dtype:
        raise CheckFailed(
            f"{what}: expected dtype {dtype_name(expected.dtype)}, got {dtype_name(actual.dtype)}"
        )
    exact = not expected.is_floating_point()
    a_tol, r_tol = (0.0, 0.0) if exact else _tolerance(expected.dtype, atol, rtol)
    try:
        torch.testing.assert_close(
            actual, expected, atol=a_tol, rtol=r_tol, equal_nan=True, check_device=False
        )
    except AssertionError:
        raise CheckFailed(_mismatch(actual, expected, what, a_tol, r_tol)) from None


def _mismatch(
    actual: torch.Tensor, expected: torch.Tensor, what: str, a_tol: float, r_tol: float
) -> str:
    """What differs, for the learner: how many values, the worst one and where, a few of each."""
    import torch

    a = actual.detach().cpu()
    e = expected.detach().cpu()
    exact = not e.is_floating_point()
    # Compare in float64; show values in their own dtype (True/False stay booleans).
    a64, e64 = a.to(torch.float64), e.to(torch.float64)
    if exact:
        bad = a != e
    else:
        same_nan = a64.isnan() & e64.isnan()
        same_inf = a64.isinf() & (a64 == e64)
        bad = ~(same_nan | same_inf | ((a64 - e64).abs() <= a_tol + r_tol * e64.abs()))
    n_bad = int(bad.sum())
    if exact:
        flat_at = int(bad.flatten().nonzero()[0])
        tol, which = "exactly", "First difference"
    else:
        diff = torch.where(bad, (a64 - e64).abs().nan_to_num(nan=math.inf), 0.0)
        flat_at = int(torch.argmax(diff.flatten()))
        tol, which = f"beyond atol={a_tol:g}, rtol={r_tol:g}", "Largest difference"
    at = _unravel(flat_at, tuple(e.shape))
    parts = [
        f"{what}: {n_bad} of {e.numel()} values differ {tol} "
        f"(shape {_shape(e.shape)} {dtype_name(e.dtype)}).",
        f"{which} at index {at}: expected {_num(e.flatten()[flat_at])}, "
        f"got {_num(a.flatten()[flat_at])}.",
    ]
    if not exact:
        nan = a64.isnan() & ~e64.isnan()
        if bool(nan.any()):
            first = _unravel(int(nan.flatten().nonzero()[0]), tuple(e.shape))
            parts.append(f"{int(nan.sum())} NaN where a number was expected (first at {first}).")
    parts.append(f"expected: {_values(e)}")
    parts.append(f"got:      {_values(a)}")
    return "\n".join(parts)


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(flat % size)
        flat //= size
    return tuple(reversed(out))


def _num(t: torch.Tensor) -> str:
    v = t.item()
    return str(v) if isinstance(v, bool | int) else f"{v:.4g}"


def _values(t: torch.Tensor) -> str:
    flat = t.flatten()
    shown = ", ".join(_num(v) for v in flat[:_SHOWN_VALUES])
    return f"[{shown}{', …' if flat.numel() > _SHOWN_VALUES else ''}]"


def _shape(shape: Sequence[int]) -> str:
    return str(tuple(int(s) for s in shape))


def _kind(x: object) -> str:
    """What a learner returned, in words (never its repr: a huge or hostile object stays short)."""
    import torch

    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {_shape(x.shape)} {dtype_name(x.dtype)}"
    if isinstance(x, tuple | list):
        return f"a {type(x).__name__} of {len(x)} items"
    if x is None:
        return "None"
    return f"a {type(x).__name__}"


# ---------------------------------------------------------------- running a submission


def _trim(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _describe(exc: BaseException) -> str:
    """The exception's type and text, and the learner's own lines it passed through."""
    lines = [
        frame_line
        for frame, frame_line in traceback.walk_tb(exc.__traceback__)
        if frame.f_code.co_filename == SUBMISSION
    ]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename == SUBMISSION and exc.lineno:
        text = f"{type(exc).__name__}: {exc.msg}"  # IndentationError, TabError included
        lines = [exc.lineno]
    if lines:
        where = ", ".join(str(n) for n in dict.fromkeys(lines))
        text += f" ({SUBMISSION} line{'s' if len(set(lines)) > 1 else ''} {where})"
    return _trim(text)


def _load(source: str, filename: str, name: str) -> dict[str, Any]:
    module = types.ModuleType(name)
    exec(compile(source, filename, "exec"), module.__dict__)
    return module.__dict__


def _cases(namespace: dict[str, Any]) -> list[tuple[str, str | None, bool, CaseFn]]:
    found = [
        (*getattr(v, _CASE_ATTR), v)
        for v in namespace.values()
        if callable(v) and hasattr(v, _CASE_ATTR)
    ]
    return sorted(found, key=lambda c: c[3].__code__.co_firstlineno)


def run_drill(*, submission: str, reference: str, tests: str, entry: str) -> Verdict:
    """Load the submission and run every case of ``tests`` against it, in file order."""
    import torch

    try:
        ref_fn = _load(reference, REFERENCE, "reference")[entry]
        cases = _cases(_load(tests, TESTS, "drill_tests"))
    except Exception as e:
        raise HarnessError(f"the drill does not load: {type(e).__name__}: {e}") from e
    if not cases:
        raise HarnessError("the drill's tests define no @case")

    try:
        namespace = _load(submission, SUBMISSION, "submission")
    except (Exception, SystemExit) as e:
        return Verdict(passed=False, error=_describe(e), cases=[])
    fn = namespace.get(entry)
    if not callable(fn):
        what = "defines no" if fn is None else "defines a non-function"
        return Verdict(
            passed=False,
            error=f"the submission {what} `{entry}`: define `def {entry}(...)`",
            cases=[],
        )

    results = []
    for name, name_zh, visible, run in cases:
        t0 = time.perf_counter()
        try:
            # A submission that switched autograd off at import must not break the gradient cases.
            with torch.enable_grad():
                run(fn, ref_fn)
            passed, message = True, ""
        except CheckFailed as e:
            passed, message = False, _trim(str(e))
        except (Exception, SystemExit) as e:
            passed, message = False, _describe(e)
        ms = (time.perf_counter() - t0) * 1000
        results.append(
            CaseResult(
                name=name,
                name_zh=name_zh,
                visible=visible,
                passed=passed,
                message=message,
                time_ms=ms,
            )
        )
    return Verdict(passed=all(r.passed for r in results), error=None, cases=results)


# ---------------------------------------------------------------- reading cases without running


def _case_decorator(deco: ast.expr) -> tuple[str, str | None, bool] | None:
    """``@case("name", zh="名称", visible=True)`` as (name, zh, visible); None for any other
    decorator."""
    if not isinstance(deco, ast.Call):
        return None
    f = deco.func
    if not (isinstance(f, ast.Name) and f.id == "case") and not (
        isinstance(f, ast.Attribute) and f.attr == "case"
    ):
        return None
    name = deco.args[0] if deco.args else None
    visible: ast.expr | None = None
    zh: ast.expr | None = None
    for kw in deco.keywords:
        if kw.arg == "name":
            name = kw.value
        elif kw.arg == "zh":
            zh = kw.value
        elif kw.arg == "visible":
            visible = kw.value
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        raise ValueError(f"line {deco.lineno}: @case needs its name as a string literal")
    if zh is not None and not (isinstance(zh, ast.Constant) and isinstance(zh.value, str)):
        raise ValueError(f"line {deco.lineno}: @case(zh=...) must be a string literal")
    if visible is not None and not (
        isinstance(visible, ast.Constant) and isinstance(visible.value, bool)
    ):
        raise ValueError(f"line {deco.lineno}: @case(visible=...) must be True or False")
    return (
        name.value,
        zh.value if zh is not None else None,
        bool(visible.value) if visible is not None else False,
    )


def describe_cases(tests: str) -> list[CaseInfo]:
    """The cases of a ``tests.py`` in file order, read with ``ast`` (nothing is executed).

    Raises ``SyntaxError`` for unparsable text and ``ValueError`` for a ``@case`` whose arguments
    are not literals.
    """
    return describe_tree(ast.parse(tests, filename=TESTS), tests)


def describe_tree(tree: ast.Module, tests: str) -> list[CaseInfo]:
    """``describe_cases`` for a ``tests.py`` already parsed (the loader parses it anyway)."""
    lines = tests.splitlines()
    out = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            spec = _case_decorator(deco)
            if spec is None:
                continue
            name, name_zh, visible = spec
            source = None
            if visible:
                body = lines[node.lineno - 1 : node.end_lineno]
                source = textwrap.dedent("\n".join(body))
            out.append(
                CaseInfo(
                    name=name, name_zh=name_zh, visible=visible, source=source, line=deco.lineno
                )
            )
    return out

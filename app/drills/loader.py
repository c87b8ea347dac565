"""Load ``drills/<id>/`` folders into :class:`Drill` objects, or say exactly what is wrong.

Problems are reported like the bank's (:class:`BankIssue`: file, line, drill id, field), all of
them at once. Python files are checked with ``ast`` only: nothing in a drill is executed here.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from app.bank.loader import (
    BankError,
    BankIssue,
    _duplicate_keys,
    _line,
    _loc_str,
    _node_at,
    _parse,
    _validation_issues,
)
from app.drills.harness import CaseInfo, describe_tree
from app.drills.models import Drill, DrillSpec

SPEC = "drill.yaml"
SOURCES = ("starter.py", "reference.py", "tests.py")
# Enough examples to learn the format from, and enough hidden cases that passing means something.
MIN_VISIBLE, MIN_HIDDEN = 2, 3


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _check_chinese_names(cases: list[CaseInfo], issue: Callable[..., None]) -> None:
    """Every case shows its name on the page in the reader's language: each needs its own zh."""
    for c in cases:
        if c.name_zh is None or not c.name_zh.strip():
            issue(
                "tests.py",
                f"case '{c.name}' has no Chinese name: write @case(..., zh=\"...\")",
                line=c.line,
                field="zh",
            )
        elif c.name_zh.strip() == c.name.strip():
            issue(
                "tests.py",
                f"case '{c.name}': its zh name is the English one copied, not a translation",
                line=c.line,
                field="zh",
            )
    zh = [c.name_zh for c in cases if c.name_zh]
    for n in sorted({n for n in zh if zh.count(n) > 1}):
        issue("tests.py", f"two cases have the Chinese name '{n}'", field="zh")


def _read_yaml(path: Path, fname: str) -> tuple[yaml.Node | None, object] | BankIssue:
    try:
        return _parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        return BankIssue(file=fname, message=f"not UTF-8 text: {e}")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return BankIssue(
            file=fname,
            line=mark.line + 1 if mark else None,
            message=f"YAML syntax error: {getattr(e, 'problem', None) or e}",
        )


def _load_one(
    folder: Path, known_questions: set[str] | None, known_topics: set[str] | None = None
) -> Drill | list[BankIssue]:
    did = folder.name
    issues: list[BankIssue] = []

    def issue(file: str, message: str, *, line: int | None = None, field: str | None = None):
        issues.append(
            BankIssue(
                file=f"{did}/{file}", message=message, line=line, question_id=did, field=field
            )
        )

    for name in (SPEC, *SOURCES):
        if not (folder / name).is_file():
            issue(name, f"missing: a drill folder holds {SPEC}, {', '.join(SOURCES)}")
    if issues:
        return issues

    texts: dict[str, str] = {}
    trees: dict[str, ast.Module] = {}
    for name in SOURCES:
        try:
            texts[name] = (folder / name).read_text(encoding="utf-8")
            trees[name] = ast.parse(texts[name], filename=name)
        except UnicodeDecodeError as e:
            issue(name, f"not UTF-8 text: {e}")
        except SyntaxError as e:
            issue(name, f"Python syntax error: {e.msg}", line=e.lineno)

    parsed = _read_yaml(folder / SPEC, f"{did}/{SPEC}")
    if isinstance(parsed, BankIssue):
        return [*issues, dataclasses.replace(parsed, question_id=did)]
    root, data = parsed
    for path_, knode in _duplicate_keys(root) if root is not None else ():
        issue(
            SPEC,
            "key appears twice (YAML keeps only the last)",
            line=_line(knode),
            field=_loc_str(path_),
        )
    if not isinstance(data, dict):
        issue(SPEC, "top level must be a mapping of the drill's fields", line=1)
        return issues
    try:
        spec = DrillSpec.model_validate(data)
    except ValidationError as e:
        return [*issues, *_validation_issues(e, f"{did}/{SPEC}", root, (), did)]

    def yaml_line(*loc: int | str) -> int | None:
        return _line(_node_at(root, loc))

    if spec.id != did:
        issue(
            SPEC,
            f"id '{spec.id}' differs from its folder name '{did}'",
            line=yaml_line("id"),
            field="id",
        )
    if known_topics is not None and spec.topic not in known_topics:
        issue(SPEC, f"unknown topic '{spec.topic}'", line=yaml_line("topic"), field="topic")
    for j, qid in enumerate(spec.questions):
        if known_questions is not None and qid not in known_questions:
            issue(
                SPEC,
                f"unknown question '{qid}'",
                line=yaml_line("questions", j),
                field=f"questions[{j}]",
            )
    for name in ("starter.py", "reference.py"):
        if name in trees and spec.entry not in _top_level_names(trees[name]):
            issue(
                name,
                f"defines no top-level '{spec.entry}' (the entry named at {SPEC}:{yaml_line('entry')})",
                field="entry",
            )
    cases: list[CaseInfo] = []
    if "tests.py" in texts and "tests.py" in trees:
        try:
            cases = describe_tree(trees["tests.py"], texts["tests.py"])
        except ValueError as e:
            issue("tests.py", str(e))
        names = [c.name for c in cases]
        for n in sorted({n for n in names if names.count(n) > 1}):
            issue("tests.py", f"two cases are named '{n}'")
        _check_chinese_names(cases, issue)
        fns = [
            node.name
            for node in trees["tests.py"].body
            if isinstance(node, ast.FunctionDef) and node.decorator_list
        ]
        for n in sorted({n for n in fns if fns.count(n) > 1}):
            issue("tests.py", f"two functions are named '{n}': the later one hides the earlier")
        visible = sum(c.visible for c in cases)
        if visible < MIN_VISIBLE or len(cases) - visible < MIN_HIDDEN:
            issue(
                "tests.py",
                f"{visible} visible and {len(cases) - visible} hidden cases: a drill needs at "
                f"least {MIN_VISIBLE} visible and {MIN_HIDDEN} hidden",
            )
    if issues:
        return issues
    return Drill(
        **spec.model_dump(), **{n.removesuffix(".py"): t for n, t in texts.items()}, cases=cases
    )


def load_drills(
    directory: Path,
    known_questions: set[str] | None = None,
    known_topics: set[str] | None = None,
) -> dict[str, Drill]:
    """Read every ``<id>/`` folder in ``directory``. Raises :class:`BankError` listing all problems.

    ``known_questions``: when given, every drill's ``questions`` entry must be one of these ids.
    """
    directory = Path(directory)
    folders = (
        sorted(p for p in directory.iterdir() if p.is_dir() and p.name[0] not in "._")
        if directory.is_dir()
        else []
    )
    if not folders:
        raise BankError([BankIssue(file=str(directory), message="no drill folders found")])
    drills: dict[str, Drill] = {}
    issues: list[BankIssue] = []
    for folder in folders:
        loaded = _load_one(folder, known_questions, known_topics)
        if isinstance(loaded, Drill):
            drills[loaded.id] = loaded
        else:
            issues.extend(loaded)
    if issues:
        raise BankError(issues)
    return drills

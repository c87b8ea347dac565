"""Load ``questions/*.yaml`` into an immutable :class:`Bank`, or say exactly what is wrong.

Every problem is reported with the file, the line (where YAML gives one), the question id and the
field, and all problems in a bank are reported at once so an author fixes them in one pass.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, PrivateAttr, ValidationError

from app.bank.models import Lang, Question, Topic, TopicFile


@dataclass(frozen=True)
class BankIssue:
    file: str
    message: str
    line: int | None = None
    question_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.question_id:
            parts.append(f"question '{self.question_id}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts) + f": {self.message}"


class BankError(Exception):
    """The bank is broken; ``issues`` lists every problem found."""

    def __init__(self, issues: list[BankIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _loc_str(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _node_at(node: yaml.Node | None, loc: Iterable[int | str]) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (for a line number)."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            nxt = node.value[part] if part < len(node.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node


# libyaml's parser when PyYAML was built with it: ten times faster than the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[yaml.Node | None, object]:
    """One parse gives both the node tree (for line numbers) and the data built from it."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _duplicate_keys(node: yaml.Node, path: tuple = ()) -> Iterable[tuple[tuple, yaml.Node]]:
    # PyYAML silently keeps the last of two equal keys; an author almost never means that.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            if k.value in seen:
                yield (*path, k.value), k
            seen.add(k.value)
            yield from _duplicate_keys(v, (*path, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from _duplicate_keys(v, (*path, i))


def _validation_issues(
    err: ValidationError, file: str, root: yaml.Node | None, prefix: tuple, qid: str | None
) -> list[BankIssue]:
    issues = []
    for e in err.errors():
        loc = tuple(e["loc"])
        issues.append(
            BankIssue(
                file=file,
                line=_line(_node_at(root, prefix + loc)),
                question_id=qid,
                field=_loc_str(loc) or None,
                message=e["msg"],
            )
        )
    return issues


class Bank(BaseModel):
    """All topics and questions, read once at start-up and never written by the server."""

    topics: list[Topic]
    questions: dict[str, Question]
    _index: Any = PrivateAttr(default=None)  # the search index, built on the first search
    _warming: bool = PrivateAttr(default=False)

    def in_topic(self, topic_id: str) -> list[Question]:
        return [q for q in self.questions.values() if q.topic == topic_id]

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def warm_search(self) -> None:
        """Build the search index in the background (jieba's dictionary takes a second or two to
        load), so that a page with a search box makes the first query fast."""
        if self._index is None and not self._warming:
            self._warming = True
            threading.Thread(target=self.search, args=("warm",), daemon=True).start()

    def search(self, text: str) -> list[Question]:
        """Questions ranked by relevance to ``text`` in both languages (``app.search``: Chinese
        word segmentation, width and case folding, BM25 over prompt, tags, key points, answer);
        a plain substring match when no word of the query is in the index (a symbol)."""
        from app import search  # jieba loads on the first search, not at import

        if not text.strip():
            return list(self.questions.values())
        if self._index is None:
            self._index = search.Index.build(self.questions.values())
        ranked = self._index.rank(text)
        if ranked:
            return [self.questions[qid] for qid, _ in ranked]
        return search.substring_hits(self.questions.values(), text)

    def filter(
        self,
        *,
        topics: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        difficulty: Iterable[int] | None = None,
        soul_only: bool = False,
        query: str | None = None,
    ) -> list[Question]:
        qs = self.search(query) if query else list(self.questions.values())
        topic_set, tag_set, diff_set = (
            set(topics or ()),
            set(tags or ()),
            set(difficulty or ()),
        )
        return [
            q
            for q in qs
            if (not topic_set or q.topic in topic_set)
            and (not tag_set or tag_set.issubset(q.tags))
            and (not diff_set or q.difficulty in diff_set)
            and (not soul_only or q.is_soul)
        ]

    def text(self, q: Question, field: str, lang: Lang) -> str:
        return getattr(q, field).get(lang)


def load_bank(directory: Path, known_demos: set[str] | None = None) -> Bank:
    """Read every ``*.yaml`` in ``directory``. Raises :class:`BankError` listing all problems.

    ``known_demos``: when given, every question's ``demos`` entry must be one of these ids.
    """
    directory = Path(directory)
    issues: list[BankIssue] = []
    topics: list[Topic] = []
    questions: dict[str, Question] = {}
    first_seen: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not files:
        raise BankError([BankIssue(file=str(directory), message="no *.yaml question files found")])

    for path in files:
        fname = path.name
        try:
            text = path.read_text(encoding="utf-8")
            root, data = _parse(text)
        except UnicodeDecodeError as e:
            issues.append(BankIssue(file=fname, message=f"not UTF-8 text: {e}"))
            continue
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problem = getattr(e, "problem", None) or str(e)
            issues.append(
                BankIssue(
                    file=fname,
                    line=mark.line + 1 if mark else None,
                    message=f"YAML syntax error: {problem}",
                )
            )
            continue
        for path_, knode in _duplicate_keys(root) if root is not None else ():
            qid = None
            if len(path_) > 2 and path_[0] == "questions" and isinstance(data, dict):
                try:
                    qid = data["questions"][path_[1]].get("id")
                except (IndexError, AttributeError, TypeError, KeyError):
                    qid = None
            field = _loc_str(path_[2:] if qid else path_)
            issues.append(
                BankIssue(
                    file=fname,
                    line=_line(knode),
                    question_id=qid,
                    field=field,
                    message="key appears twice (YAML keeps only the last)",
                )
            )
        if not isinstance(data, dict):
            issues.append(
                BankIssue(
                    file=fname,
                    line=1,
                    message="top level must be a mapping with 'topic' and 'questions'",
                )
            )
            continue
        try:
            tf = TopicFile.model_validate(data)
        except ValidationError as e:
            issues.extend(_validation_issues(e, fname, root, (), None))
            continue
        if any(t.id == tf.topic.id for t in topics):
            issues.append(
                BankIssue(
                    file=fname,
                    line=_line(_node_at(root, ("topic", "id"))),
                    field="topic.id",
                    message=f"topic '{tf.topic.id}' is defined by another file too",
                )
            )
            continue
        topics.append(tf.topic)
        for i, raw in enumerate(tf.questions):
            qid = raw.get("id") if isinstance(raw.get("id"), str) else None
            prefix = ("questions", i)
            if raw.setdefault("topic", tf.topic.id) != tf.topic.id:
                issues.append(
                    BankIssue(
                        file=fname,
                        line=_line(_node_at(root, (*prefix, "topic"))),
                        question_id=qid,
                        field="topic",
                        message=f"'{raw['topic']}' differs from this file's topic "
                        f"'{tf.topic.id}': move the question to that topic's file",
                    )
                )
                continue
            try:
                q = Question.model_validate(raw)
            except ValidationError as e:
                label = qid or f"#{i + 1} (no valid id)"
                issues.extend(_validation_issues(e, fname, root, prefix, label))
                continue
            line = _line(_node_at(root, (*prefix, "id")))
            if q.id in questions:
                issues.append(
                    BankIssue(
                        file=fname,
                        line=line,
                        question_id=q.id,
                        field="id",
                        message=f"duplicate id: already used in {first_seen[q.id]}",
                    )
                )
                continue
            if known_demos is not None:
                for j, d in enumerate(q.demos):
                    if d not in known_demos:
                        issues.append(
                            BankIssue(
                                file=fname,
                                line=_line(_node_at(root, (*prefix, "demos", j))),
                                question_id=q.id,
                                field=f"demos[{j}]",
                                message=f"unknown demo '{d}'; known: {', '.join(sorted(known_demos))}",
                            )
                        )
            questions[q.id] = q
            first_seen[q.id] = f"{fname}:{line}"
    if issues:
        raise BankError(issues)
    topics.sort(key=lambda t: (t.order, t.id))
    return Bank(topics=topics, questions=questions)

"""Pydantic models of a coding drill. ``drills/<id>/drill.yaml`` is validated against DrillSpec."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from app.bank.models import Localized, LocalizedList, Slug, Text, _Strict
from app.drills.harness import CaseInfo

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)]

MAX_HINTS = 4


class DrillSpec(_Strict):
    """What ``drill.yaml`` says: the task, where it sits in the bank and how to help."""

    id: Slug
    title: Localized
    topic: Slug
    difficulty: Literal[1, 2, 3] = Field(description="1 basic, 2 intermediate, 3 advanced")
    questions: list[Slug] = Field(min_length=1, description="Bank questions this drill serves.")
    entry: Identifier = Field(description="The function the learner defines.")
    statement: Localized = Field(description="Markdown with $...$ maths: task, signature, example.")
    hints: LocalizedList = Field(description="Revealed one at a time, gentle first.")
    source: list[Text] = Field(
        min_length=1, description="Public references: paper + section, docs."
    )
    time_limit_s: float = Field(5, ge=1, le=10)

    @field_validator("questions")
    @classmethod
    def _unique_questions(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a question id repeats")
        return v

    @field_validator("hints")
    @classmethod
    def _few_hints(cls, v: LocalizedList) -> LocalizedList:
        if len(v.en) > MAX_HINTS:
            raise ValueError(f"{len(v.en)} hints: give at most {MAX_HINTS}")
        return v


class Drill(DrillSpec):
    """A loaded drill: its spec, the three source files and the cases its tests define."""

    starter: str
    reference: str
    tests: str
    cases: list[CaseInfo]

    @property
    def visible_cases(self) -> list[CaseInfo]:
        return [c for c in self.cases if c.visible]

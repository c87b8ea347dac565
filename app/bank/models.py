"""Pydantic models of the question bank. The YAML files are validated against these."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    """The same text in Chinese and English; both are required."""

    zh: Text
    en: Text

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class LocalizedList(_Strict):
    zh: list[Text] = Field(min_length=1)
    en: list[Text] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> LocalizedList:
        if len(self.zh) != len(self.en):
            raise ValueError(
                f"zh has {len(self.zh)} items but en has {len(self.en)}: each point needs both"
            )
        return self

    def get(self, lang: Lang) -> list[str]:
        return self.zh if lang == "zh" else self.en


class Choice(_Strict):
    """One multiple-choice option, with why it is right or wrong."""

    text: Localized
    correct: bool = False
    why: Localized


class Topic(_Strict):
    id: Slug
    title: Localized
    description: Localized | None = None
    order: int = 100
    # The home page groups topics: the 2017 paper and its "soul 20", or what LLM-era interviews add.
    group: Literal["transformer-2017", "modern-llm"] = "transformer-2017"


# Soul-20 questions carry their number in a stable id prefix: soul-04-..., soul-20-...
# (a tag could not say it: the set's own tag `soul-20` would read as question 20).
_SOUL_ID = re.compile(r"^soul-(\d{2})-")


class Question(_Strict):
    id: Slug
    topic: Slug
    tags: list[Slug] = Field(default_factory=list)
    difficulty: Literal[1, 2, 3] = Field(description="1 basic, 2 intermediate, 3 advanced")
    prompt: Localized
    answer: Localized
    explanation: Localized
    key_points: LocalizedList
    choices: list[Choice] = Field(default_factory=list)
    demos: list[Slug] = Field(default_factory=list)
    source: list[Text] = Field(min_length=1, description="Seed notes, papers or code consulted.")

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("tags repeat")
        return v

    @field_validator("choices")
    @classmethod
    def _choices_shape(cls, v: list[Choice]) -> list[Choice]:
        if not v:
            return v
        if not 3 <= len(v) <= 6:
            raise ValueError(f"a multiple-choice question needs 3-6 options, got {len(v)}")
        if not any(c.correct for c in v):
            raise ValueError("no option is marked correct: true")
        if all(c.correct for c in v):
            raise ValueError("every option is correct: keep at least one wrong option")
        return v

    @model_validator(mode="after")
    def _soul_tagged(self) -> Question:
        m = _SOUL_ID.match(self.id)
        if m and not 1 <= int(m.group(1)) <= 20:
            raise ValueError(f"id {self.id!r}: soul question numbers run from 01 to 20")
        if m and "soul-20" not in self.tags:
            raise ValueError(f"id {self.id!r} names a soul question: add the tag soul-20")
        return self

    @property
    def soul_number(self) -> int | None:
        m = _SOUL_ID.match(self.id)
        return int(m.group(1)) if m else None

    @property
    def is_soul(self) -> bool:
        return self.soul_number is not None

    @property
    def multi_answer(self) -> bool:
        return sum(c.correct for c in self.choices) > 1


class TopicFile(_Strict):
    """The shape of one ``questions/*.yaml`` file: a topic and its questions."""

    topic: Topic
    questions: list[dict] = Field(default_factory=list)

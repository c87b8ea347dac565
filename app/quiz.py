"""Quiz and mock-interview logic: picking questions, scoring choices, turning a self-grade into an
FSRS rating. Pure functions; the web layer carries the state in the URL and the forms."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel

from app.bank.loader import Bank
from app.bank.models import Question
from app.srs import Grade

MAX_QUESTIONS = 30


def pick(
    bank: Bank,
    n: int,
    *,
    topics: Sequence[str] = (),
    difficulty: Sequence[int] = (),
    soul: bool = False,
    need_choices: bool = False,
    rng: random.Random,
) -> list[str]:
    pool = bank.filter(topics=topics or None, difficulty=difficulty or None, soul_only=soul)
    if need_choices:
        pool = [q for q in pool if q.choices]
    ids = [q.id for q in pool]
    rng.shuffle(ids)
    return ids[: max(1, min(n, MAX_QUESTIONS))]


def is_correct(q: Question, picked: set[int]) -> bool:
    """Right only if exactly the correct options are picked (all of them, on a multi-answer)."""
    return picked == {i for i, c in enumerate(q.choices) if c.correct}


def grade_from_points(hit: int, total: int) -> Grade:
    """Self-grading in a mock interview: the share of key points covered decides the rating.
    Under 1/3 → Again, under 2/3 → Hard, under all → Good, every point → Easy."""
    share = hit / total if total else 0.0
    if share < 1 / 3:
        return Grade.again
    if share < 2 / 3:
        return Grade.hard
    if share < 1:
        return Grade.good
    return Grade.easy


class TopicScore(BaseModel):
    topic: str
    questions: int
    share: float  # mean share of key points covered


def weak_topics(results: list[tuple[str, float]]) -> list[TopicScore]:
    """(topic, share covered) per answered question → topics weakest first."""
    by: dict[str, list[float]] = defaultdict(list)
    for topic, share in results:
        by[topic].append(share)
    out = [TopicScore(topic=t, questions=len(v), share=sum(v) / len(v)) for t, v in by.items()]
    return sorted(out, key=lambda s: (s.share, s.topic))

"""Progress in and out: a JSON export that round-trips exactly, and the bank as an Anki deck.

Import only fills an account that has no progress yet: the review log is append-only (a database
trigger refuses UPDATE), so merging into existing history is refused rather than half-done; a
user who wants to start over resets their progress first. Every field of an imported file is
checked against FSRS's invariants and our bounds before anything is stored: one bad field and
the whole file is refused, naming where.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

import genanki
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import delete
from sqlmodel import Session, select

from app.bank.loader import Bank
from app.bank.models import Lang
from app.models import (
    CARD_FIELDS,
    DIFFICULTY_MAX,
    DIFFICULTY_MIN,
    EARLIEST,
    LATEST,
    MAX_COUNT,
    MAX_STEP,
    STABILITY_MAX,
    STABILITY_MIN,
    CardState,
    DrillAttempt,
    ReviewLog,
    card_problems,
)
from app.render import render_markdown

FORMAT = "transformer-quiz/progress"
VERSION = 1


class CardOut(BaseModel):
    question_id: str
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool
    buried_until: datetime | None


class ReviewOut(BaseModel):
    question_id: str
    rating: int = Field(ge=1, le=4)
    reviewed_at: datetime
    duration_ms: int | None
    card_before: str | None
    due_after: datetime
    cram: bool = False  # a cram answer: in the log, never in the schedule or a fit


class ProgressExport(BaseModel):
    format: str = FORMAT
    version: int = VERSION
    exported_at: datetime
    username: str
    cards: list[CardOut]
    reviews: list[ReviewOut]  # oldest first


def _utc(dt: datetime | None) -> datetime | None:
    return (
        None
        if dt is None
        else (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC))
    )


def export_progress(session: Session, user_id: int, username: str, now: datetime) -> ProgressExport:
    cards = session.exec(
        select(CardState).where(CardState.user_id == user_id).order_by(CardState.question_id)
    ).all()
    logs = session.exec(
        select(ReviewLog).where(ReviewLog.user_id == user_id).order_by(ReviewLog.id)
    ).all()
    return ProgressExport(
        exported_at=_utc(now),
        username=username,
        cards=[CardOut.model_validate(c, from_attributes=True) for c in cards],
        reviews=[ReviewOut.model_validate(r, from_attributes=True) for r in logs],
    )


class ImportRefused(ValueError):
    """The import cannot go ahead; nothing was stored."""


class ImportConflict(ImportRefused):
    """The account already has progress (the review log is never merged)."""


class ImportInvalid(ImportRefused):
    """The file is not a valid progress export: ``problems`` says where and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = (
            f" (and {len(problems) - SHOWN_PROBLEMS} more)"
            if len(problems) > SHOWN_PROBLEMS
            else ""
        )
        super().__init__(f"not a valid progress file: {shown}{more}")


SHOWN_PROBLEMS = 5
# One user's file: the bank has hundreds of questions; the body limit caps the file anyway.
MAX_CARDS = 100_000
MAX_REVIEWS = 1_000_000
FUTURE_SLACK = timedelta(days=1)  # clocks disagree a little; a review next year did not happen


def _stamp(v: datetime) -> datetime:
    if not EARLIEST <= v <= LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return v.astimezone(UTC)


Stamp = Annotated[AwareDatetime, AfterValidator(_stamp)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def _not_future(info: ValidationInfo, *stamps: datetime | None) -> None:
    now = (info.context or {}).get("now")
    if now is not None and any(s is not None and s > now + FUTURE_SLACK for s in stamps):
        raise ValueError("a review time is in the future")


class _Strict(BaseModel):
    # The file is read as JSON (model_validate_json): no "2" for 2, no NaN, nothing unknown.
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class CardFields(_Strict):
    """The scheduling fields of a card, as FSRS needs them (see models.card_problems)."""

    state: Literal[1, 2, 3]
    step: Annotated[int, Field(ge=0, le=MAX_STEP)] | None
    stability: Annotated[float, Field(ge=STABILITY_MIN, le=STABILITY_MAX)] | None
    difficulty: Annotated[float, Field(ge=DIFFICULTY_MIN, le=DIFFICULTY_MAX)] | None
    due: Stamp
    last_review: Stamp | None
    reps: Count
    lapses: Count

    @model_validator(mode="after")
    def _fsrs_invariants(self, info: ValidationInfo) -> Self:
        problems = card_problems({k: getattr(self, k) for k in CARD_FIELDS})
        if problems:
            raise ValueError("; ".join(problems))
        _not_future(info, self.last_review)
        return self


class CardIn(CardFields):
    question_id: Annotated[str, Field(min_length=1, max_length=80)]
    suspended: bool
    buried_until: Stamp | None


class ReviewIn(_Strict):
    question_id: Annotated[str, Field(min_length=1, max_length=80)]
    rating: Literal[1, 2, 3, 4]
    reviewed_at: Stamp
    duration_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000)] | None
    # The card before this review, as JSON text (what undo restores), or null for a new card.
    card_before: Annotated[str, Field(max_length=2000)] | None
    due_after: Stamp
    cram: bool = False  # files exported before cram existed have none

    @field_validator("card_before")
    @classmethod
    def _a_valid_card(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            CardFields.model_validate_json(v, context=info.context)
        return v

    @model_validator(mode="after")
    def _happened(self, info: ValidationInfo) -> Self:
        _not_future(info, self.reviewed_at)
        return self


class ProgressFile(_Strict):
    """What an import accepts: a progress export, every field within FSRS's and our bounds."""

    format: Literal["transformer-quiz/progress"]
    version: Literal[1]
    exported_at: AwareDatetime
    username: Annotated[str, Field(max_length=64)]
    cards: Annotated[list[CardIn], Field(max_length=MAX_CARDS)]
    reviews: Annotated[list[ReviewIn], Field(max_length=MAX_REVIEWS)]


def _where(loc: tuple) -> str:
    """pydantic's location as a path into the file: ``cards[0].state``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier() and str(part) not in _SCHEMA_TAGS:
            out += ("." if out else "") + str(part)
    return out or "file"


_SCHEMA_TAGS = {"int", "float", "str", "bool", "datetime", "nullable", "list", "dict"}


def parse_progress(
    raw: bytes | str | ProgressExport,
    *,
    known_questions: set[str] | None = None,
    now: datetime | None = None,
) -> ProgressFile:
    """Validate a whole progress file, or raise ImportInvalid naming every problem (field by
    field, then duplicate cards and questions this server does not have)."""
    if isinstance(raw, ProgressExport):
        raw = raw.model_dump_json()
    try:
        data = ProgressFile.model_validate_json(raw, context={"now": now})
    except ValidationError as e:
        raise ImportInvalid(
            [
                f"{_where(tuple(x['loc']))}: {str(x['msg']).removeprefix('Value error, ')}"
                for x in e.errors(include_url=False, include_input=False)
            ]
        ) from None
    problems = []
    counts = Counter(c.question_id for c in data.cards)
    dupes = sorted(q for q, n in counts.items() if n > 1)
    if dupes:
        problems.append(f"cards: duplicate question ids {', '.join(dupes)}")
    if known_questions is not None:
        unknown = sorted(
            {c.question_id for c in data.cards} | {r.question_id for r in data.reviews}
        )
        unknown = [q for q in unknown if q not in known_questions]
        if unknown:
            listed = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
            problems.append(f"questions this server does not have: {listed}")
    if problems:
        raise ImportInvalid(problems)
    return data


def import_progress(
    session: Session,
    user_id: int,
    raw: bytes | str | ProgressExport,
    *,
    known_questions: set[str] | None = None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Load an export into an account with no progress, all of it or nothing. Returns (cards,
    reviews) imported. Raises ImportInvalid (the file) or ImportConflict (the account)."""
    data = parse_progress(raw, known_questions=known_questions, now=now)
    has = (
        session.exec(select(CardState.id).where(CardState.user_id == user_id)).first()
        or session.exec(select(ReviewLog.id).where(ReviewLog.user_id == user_id)).first()
    )
    if has:
        raise ImportConflict(
            "this account already has progress; import into an account with none "
            "(the review history is append-only and is never merged or overwritten)"
        )
    for c in data.cards:
        session.add(CardState(user_id=user_id, **c.model_dump()))
    for r in data.reviews:
        session.add(ReviewLog(user_id=user_id, **r.model_dump()))
    session.commit()  # one transaction: all of it or none
    return len(data.cards), len(data.reviews)


def reset_progress(session: Session, user_id: int) -> tuple[int, int]:
    """Delete one user's cards and review history (the user asked, and confirmed). Returns
    (cards, reviews) deleted. The review log refuses UPDATE, not DELETE: undo deletes too."""
    cards = session.exec(delete(CardState).where(CardState.user_id == user_id))
    reviews = session.exec(delete(ReviewLog).where(ReviewLog.user_id == user_id))
    session.exec(delete(DrillAttempt).where(DrillAttempt.user_id == user_id))
    session.commit()
    return cards.rowcount, reviews.rowcount


# --- Anki -------------------------------------------------------------------------------------

# Stable ids: re-importing an updated deck updates the same notes instead of duplicating them.
MODEL_ID = 1_739_204_811
DECK_ID = 2_059_400_127
_MATH_INLINE = re.compile(r'<span class="math inline">(.*?)</span>', re.S)
_MATH_DISPLAY = re.compile(
    r'<(?:span|div) class="math (?:display|block)">(.*?)</(?:span|div)>', re.S
)

_MODEL = genanki.Model(
    MODEL_ID,
    "Transformer Quiz",
    fields=[{"name": n} for n in ("Prompt", "Answer", "KeyPoints", "Explanation", "Topic", "Id")],
    templates=[
        {
            "name": "Card",
            "qfmt": '<div class="prompt">{{Prompt}}</div>',
            "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}<h4>Key points</h4>{{KeyPoints}}'
            "<details><summary>Explanation</summary>{{Explanation}}</details>"
            '<div class="topic">{{Topic}}</div>',
        }
    ],
    css=".card{font-family:sans-serif;font-size:18px;text-align:left}.topic{color:#888;font-size:13px}",
)


def _anki_html(markdown: str) -> str:
    """Our Markdown as HTML, with math in the delimiters Anki's MathJax understands."""
    html = str(render_markdown(markdown))
    html = _MATH_DISPLAY.sub(lambda m: r"\[" + m.group(1) + r"\]", html)
    return _MATH_INLINE.sub(lambda m: r"\(" + m.group(1) + r"\)", html)


def _field(q_text, lang: Lang | str) -> str:
    if lang == "both":
        return _anki_html(q_text.zh) + "<hr>" + _anki_html(q_text.en)
    return _anki_html(q_text.get(lang))


def export_apkg(bank: Bank, path: Path, lang: Lang | str = "both") -> int:
    """Write the bank as an Anki deck; returns the number of notes (one per question)."""
    deck = genanki.Deck(DECK_ID, "Transformer Quiz")
    topics = {t.id: t for t in bank.topics}
    for q in bank.questions.values():
        if lang == "both":
            points = "".join(
                f"<li>{_anki_html(z)} / {_anki_html(e)}</li>"
                for z, e in zip(q.key_points.zh, q.key_points.en, strict=True)
            )
            topic = f"{topics[q.topic].title.zh} / {topics[q.topic].title.en}"
        else:
            points = "".join(f"<li>{_anki_html(k)}</li>" for k in q.key_points.get(lang))
            topic = topics[q.topic].title.get(lang)
        deck.add_note(
            genanki.Note(
                model=_MODEL,
                fields=[
                    _field(q.prompt, lang),
                    _field(q.answer, lang),
                    f"<ul>{points}</ul>",
                    _field(q.explanation, lang),
                    topic,
                    q.id,
                ],
                guid=genanki.guid_for("transformer-quiz", q.id),
                tags=[t.replace(" ", "_") for t in (q.topic, *q.tags)],
            )
        )
    genanki.Package(deck).write_to_file(str(path))
    return len(deck.notes)

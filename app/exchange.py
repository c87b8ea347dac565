"""Progress in and out: a JSON export that round-trips exactly, and the bank as an Anki deck.

Import only fills an account that has no progress yet: the review log is append-only (a database
trigger refuses UPDATE and DELETE), so merging into or replacing existing history is refused
rather than half-done.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import genanki
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from app.bank.loader import Bank
from app.bank.models import Lang
from app.models import CardState, ReviewLog
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


class ProgressExport(BaseModel):
    format: str = FORMAT
    version: int = VERSION
    exported_at: datetime
    username: str
    cards: list[CardOut]
    reviews: list[ReviewOut]  # oldest first


class ImportRefused(ValueError):
    pass


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


def import_progress(session: Session, user_id: int, data: ProgressExport) -> tuple[int, int]:
    """Load an export into an account with no progress. Returns (cards, reviews) imported."""
    if data.format != FORMAT or data.version != VERSION:
        raise ImportRefused(f"not a {FORMAT} v{VERSION} file (got {data.format} v{data.version})")
    has = (
        session.exec(select(CardState.id).where(CardState.user_id == user_id)).first()
        or session.exec(select(ReviewLog.id).where(ReviewLog.user_id == user_id)).first()
    )
    if has:
        raise ImportRefused(
            "this account already has progress; import into an account with none "
            "(the review history is append-only and is never merged or overwritten)"
        )
    for c in data.cards:
        session.add(
            CardState(
                user_id=user_id,
                **{
                    **c.model_dump(),
                    "due": _utc(c.due),
                    "last_review": _utc(c.last_review),
                    "buried_until": _utc(c.buried_until),
                },
            )
        )
    for r in data.reviews:
        session.add(
            ReviewLog(
                user_id=user_id,
                **{
                    **r.model_dump(),
                    "reviewed_at": _utc(r.reviewed_at),
                    "due_after": _utc(r.due_after),
                },
            )
        )
    session.commit()  # one transaction: all of it or none
    return len(data.cards), len(data.reviews)


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

"""API response and request models (kept apart from the tables, as the OpenAPI contract)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from app.bank.models import Choice, Localized, LocalizedList


class TopicOut(BaseModel):
    id: str
    title: Localized
    total: int
    due: int
    new: int
    seen: int


class QuestionSummary(BaseModel):
    id: str
    topic: str
    tags: list[str]
    difficulty: int
    prompt: Localized
    demos: list[str]
    has_choices: bool


class CardOut(BaseModel):
    question_id: str
    state: Literal["new", "learning", "review", "relearning"]
    due: datetime | None
    stability: float | None
    difficulty: float | None
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool
    buried_until: datetime | None


class QuestionOut(QuestionSummary):
    answer: Localized
    explanation: Localized
    key_points: LocalizedList
    choices: list[Choice]
    source: list[str]
    card: CardOut


class NextOut(BaseModel):
    question: QuestionSummary | None
    is_new: bool
    due_count: int
    new_left_today: int
    intervals: dict[str, str] = Field(
        default_factory=dict, description="Next interval per grade, e.g. {'good': '10m'}"
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str = Field(max_length=80)
    rating: Literal[1, 2, 3, 4, "again", "hard", "good", "easy"]
    duration_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)


class ReviewLogOut(BaseModel):
    id: int
    question_id: str
    rating: int
    reviewed_at: datetime
    duration_ms: int | None
    due_after: datetime


class ReviewOut(BaseModel):
    review_id: int
    question_id: str
    rating: int
    reviewed_at: datetime
    card: CardOut


class UndoOut(BaseModel):
    undone: bool
    question_id: str | None = None
    card: CardOut | None = None


class ProgressOut(BaseModel):
    total: int
    seen: int
    due: int
    new: int
    reviews: int
    topics: list[TopicOut]


class HoldIn(BaseModel):
    action: Literal["suspend", "unsuspend", "bury"]


class Health(BaseModel):
    status: Literal["ok"]
    questions: int
    demos: int


class ErrorOut(BaseModel):
    detail: str


def errors(*codes: int) -> dict[int | str, dict]:
    """OpenAPI ``responses=`` entries for the error codes a route can answer with."""
    text = {
        400: "The body is not valid JSON",
        401: "Login required (accounts mode)",
        403: "Cross-site request, or neither an application/json body nor the X-CSRF-Token header",
        404: "No such object (for this user)",
        413: "Request body too large",
        415: "The API takes application/json bodies",
        429: "Too many failed logins",
        503: "Busy; retry",
    }
    return {c: {"model": ErrorOut, "description": text[c]} for c in codes}


def json_safe(value: Any) -> Any:
    """``value`` with every string encodable as UTF-8 (a lone surrogate from a ``\\ud800`` escape
    is spelled out) and every float finite, so that echoing a client's input never fails."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bool | int | None):
        return value
    if isinstance(value, dict):
        return {str(json_safe(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [json_safe(v) for v in value]
    return json_safe(str(value))


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic errors as the API reports them: where, what, which rule; never the raw input,
    which may be NaN, a lone surrogate or a 5000-digit number."""
    return [
        {"loc": json_safe(list(e.get("loc", ()))), "msg": json_safe(e["msg"]), "type": e["type"]}
        for e in errors
    ]


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": validation_errors(exc.errors())})

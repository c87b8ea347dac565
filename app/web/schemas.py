"""API response and request models (kept apart from the tables, as the OpenAPI contract)."""

from __future__ import annotations

import math
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from starlette.datastructures import FormData
from starlette.requests import Request

from app.bank.models import Choice, Localized, LocalizedList
from app.quiz import MAX_QUESTIONS


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
    cram: bool = False  # practice outside the schedule (the card did not move)


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


# ---- page forms ----------------------------------------------------------------------------------
# Every field a page form posts is parsed by one of these models: a number is what pydantic reads
# as an int ("²", "①", "٣" or 5000 digits are a 422, where isdigit() + int() was a 500), a time
# is aware and within reason, and an empty optional field (a form without JavaScript) is None.


def _blank_is_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


def _sane_time(v: datetime) -> datetime:
    if not 2000 <= v.year < 2200:
        raise ValueError("must be a time between 2000 and 2200")
    return v


def _clamp(lo: int, hi: int) -> AfterValidator:
    # Where a page measured something (a time taken), an outlier is clamped, not refused.
    return AfterValidator(lambda v: v if v is None else min(max(v, lo), hi))


Blank = BeforeValidator(_blank_is_none)
QuestionIds = Annotated[str, Field(max_length=MAX_QUESTIONS * 81, pattern=r"^[a-z0-9,-]+$")]
Index = Annotated[int, Field(ge=0, lt=MAX_QUESTIONS)]
ChoiceIndex = Annotated[int, Field(ge=0, le=100)]
Seconds = Annotated[int, Field(ge=0), _clamp(0, 86_400)]
SafeNext = Annotated[str | None, Blank, Field(max_length=2000)]


class PageForm(BaseModel):
    """A form read from ``await request.form()``; list fields take every value, other fields
    the last one, and ``PREFIXED`` fields gather the keys that start with a prefix."""

    model_config = ConfigDict(extra="ignore")
    PREFIXED: ClassVar[dict[str, str]] = {}

    @classmethod
    def parse(cls, form: FormData) -> Self:
        hints = typing.get_type_hints(cls)
        data: dict[str, Any] = {}
        for name in cls.model_fields:
            if name in cls.PREFIXED:
                prefix = cls.PREFIXED[name]
                data[name] = {
                    k[len(prefix) :]: form.getlist(k) for k in form if k.startswith(prefix)
                }
            elif typing.get_origin(_unwrap(hints[name])) is list:
                data[name] = form.getlist(name)
            elif name in form:
                data[name] = form.getlist(name)[-1]
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise HTTPException(422, validation_errors(e.errors())) from None


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


class GradeForm(BaseModel):
    rating: Annotated[int, Field(ge=1, le=4)]
    next: SafeNext = None
    # Filled in by JS (time from showing the card to grading); empty without JS.
    duration_ms: Annotated[
        Annotated[int, Field(ge=0)] | None, Blank, _clamp(0, 24 * 3600 * 1000)
    ] = None


class ChoiceForm(PageForm):
    choice: list[ChoiceIndex] = []
    next: SafeNext = None


class QuizAnswerForm(PageForm):
    ids: QuestionIds
    i: Index
    right: Annotated[int, Field(ge=0, le=MAX_QUESTIONS)] = 0
    choice: list[ChoiceIndex] = []


class MockStepForm(PageForm):
    ids: QuestionIds
    i: Index
    seconds: Annotated[int, _clamp(30, 900)] = 120
    started: Annotated[AwareDatetime, AfterValidator(_sane_time)]
    answer: list[str] = []  # kept to 4000 characters each; the body limit bounds the form
    elapsed: list[Seconds] = []


class MockGradeForm(PageForm):
    PREFIXED: ClassVar[dict[str, str]] = {"points": "kp-"}

    ids: QuestionIds
    elapsed: list[Seconds] = []
    points: dict[str, list[ChoiceIndex]] = {}  # kp-<question id>: indices of key points hit

"""A member's study settings: stored in user_prefs, read once per request, and turned into the
scheduler that member's reviews use (their fitted weights, their desired retention).

Srs objects are immutable, so one per distinct (weights, retention, fuzz) is built and shared by
every member with those settings; they are cached on app.state, bounded.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlmodel import Session

from app import services
from app.config import Settings
from app.models import UserPrefs, utcnow
from app.srs import DEFAULT_PARAMETERS, Srs, valid_parameters
from app.study.fitting import FitReport

RETENTION_MIN, RETENTION_MAX = 0.70, 0.97
MAX_PLAN_DAYS = 365
SRS_CACHE_SIZE = 256


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))  # tzdata's files walked: ~20 ms


def zone_names() -> list[str]:
    return list(_zones())


class _ZoneSchema:
    """The schema of a zone name lists the zones this server knows, so a client can offer them.
    Computed when a schema is asked for (/openapi.json), not at import: serving starts sooner."""

    def __get_pydantic_json_schema__(
        self, _core: CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": zone_names(), "maxLength": 64}


class PrefsIn(BaseModel):
    """What a member may change; every field optional (only those sent change). ``null`` for
    new_per_day or desired_retention means the server's default again; for interview_date, no
    interview."""

    model_config = ConfigDict(extra="forbid")

    timezone: Annotated[str, _ZoneSchema()] | None = Field(
        None,
        max_length=64,
        description="IANA time zone, e.g. Asia/Shanghai: where your day begins.",
    )
    day_start_hour: int | None = Field(
        None, ge=0, le=23, description="Local hour at which a new study day begins (Anki: 4)."
    )
    new_per_day: int | None = Field(None, ge=0, le=1000, description="New cards a day.")
    desired_retention: float | None = Field(
        None,
        ge=RETENTION_MIN,
        le=RETENTION_MAX,
        description="The recall probability at which FSRS schedules each review.",
    )
    interview_date: date | None = Field(
        None,
        description=f"Your interview: a day after today, at most {MAX_PLAN_DAYS} days ahead "
        "(another date is refused with 409, naming the range: the range moves with today).",
    )
    target_recall: float | None = Field(
        None, ge=RETENTION_MIN, le=RETENTION_MAX, description="Recall to aim at on the day."
    )
    daily_limit: int | None = Field(
        None, ge=5, le=1000, description="Most cards a day the interview plan may ask for."
    )
    leech_threshold: int | None = Field(
        None, ge=2, le=50, description="Lapses that make a card a leech."
    )
    autofit_every: int | None = Field(
        None, ge=0, le=100_000, description="Re-fit after this many new reviews (0: never)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is not None and not _zone_ok(v):
            raise ValueError("not an IANA time zone name (e.g. Asia/Shanghai, Europe/Berlin, UTC)")
        return v


class Prefs(BaseModel):
    """A member's settings in force: stored values, or the server's defaults where unset."""

    model_config = ConfigDict(frozen=True)

    timezone: str
    day_start_hour: int
    new_per_day: int
    new_per_day_is_default: bool
    desired_retention: float
    desired_retention_is_default: bool
    parameters: tuple[float, ...] | None = Field(
        description="Fitted FSRS weights in use, or null for the defaults."
    )
    fit: FitReport | None = Field(description="The last fit's report.")
    fitted_at: datetime | None
    autofit_every: int
    interview_date: date | None
    target_recall: float
    daily_limit: int
    leech_threshold: int
    extra_new_day: date | None
    extra_new: int

    def srs_key(self, fuzz: bool) -> tuple:
        return (self.parameters, self.desired_retention, fuzz)


class PrefsOut(Prefs):
    today: date = Field(description="Your study day now, in your time zone.")
    day_began: datetime = Field(description="When it began (UTC).")
    day_ends: datetime = Field(description="When the next one begins (UTC).")
    extra_new_today: int = Field(description="Extra new cards allowed today.")
    default_parameters: tuple[float, ...]


def _row(session: Session, user_id: int) -> UserPrefs | None:
    return session.get(UserPrefs, user_id)


def to_prefs(row: UserPrefs | None, settings: Settings) -> Prefs:
    row = row or UserPrefs(user_id=0)
    params = None
    if row.fsrs_params:
        loaded = tuple(float(w) for w in json.loads(row.fsrs_params))
        params = loaded if valid_parameters(loaded) else None
    return Prefs(
        timezone=row.timezone if _zone_ok(row.timezone) else "UTC",
        day_start_hour=row.day_start_hour,
        new_per_day=settings.new_per_day if row.new_per_day is None else row.new_per_day,
        new_per_day_is_default=row.new_per_day is None,
        desired_retention=settings.desired_retention
        if row.desired_retention is None
        else row.desired_retention,
        desired_retention_is_default=row.desired_retention is None,
        parameters=params,
        fit=FitReport.model_validate_json(row.fit_report) if row.fit_report else None,
        fitted_at=row.fitted_at,
        autofit_every=row.autofit_every,
        interview_date=row.interview_date,
        target_recall=row.target_recall,
        daily_limit=row.daily_limit,
        leech_threshold=row.leech_threshold,
        extra_new_day=row.extra_new_day,
        extra_new=row.extra_new,
    )


def load(session: Session, user_id: int, settings: Settings) -> Prefs:
    return to_prefs(_row(session, user_id), settings)


def _row_for_write(session: Session, user_id: int) -> UserPrefs:
    row = _row(session, user_id)
    if row is None:
        row = UserPrefs(user_id=user_id)
        session.add(row)
    return row


class DateOutOfRange(ValueError):
    """The interview date is not between tomorrow and a year ahead (a bound that moves with
    today, so no schema can state it)."""


def save(
    session: Session, user_id: int, patch: PrefsIn, settings: Settings, now: datetime
) -> Prefs:
    """Apply the fields ``patch`` carries. Raises DateOutOfRange naming the allowed range."""
    prefs = load(session, user_id, settings)
    fields = patch.model_fields_set
    if "interview_date" in fields and patch.interview_date is not None:
        tz = patch.timezone or prefs.timezone
        hour = prefs.day_start_hour if patch.day_start_hour is None else patch.day_start_hour
        today = local_today(now, tz, hour)
        lo, hi = today + timedelta(days=1), today + timedelta(days=MAX_PLAN_DAYS)
        if not lo <= patch.interview_date <= hi:
            raise DateOutOfRange(f"interview_date must be from {lo} to {hi}")
    row = _row_for_write(session, user_id)
    for name in fields:
        value = getattr(patch, name)
        if value is None and name not in ("new_per_day", "desired_retention", "interview_date"):
            continue  # null only resets the fields that have a server default
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.commit()
    return to_prefs(row, settings)


def store_fit(
    session: Session, user_id: int, report: FitReport, settings: Settings, *, adopt: bool
) -> Prefs:
    """Keep the report; adopt its weights only when they beat the defaults on held-out reviews."""
    row = _row_for_write(session, user_id)
    row.fit_report = report.model_dump_json()
    row.fitted_at = report.fitted_at
    if adopt and report.status == "fitted" and report.parameters:
        row.fsrs_params = json.dumps(report.parameters)
    row.updated_at = utcnow()
    session.commit()
    return to_prefs(row, settings)


def reset_parameters(session: Session, user_id: int, settings: Settings) -> Prefs:
    """Back to FSRS's default weights (the last report stays, for reference)."""
    row = _row_for_write(session, user_id)
    row.fsrs_params = None
    row.updated_at = utcnow()
    session.commit()
    return to_prefs(row, settings)


def add_extra_new(
    session: Session, user_id: int, n: int, settings: Settings, now: datetime
) -> Prefs:
    """ "Study N more new cards today": raises today's allowance only, in the member's day."""
    prefs = load(session, user_id, settings)
    today = local_today(now, prefs.timezone, prefs.day_start_hour)
    row = _row_for_write(session, user_id)
    row.extra_new = (row.extra_new if row.extra_new_day == today else 0) + n
    row.extra_new_day = today
    row.updated_at = utcnow()
    session.commit()
    return to_prefs(row, settings)


# ---- the member's day ----------------------------------------------------------------------


def local_today(now: datetime, tz: str, hour: int) -> date:
    """The member's study day: the local date on which their current day began."""
    return services.day_start(now, tz, hour).astimezone(ZoneInfo(tz)).date()


def day_bounds(prefs: Prefs, now: datetime) -> tuple[datetime, datetime]:
    start = services.day_start(now, prefs.timezone, prefs.day_start_hour)
    return start, services.next_day_start(start, prefs.timezone, prefs.day_start_hour)


def local_day_start(day: date, prefs: Prefs) -> datetime:
    """When the member's study day ``day`` begins, in UTC."""
    local = datetime(
        day.year, day.month, day.day, prefs.day_start_hour, tzinfo=ZoneInfo(prefs.timezone)
    )
    return local.astimezone(ZoneInfo("UTC"))


def extra_new_today(prefs: Prefs, now: datetime) -> int:
    today = local_today(now, prefs.timezone, prefs.day_start_hour)
    return prefs.extra_new if prefs.extra_new_day == today else 0


def prefs_out(prefs: Prefs, now: datetime) -> PrefsOut:
    began, ends = day_bounds(prefs, now)
    return PrefsOut(
        **prefs.model_dump(),
        today=local_today(now, prefs.timezone, prefs.day_start_hour),
        day_began=began,
        day_ends=ends,
        extra_new_today=extra_new_today(prefs, now),
        default_parameters=DEFAULT_PARAMETERS,
    )


# ---- per-request access and the scheduler cache --------------------------------------------


def for_request(request: Any, session: Session, user_id: int) -> Prefs:
    """The member's prefs, read once per request (get_srs and the pages both want them)."""
    cached = getattr(request.state, "study_prefs", None)
    if cached is not None and cached[0] == user_id:
        return cached[1]
    prefs = load(session, user_id, request.app.state.settings)
    request.state.study_prefs = (user_id, prefs)
    return prefs


_cache_lock = threading.Lock()


def srs_for(app_state: Any, prefs: Prefs) -> Srs:
    """The scheduler for these settings: one shared, immutable Srs per (weights, retention, fuzz),
    least recently used out past SRS_CACHE_SIZE."""
    fuzz = app_state.settings.fsrs_fuzz
    key = prefs.srs_key(fuzz)
    with _cache_lock:
        cache: OrderedDict[tuple, Srs] | None = getattr(app_state, "srs_cache", None)
        if cache is None:
            cache = OrderedDict()
            app_state.srs_cache = cache
        srs = cache.get(key)
        if srs is not None:
            cache.move_to_end(key)
            return srs
    srs = Srs(prefs.desired_retention, fuzz=fuzz, parameters=prefs.parameters)
    with _cache_lock:
        cache[key] = srs
        while len(cache) > SRS_CACHE_SIZE:
            cache.popitem(last=False)
    return srs


def parse_form(raw: dict[str, str]) -> PrefsIn:
    """The settings form through the same model as the API. An empty box sends nothing for the
    optional numbers, but clears the interview date; a "default" tick resets to the server's."""
    data: dict[str, Any] = {}
    for name in PrefsIn.model_fields:
        if name not in raw:
            continue
        value = raw[name].strip()
        if value == "" and name != "interview_date":
            continue
        data[name] = value or None
    for name in ("new_per_day", "desired_retention"):
        if raw.get(f"{name}_default") == "on":
            data[name] = None
    return PrefsIn.model_validate(data)


__all__ = ["PrefsIn", "Prefs", "PrefsOut", "ValidationError"]

"""Pages and JSON API for study science: settings (/settings), fitting, workload, readiness and
the interview plan (/readiness), the card view (/card/{id}, /cards), cram (/cram), and today's
session counters. Forms go through the same pydantic models as the API; an out-of-range value
gets a 422 that names the allowed range."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app import services
from app.srs import Grade
from app.study import cards as card_views
from app.study import cram, fitting, planner, prefs
from app.study import queue as study_queue
from app.web.api import param_errors
from app.web.deps import BankDep, LangDep, NowDep, SessionDep, SettingsDep, SrsDep, UserDep
from app.web.pages import render
from app.web.schemas import ErrorOut, errors
from app.web.security import csrf_protect, json_only
from app.web.study import question_ids

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
api = APIRouter(
    prefix="/api",
    tags=["study"],
    dependencies=[Depends(json_only)],
    responses=errors(400, 401, 403, 413, 415),
)


class MoreNewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=200, description="Extra new cards for today only.")


class FitOut(BaseModel):
    report: fitting.FitReport
    adopted: bool = Field(description="Whether the fitted weights are now in use.")
    settings: prefs.PrefsOut


class ErrorsOut(BaseModel):
    detail: list[dict[str, Any]]


def range_errors(model: type[BaseModel], err: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors, each naming the allowed range (from the field's ge/le bounds, also on
    optional fields, whose JSON schema hides them under anyOf) or the allowed values."""
    by_field = {e["loc"][-1]: e for e in param_errors(model, err) if e["loc"]}
    out = []
    for e in err.errors(include_url=False):
        field = str(e["loc"][0]) if e["loc"] else ""
        info = model.model_fields.get(field)
        lo = hi = None
        for m in info.metadata if info else ():
            lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
            hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
            if getattr(m, "lt", None) is not None:
                hi = f"below {m.lt}"
        if lo is not None or hi is not None:
            allowed = f"{lo if lo is not None else '-inf'} to {hi if hi is not None else 'inf'}"
            msg = f"{e['msg']}; allowed {field}: {allowed}"
            out.append(
                {"loc": ["body", *e["loc"]], "msg": msg, "type": e["type"], "allowed": allowed}
            )
        elif (known := by_field.get(e["loc"][-1] if e["loc"] else None)) is not None:
            out.append(known)
        else:
            out.append(
                {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"], "allowed": None}
            )
    return out


def _validation_422(model: type[BaseModel], e: ValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": range_errors(model, e)})


def _prefs(request: Request, session, user) -> prefs.Prefs:
    return prefs.for_request(request, session, user.id)


def _drills(request: Request) -> dict:
    return request.app.state.drills


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    # The body is validated by hand (to name each allowed range in a 422), so its schema is
    # declared here for the OpenAPI document.
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A model's fields as OpenAPI query parameters (lists repeat the parameter)."""
    props = model.model_json_schema()["properties"]
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {k: v for k, v in prop.items() if k != "title"},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in props.items()
    ]


def _forecast(request, session, user, bank, srs, now) -> planner.Forecast | None:
    return study_queue.for_page(request, session, user.id, bank, srs, now).forecast


async def _fit(request: Request, session, user, settings, now) -> tuple[fitting.FitReport, bool]:
    reviews = fitting.collect_reviews(session, user.id)
    report = await fitting.fit_on_pool(request.app.state.pool, reviews, now)
    adopted = report.status == "fitted"
    prefs.store_fit(session, user.id, report, settings, adopt=adopted)
    request.state.study_prefs = None
    return report, adopted


def _unavailable(e: fitting.FitUnavailable) -> HTTPException:
    headers = {"Retry-After": str(e.retry_after_s)} if e.retry_after_s else None
    return HTTPException(503, f"fit: {e}", headers=headers)


# ---- API -----------------------------------------------------------------------------------


@api.get("/settings", response_model=prefs.PrefsOut)
def get_settings(request: Request, session: SessionDep, user: UserDep, now: NowDep):
    """Your study settings in force (stored values, or the server's defaults)."""
    return prefs.prefs_out(_prefs(request, session, user), now)


@api.patch(
    "/settings",
    response_model=prefs.PrefsOut,
    responses={
        409: {"model": ErrorOut, "description": "interview_date not from tomorrow to a year ahead"},
        422: {"model": ErrorsOut, "description": "A value out of range (named)"},
    },
    openapi_extra=_schema(prefs.PrefsIn),
)
def patch_settings(
    session: SessionDep,
    user: UserDep,
    settings: SettingsDep,
    now: NowDep,
    body: Annotated[dict[str, Any], Body(include_in_schema=False)],
):
    """Change any of your settings; fields left out stay as they are. ``null`` resets
    new_per_day and desired_retention to the server's default and clears interview_date."""
    try:
        patch = prefs.PrefsIn.model_validate(body)
    except ValidationError as e:
        return _validation_422(prefs.PrefsIn, e)
    try:
        p = prefs.save(session, user.id, patch, settings, now)
    except prefs.DateOutOfRange as e:
        raise HTTPException(409, str(e)) from None
    return prefs.prefs_out(p, now)


@api.post(
    "/settings/more-new",
    response_model=prefs.PrefsOut,
    responses={422: {"model": ErrorsOut, "description": "count out of range (named)"}},
    openapi_extra=_schema(MoreNewIn),
)
def more_new(
    session: SessionDep,
    user: UserDep,
    settings: SettingsDep,
    now: NowDep,
    body: Annotated[dict[str, Any], Body(include_in_schema=False)],
):
    """Study N more new cards today (today only, in your time zone)."""
    try:
        m = MoreNewIn.model_validate(body)
    except ValidationError as e:
        return _validation_422(MoreNewIn, e)
    return prefs.prefs_out(prefs.add_extra_new(session, user.id, m.count, settings, now), now)


@api.get("/queue", response_model=study_queue.QueueOut)
def get_queue(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
):
    """Today's session: new / learning / due left, plan cards left, and when the next learning
    card comes back."""
    day = study_queue.for_page(request, session, user.id, bank, srs, now)
    return study_queue.queue_out(day, day.counts(session, user.id, list(bank.questions), now), now)


@api.post("/fsrs/fit", response_model=FitOut, responses=errors(503))
async def fit_parameters(
    request: Request, session: SessionDep, user: UserDep, settings: SettingsDep, now: NowDep
):
    """Fit FSRS's weights to your review log (cram answers excluded) on the compute pool, and
    score them against the defaults on your later reviews. They are adopted only if they
    predict those better (lower log-loss); a short log says how many more reviews are needed."""
    try:
        report, adopted = await _fit(request, session, user, settings, now)
    except fitting.FitUnavailable as e:
        raise _unavailable(e) from None
    p = prefs.load(session, user.id, settings)
    return FitOut(report=report, adopted=adopted, settings=prefs.prefs_out(p, now))


@api.delete("/fsrs/parameters", response_model=prefs.PrefsOut)
def reset_parameters(session: SessionDep, user: UserDep, settings: SettingsDep, now: NowDep):
    """Go back to FSRS's default weights."""
    return prefs.prefs_out(prefs.reset_parameters(session, user.id, settings), now)


@api.get("/fsrs/workload", response_model=fitting.WorkloadReport, responses=errors(503))
async def workload(
    request: Request, session: SessionDep, user: UserDep, bank: BankDep, srs: SrsDep
):
    """The expected workload at each desired retention for your bank, from fsrs's simulation
    with your weights and your grades and times; the optimum is the least study time per card
    remembered."""
    return await _workload(request, session, user, bank, srs)


_WORKLOADS: OrderedDict[tuple, list[fitting.WorkloadPoint]] = OrderedDict()


async def _workload(request, session, user, bank, srs) -> fitting.WorkloadReport:
    reviews = fitting.collect_reviews(session, user.id)
    # The simulation takes seconds; the same log, weights and bank give the same answer.
    key = (srs.parameters, len(reviews), reviews[-1] if reviews else None, len(bank.questions))
    points = _WORKLOADS.get(key)
    if points is None:
        try:
            points = await fitting.workload_on_pool(
                request.app.state.pool, reviews, list(srs.parameters), len(bank.questions)
            )
        except fitting.FitUnavailable as e:
            raise _unavailable(e) from None
        _WORKLOADS[key] = points
        while len(_WORKLOADS) > 64:
            _WORKLOADS.popitem(last=False)
    assert points
    best = min(points, key=lambda p: p.seconds_per_card_remembered)
    return fitting.WorkloadReport(
        points=points,
        optimal_retention=best.retention,
        bank_size=len(bank.questions),
        based_on_reviews=len(reviews),
        parameters="fitted" if _prefs(request, session, user).parameters else "default",
    )


NO_DATE = {409: {"model": ErrorOut, "description": "No interview date is set"}}


def _need_forecast(fc: planner.Forecast | None) -> planner.Forecast:
    if fc is None:
        raise HTTPException(409, "set an interview date first (PATCH /api/settings)")
    return fc


@api.get("/readiness", response_model=planner.Readiness, responses=NO_DATE)
def readiness(
    request: Request, session: SessionDep, user: UserDep, bank: BankDep, srs: SrsDep, now: NowDep
):
    """Expected share of the bank recalled on your interview day, overall and per topic, as
    things stand and if you follow the plan."""
    return _need_forecast(_forecast(request, session, user, bank, srs, now)).readiness


@api.get("/plan", response_model=planner.Plan, responses=NO_DATE)
def plan(
    request: Request, session: SessionDep, user: UserDep, bank: BankDep, srs: SrsDep, now: NowDep
):
    """The day-by-day plan to your interview: cards due, new cards, and reviews ahead of time,
    each day within your daily limit."""
    return _need_forecast(_forecast(request, session, user, bank, srs, now)).plan


@api.get("/readiness/cards", response_model=list[planner.CardForecast], responses=NO_DATE)
def readiness_cards(
    request: Request, session: SessionDep, user: UserDep, bank: BankDep, srs: SrsDep, now: NowDep
):
    """Each card's predicted recall on the interview day, now and if the plan is followed."""
    return _need_forecast(_forecast(request, session, user, bank, srs, now)).cards


@api.get("/cards", response_model=list[card_views.CardView])
def list_cards(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    leech: bool = False,
    topic: Annotated[str | None, Query(max_length=80)] = None,
):
    """Every card with stability, difficulty and recall (now, and on the interview day), weakest
    first; ``leech=true`` keeps only cards with lapses at or above your threshold."""
    return card_views.listing(
        session,
        user.id,
        bank=bank,
        drills=_drills(request),
        srs=srs,
        prefs=_prefs(request, session, user),
        now=now,
        leech_only=leech,
        topic=topic,
    )


@api.get("/cards/{card_id}/details", response_model=card_views.CardView, responses=errors(404))
def card_details(
    request: Request,
    card_id: Annotated[str, Path(max_length=90)],
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
):
    """One card (a question id, or ``drill:<id>``): its memory state and whole review history."""
    v = card_views.card_view(
        session,
        user.id,
        card_id,
        bank=bank,
        drills=_drills(request),
        srs=srs,
        prefs=_prefs(request, session, user),
        now=now,
    )
    if v is None:
        raise HTTPException(404, f"no card {card_id!r}")
    return v


# Read loosely and validated by CramFilter (so a 422 names each range); documented below.
_Raw = Query(include_in_schema=False)


def _cram_filter(
    topic: Annotated[list[str] | None, Query(include_in_schema=False)] = None,
    tag: Annotated[list[str] | None, Query(include_in_schema=False)] = None,
    soul: Annotated[str, _Raw] = "false",
    mode: Annotated[str, _Raw] = "all",
    n: Annotated[str, _Raw] = "20",
    days: Annotated[str, _Raw] = "3",
) -> cram.CramFilter | list[dict[str, Any]]:
    raw = {"topic": topic or [], "tag": tag or [], "soul": soul, "mode": mode, "n": n, "days": days}
    try:
        return cram.CramFilter.model_validate(raw)
    except ValidationError as e:
        return range_errors(cram.CramFilter, e)


CramFilterDep = Annotated[cram.CramFilter | list[dict[str, Any]], Depends(_cram_filter)]


@api.get(
    "/cram/cards",
    response_model=cram.CramSet,
    responses={422: {"model": ErrorsOut, "description": "A value out of range (named)"}},
    openapi_extra={"parameters": _query_params(cram.CramFilter)},
)
def cram_cards(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    f: CramFilterDep,
):
    """The cards a cram session over this filter would show. ``mode``: all | weakest |
    due_soon | leeches; ``n`` 1-100; ``days`` 1-60 (due_soon)."""
    if isinstance(f, list):
        return JSONResponse(status_code=422, content={"detail": f})
    cards = services.cards_by_question(session, user.id)
    ids = cram.pick(bank, cards, srs, _prefs(request, session, user), now, f)
    return cram.CramSet(ids=ids, mode=f.mode)


@api.post(
    "/cram/reviews",
    response_model=cram.CramOut,
    status_code=201,
    responses={**errors(404), 422: {"model": ErrorsOut, "description": "Invalid (named)"}},
    openapi_extra=_schema(cram.CramIn),
)
def cram_review(
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    now: NowDep,
    body: Annotated[dict[str, Any], Body(include_in_schema=False)],
):
    """Record a cram answer: kept in your log (marked cram), no card's schedule changes."""
    try:
        c = cram.CramIn.model_validate(body)
    except ValidationError as e:
        return _validation_422(cram.CramIn, e)
    if c.question_id not in bank.questions:
        raise HTTPException(404, f"no question {c.question_id!r}")
    log = cram.record(
        session, user.id, c.question_id, Grade(c.rating), now, duration_ms=c.duration_ms
    )
    row = services.cards_by_question(session, user.id).get(c.question_id)
    return cram.CramOut(
        review_id=log.id or 0,
        question_id=c.question_id,
        rating=c.rating,
        due=row.due if row is not None and row.reps else None,
    )


# ---- pages ---------------------------------------------------------------------------------


def _settings_page(
    request: Request,
    session,
    user,
    bank,
    now,
    lang,
    *,
    errors_: list[dict[str, Any]] | None = None,
    flash: str | None = None,
    work: fitting.WorkloadReport | None = None,
    status_code: int = 200,
):
    p = prefs.load(session, user.id, request.app.state.settings)
    return render(
        request,
        "settings.html",
        lang,
        p=prefs.prefs_out(p, now),
        zones=prefs.zone_names(),
        errors=errors_,
        flash=flash,
        work=work,
        bank_size=len(bank.questions),
        status_code=status_code,
    )


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    flash: Annotated[str | None, Query(max_length=40)] = None,
    workload: bool = False,
):
    work = await _workload(request, session, user, bank, srs) if workload else None
    return _settings_page(request, session, user, bank, now, lang, flash=flash, work=work)


@router.post("/settings", response_class=HTMLResponse)
async def settings_save(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    settings: SettingsDep,
    now: NowDep,
    lang: LangDep,
):
    form = await request.form()
    raw = {k: str(v) for k, v in form.items()}
    try:
        patch = prefs.parse_form(raw)
        prefs.save(session, user.id, patch, settings, now)
    except ValidationError as e:
        return _settings_page(
            request,
            session,
            user,
            bank,
            now,
            lang,
            errors_=range_errors(prefs.PrefsIn, e),
            status_code=422,
        )
    except ValueError as e:
        return _settings_page(
            request,
            session,
            user,
            bank,
            now,
            lang,
            errors_=[{"loc": ["interview_date"], "msg": str(e)}],
            status_code=422,
        )
    return RedirectResponse("/settings?flash=saved", status_code=303)


@router.post("/settings/fit", response_class=HTMLResponse)
async def settings_fit(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    settings: SettingsDep,
    now: NowDep,
    lang: LangDep,
):
    try:
        await _fit(request, session, user, settings, now)
    except fitting.FitUnavailable as e:
        return _settings_page(
            request,
            session,
            user,
            bank,
            now,
            lang,
            errors_=[{"loc": [], "msg": str(e)}],
            status_code=503,
        )
    return RedirectResponse("/settings?flash=fitted#fit", status_code=303)


@router.post("/settings/reset-parameters")
def settings_reset(session: SessionDep, user: UserDep, settings: SettingsDep):
    prefs.reset_parameters(session, user.id, settings)
    return RedirectResponse("/settings?flash=reset#fit", status_code=303)


@router.post("/study/more-new")
async def study_more_new(
    request: Request, session: SessionDep, user: UserDep, settings: SettingsDep, now: NowDep
):
    form = await request.form()
    try:
        m = MoreNewIn.model_validate({"count": str(form.get("count", ""))})
    except ValidationError as e:
        return JSONResponse(status_code=422, content={"detail": range_errors(MoreNewIn, e)})
    prefs.add_extra_new(session, user.id, m.count, settings, now)
    return RedirectResponse("/review", status_code=303)


@router.get("/readiness", response_class=HTMLResponse)
def readiness_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
):
    fc = _forecast(request, session, user, bank, srs, now)
    return render(
        request,
        "readiness.html",
        lang,
        fc=fc,
        p=_prefs(request, session, user),
        topics={t.id: t for t in bank.topics},
        bank=bank,
    )


@router.get("/cards", response_class=HTMLResponse)
def cards_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    leech: bool = False,
    topic: Annotated[str | None, Query(max_length=80)] = None,
):
    p = _prefs(request, session, user)
    rows = card_views.listing(
        session,
        user.id,
        bank=bank,
        drills=_drills(request),
        srs=srs,
        prefs=p,
        now=now,
        leech_only=leech,
        topic=topic or None,
    )
    return render(
        request,
        "cards.html",
        lang,
        rows=rows,
        p=p,
        leech=leech,
        f_topic=topic or "",
        topics=bank.topics,
    )


@router.get("/card/{card_id}", response_class=HTMLResponse)
def card_page(
    request: Request,
    card_id: str,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
):
    p = _prefs(request, session, user)
    v = card_views.card_view(
        session, user.id, card_id, bank=bank, drills=_drills(request), srs=srs, prefs=p, now=now
    )
    if v is None:
        raise HTTPException(404, f"no card {card_id!r}")
    return render(
        request, "card.html", lang, v=v, p=p, topic=bank.topic(v.topic) if v.topic else None
    )


@router.get("/cram", response_class=HTMLResponse)
def cram_start(request: Request, bank: BankDep, lang: LangDep, empty: bool = False):
    tags = sorted({t for q in bank.questions.values() for t in q.tags})
    return render(
        request, "cram_start.html", lang, topics=bank.topics, tags=tags, empty=empty, errors=None
    )


@router.get("/cram/start")
def cram_begin(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    f: CramFilterDep,
):
    if isinstance(f, list):
        tags = sorted({t for q in bank.questions.values() for t in q.tags})
        return render(
            request,
            "cram_start.html",
            lang,
            topics=bank.topics,
            tags=tags,
            empty=False,
            errors=f,
            status_code=422,
        )
    cards = services.cards_by_question(session, user.id)
    ids = cram.pick(bank, cards, srs, _prefs(request, session, user), now, f)
    if not ids:
        return RedirectResponse("/cram?empty=true", status_code=303)
    return RedirectResponse(f"/cram/q?ids={','.join(ids)}&i=0", status_code=303)


CramIds = Annotated[str, Query(max_length=cram.MAX_CRAM * 81, pattern=r"^[a-z0-9,-]+$")]


class CramForm(BaseModel):
    """One cram answer as the page posts it."""

    i: int = Field(ge=0, lt=cram.MAX_CRAM, description="Position in the cram set.")
    again: int = Field(0, ge=0, le=cram.MAX_CRAM, description="Again answers so far.")
    rating: int = Field(ge=1, le=4, description="1 Again, 2 Hard, 3 Good, 4 Easy.")
    duration_ms: int | None = Field(None, ge=0, le=24 * 3600 * 1000)


@router.get("/cram/q", response_class=HTMLResponse)
def cram_question(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    lang: LangDep,
    ids: CramIds,
    i: Annotated[int, Query(ge=0, lt=cram.MAX_CRAM)] = 0,
    again: Annotated[int, Query(ge=0, le=cram.MAX_CRAM)] = 0,
):
    qids = question_ids(bank, ids, cram.MAX_CRAM, "cram set")
    if i >= len(qids):
        return RedirectResponse(f"/cram/done?ids={ids}&again={again}", status_code=303)
    q = bank.questions[qids[i]]
    row = services.cards_by_question(session, user.id).get(q.id)
    return render(
        request,
        "cram.html",
        lang,
        q=q,
        ids=ids,
        i=i,
        n=len(qids),
        again=again,
        topic=bank.topic(q.topic),
        card=row if row is not None and row.reps else None,
        grades=list(Grade),
    )


@router.post("/cram/q")
async def cram_answer(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    now: NowDep,
):
    form = await request.form()
    ids = str(form.get("ids", ""))
    qids = question_ids(bank, ids, cram.MAX_CRAM, "cram set")
    raw = {k: str(form.get(k, "")) for k in ("i", "again", "rating", "duration_ms")}
    # Filled in by JS (time from showing the card to grading); empty without JS.
    try:
        pos = CramForm.model_validate(
            raw | {"again": raw["again"] or "0", "duration_ms": raw["duration_ms"] or None}
        )
    except ValidationError as e:
        return JSONResponse(status_code=422, content={"detail": range_errors(CramForm, e)})
    if pos.i >= len(qids):
        raise HTTPException(422, f"i must be from 0 to {len(qids) - 1} in this cram set")
    cram.record(session, user.id, qids[pos.i], Grade(pos.rating), now, duration_ms=pos.duration_ms)
    again = pos.again + (pos.rating == 1)
    return RedirectResponse(f"/cram/q?ids={ids}&i={pos.i + 1}&again={again}", status_code=303)


@router.get("/cram/done", response_class=HTMLResponse)
def cram_done(
    request: Request,
    bank: BankDep,
    lang: LangDep,
    ids: CramIds,
    again: Annotated[int, Query(ge=0, le=cram.MAX_CRAM)] = 0,
):
    qids = question_ids(bank, ids, cram.MAX_CRAM, "cram set")
    return render(
        request,
        "cram_done.html",
        lang,
        qs=[bank.questions[x] for x in qids],
        again=min(again, len(qids)),
        n=len(qids),
    )

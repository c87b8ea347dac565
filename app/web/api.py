"""JSON API under /api: the same actions as the pages, for scripts and the OpenAPI contract."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import Integer, bindparam, cast
from sqlalchemy import select as sa_select
from sqlmodel import Session, func, select

from app import services
from app.bank.models import Question
from app.demos.runner import DemoFailed, DemoNotFound, RunInfo
from app.models import CardState, ReviewLog, UserPrefs
from app.srs import Grade, Srs, humanize
from app.study import queue as study_queue
from app.study.prefs import Prefs, to_prefs
from app.study.prefs import for_request as study_prefs
from app.study.prefs import srs_for as study_srs_for
from app.web.deps import BankDep, Ctx, CtxDep, NowDep, RunnerDep, SessionDep, UserDep
from app.web.schemas import (
    CardOut,
    HoldIn,
    NextOut,
    ProgressOut,
    QuestionOut,
    QuestionSummary,
    ReviewIn,
    ReviewLogOut,
    ReviewOut,
    TopicOut,
    UndoOut,
    errors,
)
from app.web.security import json_only

router = APIRouter(
    prefix="/api",
    tags=["api"],
    dependencies=[Depends(json_only)],
    responses=errors(400, 401, 403, 413, 415),
)

_STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}
_GRADE_NAMES = {"again": 1, "hard": 2, "good": 3, "easy": 4}


def card_out(question_id: str, row: CardState | None) -> CardOut:
    if row is None:
        return CardOut(
            question_id=question_id,
            state="new",
            due=None,
            stability=None,
            difficulty=None,
            last_review=None,
            reps=0,
            lapses=0,
            suspended=False,
            buried_until=None,
        )
    return CardOut(
        question_id=question_id,
        state="new" if row.reps == 0 else _STATE_NAMES[row.state],  # type: ignore[arg-type]
        due=row.due if row.reps else None,
        stability=row.stability,
        difficulty=row.difficulty,
        last_review=row.last_review,
        reps=row.reps,
        lapses=row.lapses,
        suspended=row.suspended,
        buried_until=row.buried_until,
    )


def summary(q: Question) -> QuestionSummary:
    return QuestionSummary(
        id=q.id,
        topic=q.topic,
        tags=q.tags,
        difficulty=q.difficulty,
        prompt=q.prompt,
        demos=q.demos,
        has_choices=bool(q.choices),
    )


def _question(bank, question_id: str) -> Question:
    q = bank.questions.get(question_id)
    if q is None:
        raise HTTPException(404, f"no question {question_id!r}")
    return q


@router.get("/topics", response_model=list[TopicOut])
def list_topics(session: SessionDep, user: UserDep, bank: BankDep, now: NowDep) -> list[TopicOut]:
    prog = {p.topic_id: p for p in services.progress(session, user.id, bank, now)}
    return [
        TopicOut(
            id=t.id,
            title=t.title,
            total=prog[t.id].total,
            due=prog[t.id].due,
            new=prog[t.id].new,
            seen=prog[t.id].seen,
        )
        for t in bank.topics
    ]


@router.get("/questions", response_model=list[QuestionSummary])
def list_questions(
    bank: BankDep,
    topic: Annotated[list[str] | None, Query(max_length=50)] = None,
    tag: Annotated[list[str] | None, Query(max_length=50)] = None,
    difficulty: Annotated[list[int] | None, Query(max_length=3)] = None,
    soul: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[QuestionSummary]:
    hits = bank.filter(topics=topic, tags=tag, difficulty=difficulty, soul_only=soul, query=q)
    return [summary(x) for x in hits]


@router.get("/questions/{question_id}", response_model=QuestionOut, responses=errors(404))
def get_question(
    question_id: str, session: SessionDep, user: UserDep, bank: BankDep
) -> QuestionOut:
    q = _question(bank, question_id)
    row = services.cards_by_question(session, user.id).get(q.id)
    return QuestionOut(
        **summary(q).model_dump(),
        answer=q.answer,
        explanation=q.explanation,
        key_points=q.key_points,
        choices=q.choices,
        source=q.source,
        card=card_out(q.id, row),
    )


@router.get("/cards/{question_id}", response_model=CardOut, responses=errors(404))
def get_card(question_id: str, session: SessionDep, user: UserDep, bank: BankDep) -> CardOut:
    q = _question(bank, question_id)
    return card_out(q.id, services.cards_by_question(session, user.id).get(q.id))


# The two routes a study session calls on every card: one dependency (Ctx), one thread hop for
# all their database work, and the answer serialised once by pydantic-core (returned as a
# Response, so FastAPI does not validate and encode it again; response_model stays the contract).
@router.get("/next", response_model=NextOut)
def next_due(
    ctx: CtxDep, topic: Annotated[list[str] | None, Query(max_length=50)] = None
) -> Response:
    with Session(ctx.engine, expire_on_commit=False) as session:
        out = _next_out(ctx, session, topic)
    return Response(out.model_dump_json(), media_type="application/json")


_P = UserPrefs.__table__
_PREFS_OF = sa_select(_P).where(_P.c.user_id == bindparam("user_id"))
# Next card's one statement for the member's state: their card version (app/services.py) and
# their prefs row, either of which may be missing, joined to the one row that names the user.
_ME = sa_select(cast(bindparam("user_id"), Integer).label("uid")).subquery("me")
_VERSION_AND_PREFS = {
    dialect: sa_select(
        services.CARD_VERSION.c.version,
        *([func.txid_current_if_assigned()] if dialect == "postgresql" else []),
        *_P.c,
    ).select_from(
        _ME.outerjoin(
            services.CARD_VERSION, services.CARD_VERSION.c.user_id == _ME.c.uid
        ).outerjoin(_P, _P.c.user_id == _ME.c.uid)
    )
    for dialect in ("sqlite", "postgresql")
}
_prefs_by_row: dict[tuple[Any, ...], Prefs] = {}
PREFS_CACHE_SIZE = 4096


def _member_prefs(ctx: Ctx, session: Session, raw: Any = _PREFS_OF) -> Prefs:
    """The member's prefs, as app/study/prefs.py's ``load`` makes them, for the two hot routes.
    The row is read on every request (another worker may have just changed it), by a prebuilt
    Core select, or passed as ``raw``: its values as another statement read them (None: no row).
    Turning it into Prefs (time zone check, weights and fit report parsed, a pydantic model) is
    done once per distinct stored row and server default, then shared: Prefs is frozen. Cached
    on the request as ``for_request`` does, for the queue code."""
    if raw is _PREFS_OF:
        raw = session.connection().execute(_PREFS_OF, {"user_id": ctx.user_id}).first()
    s = ctx.settings
    key = (None if raw is None else tuple(raw), ctx.user_id, s.new_per_day, s.desired_retention)
    prefs = _prefs_by_row.get(key)
    if prefs is None:
        row = None if raw is None else UserPrefs(**dict(zip(_P.c.keys(), raw, strict=True)))
        prefs = to_prefs(row, s)
        if len(_prefs_by_row) >= PREFS_CACHE_SIZE:
            _prefs_by_row.clear()
        _prefs_by_row[key] = prefs
    ctx.request.state.study_prefs = (ctx.user_id, prefs)
    return prefs


def _next_out(ctx: Ctx, session: Session, topic: list[str] | None) -> NextOut:
    request, user_id, bank, now = ctx.request, ctx.user_id, ctx.bank, ctx.now
    version, raw = _version_and_prefs(session, user_id)
    srs = study_srs_for(request.app.state, _member_prefs(ctx, session, raw))
    pool = bank.filter(topics=topic) if topic else None
    # One read of the cards and of today's new-card count serves both questions. The member's
    # own day, new-card allowance and interview plan (app/study/queue.py) shape both.
    day = study_queue.for_page(request, session, user_id, bank, srs, now, version=version)
    item = services.next_card(session, user_id, bank, now, questions=pool, **day.next_card_kwargs())
    due, new_left = services.queue_counts(
        session,
        user_id,
        bank,
        now,
        new_per_day=day.new_per_day,
        cards=day.cards,
        new_today=day.new_today,
        since=day.since,
    )
    if item is None:
        return NextOut(question=None, is_new=False, due_count=due, new_left_today=new_left)
    intervals = _card_intervals(srs, item.card, now)
    return NextOut(
        question=summary(item.question),
        is_new=item.card is None or item.card.reps == 0,
        due_count=due,
        new_left_today=new_left,
        intervals=intervals,
    )


def _version_and_prefs(session: Session, user_id: int) -> tuple[int | None, Any]:
    """The user's card version (as ``services.cards_by_question`` takes it) and prefs row (None
    for none), in one statement where the dialect has one."""
    conn = session.connection()
    stmt = _VERSION_AND_PREFS.get(conn.dialect.name)
    if stmt is None:
        return None, conn.execute(_PREFS_OF, {"user_id": user_id}).first()
    row = conn.execute(stmt, {"user_id": user_id}).one()
    pg = conn.dialect.name == "postgresql"
    version = services.card_version_of(session, row[0], row[1] if pg else None)
    prefs = row[2:] if pg else row[1:]
    return version, (None if prefs[0] is None else prefs)  # prefs[0]: user_prefs.user_id


_intervals: WeakKeyDictionary[Srs, dict[tuple[Any, ...] | None, dict[str, str]]] = (
    WeakKeyDictionary()
)
INTERVALS_SIZE = 4096


def _card_intervals(srs: Srs, card: services.AnyCard | None, now: datetime) -> dict[str, str]:
    """A card's grade-button intervals, four FSRS reviews once per scheduler and key, not per
    request. A new card's are the scheduler's learning steps and first stabilities, the same at
    any moment (a new card is due now; previews are unfuzzed): key None. FSRS
    (fsrs/scheduler.py, ``review_card``) reads a seen card's review time only as whole days since
    its last review and returns ``due = time + interval``: so its intervals are a function of
    its state, step, stability, difficulty and those days."""
    key: tuple[Any, ...] | None = None
    if card is not None and card.reps:
        days = (now - card.last_review).days if card.last_review is not None else None
        key = (card.state, card.step, card.stability, card.difficulty, days)
    per_srs = _intervals.get(srs)
    if per_srs is None:
        per_srs = _intervals.setdefault(srs, {})
    got = per_srs.get(key)
    if got is None:
        preview = srs.preview(services.snapshot(card) if key is not None else None, now)
        got = {g.name: humanize(d) for g, d in preview.items()}
        if len(per_srs) >= INTERVALS_SIZE:
            per_srs.clear()
        per_srs[key] = got
    return dict(got)


@router.post("/reviews", response_model=ReviewOut, status_code=201, responses=errors(404, 503))
def submit_review(body: ReviewIn, ctx: CtxDep) -> Response:
    grade = Grade(_GRADE_NAMES.get(body.rating, body.rating))  # type: ignore[arg-type]
    request, user_id = ctx.request, ctx.user_id
    with Session(ctx.engine, expire_on_commit=False) as session:
        srs = study_srs_for(request.app.state, _member_prefs(ctx, session))
        try:
            row, log = services.submit_review(
                session,
                user_id,
                body.question_id,
                grade,
                ctx.now,
                srs,
                bank=ctx.bank,
                duration_ms=body.duration_ms,
            )
        except services.NotFound:
            raise HTTPException(404, f"no question {body.question_id!r}") from None
        except services.ConcurrentUpdate as e:
            raise HTTPException(503, str(e), headers={"Retry-After": "1"}) from None
    out = ReviewOut(
        review_id=log.id,
        question_id=log.question_id,
        rating=log.rating,
        reviewed_at=log.reviewed_at,
        card=card_out(row.question_id, row),
    )
    return Response(out.model_dump_json(), status_code=201, media_type="application/json")


def _log_out(log: ReviewLog) -> ReviewLogOut:
    return ReviewLogOut(
        id=log.id,
        question_id=log.question_id,
        rating=log.rating,
        reviewed_at=log.reviewed_at,
        duration_ms=log.duration_ms,
        due_after=log.due_after,
    )


@router.get("/reviews", response_model=list[ReviewLogOut])
def list_reviews(
    session: SessionDep,
    user: UserDep,
    question_id: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReviewLogOut]:
    """The caller's own review history, newest first."""
    stmt = select(ReviewLog).where(ReviewLog.user_id == user.id)
    if question_id:
        stmt = stmt.where(ReviewLog.question_id == question_id)
    rows = session.exec(stmt.order_by(ReviewLog.id.desc()).limit(limit)).all()  # type: ignore[union-attr]
    return [_log_out(r) for r in rows]


@router.get("/reviews/{review_id}", response_model=ReviewLogOut, responses=errors(404))
def get_review(
    # Bounded to a 32-bit id: a larger number cannot name a row and overflows PostgreSQL's integer.
    review_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    user: UserDep,
) -> ReviewLogOut:
    log = session.get(ReviewLog, review_id)
    if log is None or log.user_id != user.id:
        raise HTTPException(404, "no such review")  # another member's review does not exist for you
    return _log_out(log)


@router.post("/undo", response_model=UndoOut)
def undo(session: SessionDep, user: UserDep) -> UndoOut:
    last = services.undo_last(session, user.id)
    if last is None:
        return UndoOut(undone=False)
    row = services.cards_by_question(session, user.id).get(last.question_id)
    return UndoOut(undone=True, question_id=last.question_id, card=card_out(last.question_id, row))


@router.post("/cards/{question_id}/hold", response_model=CardOut, responses=errors(404))
def hold(
    request: Request,
    question_id: str,
    body: HoldIn,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    now: NowDep,
) -> CardOut:
    q = _question(bank, question_id)
    if body.action == "bury":
        p = study_prefs(request, session, user.id)
        until = services.tomorrow(now, p.timezone, p.day_start_hour)
        row = services.set_hold(session, user.id, q.id, bury_until=until, now=now)
    else:
        row = services.set_hold(session, user.id, q.id, suspend=body.action == "suspend", now=now)
    return card_out(q.id, row)


@router.get("/progress", response_model=ProgressOut)
def get_progress(session: SessionDep, user: UserDep, bank: BankDep, now: NowDep) -> ProgressOut:
    topics = list_topics(session, user, bank, now)
    reviews = session.exec(
        select(func.count()).select_from(ReviewLog).where(ReviewLog.user_id == user.id)
    ).one()
    return ProgressOut(
        total=sum(t.total for t in topics),
        seen=sum(t.seen for t in topics),
        due=sum(t.due for t in topics),
        new=sum(t.new for t in topics),
        reviews=reviews,
        topics=topics,
    )


# ---- demos ---------------------------------------------------------------------------------


@router.get("/demos")
def list_demos(runner: RunnerDep) -> list[dict[str, Any]]:
    """Every demo with its parameter JSON schema (defaults, bounds, descriptions)."""
    from app.demos import REGISTRY

    return [
        {
            "id": d.id,
            "title": d.title.model_dump(),
            "description": d.description.model_dump(),
            "serves": list(d.serves),
            "streams": d.streams,
            "params_schema": d.params.model_json_schema(),
        }
        for d in REGISTRY.values()
    ]


def param_errors(model, err: ValidationError) -> list[dict[str, Any]]:
    """pydantic errors, each with the allowed range or values spelled out."""
    schema = model.model_json_schema().get("properties", {})
    out = []
    for e in err.errors(include_url=False):
        field = str(e["loc"][0]) if e["loc"] else ""
        prop = schema.get(field, {})
        allowed = None
        if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & prop.keys():
            lo = (
                f"> {prop['exclusiveMinimum']}"
                if "exclusiveMinimum" in prop
                else str(prop.get("minimum", "-inf"))
            )
            hi = (
                f"< {prop['exclusiveMaximum']}"
                if "exclusiveMaximum" in prop
                else str(prop.get("maximum", "inf"))
            )
            allowed = f"{lo} to {hi}"
        elif "enum" in prop:
            allowed = " | ".join(map(str, prop["enum"]))
        msg = f"{e['msg']}; allowed {field}: {allowed}" if allowed else e["msg"]
        out.append({"loc": ["body", *e["loc"]], "msg": msg, "type": e["type"], "allowed": allowed})
    return out


@router.post("/demos/{demo_id}", response_model=RunInfo, responses=errors(404, 503))
async def run_demo(
    demo_id: str,
    runner: RunnerDep,
    params: Annotated[dict[str, Any] | None, Body()] = None,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    try:
        demo = runner.demo(demo_id)
    except DemoNotFound:
        raise HTTPException(404, f"no demo {demo_id!r}") from None
    try:
        p = demo.params.model_validate(params or {})
    except ValidationError as e:
        return JSONResponse(status_code=422, content={"detail": param_errors(demo.params, e)})
    try:
        info = await runner.run(demo_id, p, seed)
    except DemoFailed as e:
        raise demo_unavailable(e) from None
    # Serialised once by pydantic-core: the declared response_model would validate the whole
    # result (heatmaps, series) a second time, most of a cached hit's cost.
    return Response(info.model_dump_json(), media_type="application/json")


@router.post(
    "/demos/{demo_id}/stream",
    responses=errors(404)
    | {
        200: {
            "description": "NDJSON: {progress} lines, then {result} or {error}",
            "content": {"application/x-ndjson": {}},
        }
    },
)
async def run_demo_stream(
    demo_id: str,
    runner: RunnerDep,
    params: Annotated[dict[str, Any] | None, Body()] = None,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """The same run, streamed as it goes: one JSON object a line, ``{"progress": {"done", "total",
    ...}}`` while a long demo (``streams`` in /api/demos) computes, then ``{"result": RunInfo}`` or
    ``{"error": message}``."""
    try:
        demo = runner.demo(demo_id)
    except DemoNotFound:
        raise HTTPException(404, f"no demo {demo_id!r}") from None
    try:
        p = demo.params.model_validate(params or {})
    except ValidationError as e:
        return JSONResponse(status_code=422, content={"detail": param_errors(demo.params, e)})

    async def lines():
        try:
            async for item in runner.run_stream(demo_id, p, seed):
                if isinstance(item, RunInfo):
                    yield '{"result": ' + item.model_dump_json() + "}\n"
                else:
                    yield json.dumps({"progress": item}) + "\n"
        except DemoFailed as e:
            yield json.dumps({"error": str(e)}) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def demo_unavailable(e: DemoFailed) -> HTTPException:
    """503 for a job the pool could not finish, with Retry-After when waiting can help."""
    headers = {"Retry-After": str(e.retry_after_s)} if e.retry_after_s else None
    return HTTPException(503, f"demo: {e}", headers=headers)

"""Coding drills: the list, a drill's page (statement, editor, visible tests, hints, results) and
the JSON API. Running code happens in the compute pool's sandbox, never here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from app.drills import service
from app.drills.harness import CaseName
from app.drills.models import Drill
from app.render import render_markdown
from app.web.deps import BankDep, LangDep, NowDep, SessionDep, SettingsDep, SrsDep, UserDep
from app.web.pages import render
from app.web.schemas import errors
from app.web.security import csrf_protect, json_only

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
api = APIRouter(
    prefix="/api",
    tags=["drills"],
    dependencies=[Depends(json_only)],
    responses=errors(400, 401, 403),
)


async def get_drills(request: Request) -> dict[str, Drill]:
    return request.app.state.drills


DrillsDep = Annotated[dict[str, Drill], Depends(get_drills)]


def _drill(drills: dict[str, Drill], drill_id: str) -> Drill:
    try:
        return drills[drill_id]
    except KeyError:
        raise HTTPException(404, f"no drill {drill_id!r}") from None


def _enabled(settings) -> None:
    if not settings.drills_enabled:
        raise HTTPException(403, "drills are turned off on this server")


# ---- API ---------------------------------------------------------------------------------------
class DrillSummary(BaseModel):
    id: str
    title: dict[str, str]
    topic: str
    difficulty: int
    questions: list[str]


class CaseView(CaseName):
    visible: bool
    source: str | None


class DrillDetail(DrillSummary):
    entry: str
    statement: dict[str, str]
    starter: str
    hints: dict[str, list[str]]
    source: list[str]
    time_limit_s: float
    cases: list[CaseView]
    reference: str | None = None  # only once the learner has made an attempt
    attempts: list[service.AttemptOut]


def _summary(d: Drill) -> dict:
    return dict(
        id=d.id,
        title=d.title.model_dump(),
        topic=d.topic,
        difficulty=d.difficulty,
        questions=d.questions,
    )


@api.get("/drills", response_model=list[DrillSummary])
async def api_list(drills: DrillsDep) -> list[DrillSummary]:
    return [DrillSummary(**_summary(d)) for d in drills.values()]


@api.get("/drills/{drill_id}", response_model=DrillDetail, responses=errors(404))
def api_drill(drill_id: str, drills: DrillsDep, session: SessionDep, user: UserDep) -> DrillDetail:
    d = _drill(drills, drill_id)
    attempts = service.history(session, user.id, d.id)
    return DrillDetail(
        **_summary(d),
        entry=d.entry,
        statement=d.statement.model_dump(),
        starter=d.starter,
        hints=d.hints.model_dump(),
        source=d.source,
        time_limit_s=d.time_limit_s,
        cases=[CaseView.model_validate(c, from_attributes=True) for c in d.visible_cases]
        + [
            CaseView(name=c.name, name_zh=c.name_zh, visible=False, source=None)
            for c in d.cases
            if not c.visible
        ],
        reference=d.reference if attempts else None,
        attempts=[service.AttemptOut.model_validate(a, from_attributes=True) for a in attempts],
    )


@api.post("/drills/{drill_id}/submit", response_model=service.RunOut, responses=errors(404, 503))
async def api_submit(
    drill_id: str,
    body: service.Submission,
    request: Request,
    drills: DrillsDep,
    session: SessionDep,
    user: UserDep,
    now: NowDep,
    srs: SrsDep,
    bank: BankDep,
    settings: SettingsDep,
) -> service.RunOut:
    _enabled(settings)
    d = _drill(drills, drill_id)
    try:
        return await service.submit(
            session, user.id, d, body, now, request.app.state.pool, srs, bank
        )
    except service.PoolBusy as e:
        raise HTTPException(503, str(e), headers={"Retry-After": str(e.retry_after_s)}) from None


@api.post("/drills/{drill_id}/give-up", response_model=service.AttemptOut, responses=errors(404))
def api_give_up(
    drill_id: str,
    drills: DrillsDep,
    session: SessionDep,
    user: UserDep,
    now: NowDep,
    srs: SrsDep,
    bank: BankDep,
) -> service.AttemptOut:
    return service.give_up(session, user.id, _drill(drills, drill_id), now, srs, bank)


# ---- pages -------------------------------------------------------------------------------------
@router.get("/drills", response_class=HTMLResponse)
def drill_list(
    request: Request, drills: DrillsDep, session: SessionDep, user: UserDep, lang: LangDep
):
    best: dict[str, str] = {}
    for a in service.history(session, user.id):
        if best.get(a.drill_id) != "passed":
            best[a.drill_id] = "passed" if a.verdict == "passed" else "tried"
    return render(request, "drills.html", lang, drills=list(drills.values()), best=best)


@router.get("/drills/{drill_id}", response_class=HTMLResponse)
def drill_page(
    request: Request,
    drill_id: str,
    drills: DrillsDep,
    session: SessionDep,
    user: UserDep,
    lang: LangDep,
    bank: BankDep,
    settings: SettingsDep,
    attempt: Annotated[int | None, Query(ge=1, le=2**53)] = None,
):
    d = _drill(drills, drill_id)
    attempts = service.history(session, user.id, d.id)
    shown = service.attempt_of(session, user.id, attempt) if attempt else None
    run = service.details_of(shown, d) if shown else None
    return render(
        request,
        "drill.html",
        lang,
        drill=d,
        attempts=attempts,
        shown=shown,
        run=run,
        code=(
            shown.code
            if shown and shown.code
            else (attempts[0].code if attempts and attempts[0].code else d.starter)
        ),
        statement=render_markdown(d.statement.get(lang)),
        questions=[bank.questions[q] for q in d.questions if q in bank.questions],
        enabled=settings.drills_enabled,
    )


@router.post("/drills/{drill_id}/submit")
async def drill_submit(
    request: Request,
    drill_id: str,
    drills: DrillsDep,
    session: SessionDep,
    user: UserDep,
    now: NowDep,
    srs: SrsDep,
    bank: BankDep,
    settings: SettingsDep,
    code: Annotated[str, Form()] = "",
    hints_used: Annotated[str, Form()] = "0",
):
    _enabled(settings)
    d = _drill(drills, drill_id)
    try:
        sub = service.Submission.model_validate({"code": code, "hints_used": hints_used})
    except ValidationError as e:
        raise HTTPException(422, "; ".join(err["msg"] for err in e.errors())) from None
    try:
        run = await service.submit(session, user.id, d, sub, now, request.app.state.pool, srs, bank)
    except service.PoolBusy as e:
        raise HTTPException(503, str(e), headers={"Retry-After": str(e.retry_after_s)}) from None
    return RedirectResponse(f"/drills/{d.id}?attempt={run.attempt.id}#result", status_code=303)


@router.post("/drills/{drill_id}/give-up")
def drill_give_up(
    drill_id: str,
    drills: DrillsDep,
    session: SessionDep,
    user: UserDep,
    now: NowDep,
    srs: SrsDep,
    bank: BankDep,
):
    d = _drill(drills, drill_id)
    a = service.give_up(session, user.id, d, now, srs, bank)
    return RedirectResponse(f"/drills/{d.id}?attempt={a.id}#reference", status_code=303)

"""Server-rendered pages. Every action is a plain link or form (works without JS); htmx and a
little JS make it faster and add the keyboard."""

from __future__ import annotations

import inspect
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from pydantic import ValidationError

from app import services
from app.bank.models import Lang, Question
from app.config import REPO_ROOT
from app.demos import Demo
from app.demos.runner import DemoFailed, DemoNotFound
from app.drills import service as drill_service
from app.render import render_markdown
from app.search import tag_groups
from app.srs import Grade, humanize
from app.study import queue as study_queue
from app.study.prefs import for_request as study_prefs
from app.web.api import card_out, param_errors
from app.web.deps import (
    BankDep,
    LangDep,
    NowDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
    SrsDep,
    UserDep,
)
from app.web.errors import localize
from app.web.i18n import gettext_callables, translator
from app.web.schemas import ChoiceForm, GradeForm
from app.web.security import CSRF_FIELD, csrf_input, csrf_protect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
templates = Jinja2Templates(directory=REPO_ROOT / "templates")
# {% trans %} and _() in templates; the gettext functions come with each render, in its language.
templates.env.add_extension("jinja2.ext.i18n")


@pass_context
def _finalize(context, value: Any) -> Any:
    # A True or False a page prints (a demo's scalar or table cell) is a word of the reader's
    # language, not Python's repr.
    if isinstance(value, bool) and "t" in context:
        return context["t"]("bool_true" if value else "bool_false")
    return value


templates.env.finalize = _finalize
templates.env.filters["md"] = render_markdown


def _inline_markdown(text: str) -> Markup:
    """A one-paragraph text (a prompt) as inline HTML: `code` and $math$ typeset, no <p>, so
    it can sit in a heading or a link."""
    html = str(render_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)  # noqa: S704 (render_markdown sanitised it)


templates.env.filters["mdi"] = _inline_markdown
templates.env.globals["csrf_input"] = csrf_input


def render(request: Request, name: str, lang: Lang, status_code: int = 200, **ctx: Any):
    ctx.update(gettext_callables(lang))
    ctx.update(lang=lang, t=translator(lang), path=request.url.path, query=request.url.query)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _safe_next(url: str | None, default: str = "/") -> str:
    # Only same-site relative paths: never an open redirect.
    if not url or not url.startswith("/") or url.startswith("//"):
        return default
    return url


@router.get("/lang/{lang}")
def set_lang(lang: Lang, next: str | None = None) -> RedirectResponse:
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return resp


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    settings: SettingsDep,
    lang: LangDep,
):
    bank.warm_search()  # the page has a search box
    prog = {p.topic_id: p for p in services.progress(session, user.id, bank, now)}
    day = study_queue.for_page(request, session, user.id, bank, srs, now)
    due, new_left = services.queue_counts(
        session,
        user.id,
        bank,
        now,
        new_per_day=day.new_per_day,
        cards=day.cards,
        new_today=day.new_today,
        since=day.since,
    )
    soul = sorted(
        (q for q in bank.questions.values() if q.is_soul), key=lambda q: (q.soul_number or 99, q.id)
    )
    return render(
        request,
        "home.html",
        lang,
        topics=bank.topics,
        prog=prog,
        due=due,
        new_left=new_left,
        total=len(bank.questions),
        soul=soul,
    )


@router.get("/questions", response_class=HTMLResponse)
def question_list(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    lang: LangDep,
    topic: Annotated[list[str] | None, Query()] = None,
    # Text, not int: the form's "any" option sends an empty value, which is no filter.
    difficulty: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    soul: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
):
    bank.warm_search()
    topic = [t for t in (topic or []) if t]
    tag = [t for t in (tag or []) if t]
    difficulty = [int(d) for d in (difficulty or []) if d in ("1", "2", "3")]
    hits = bank.filter(topics=topic, tags=tag, difficulty=difficulty, soul_only=soul, query=q)
    if soul:
        hits.sort(key=lambda x: (x.soul_number or 99, x.id))
    cards = services.cards_by_question(session, user.id)
    title = None
    if len(topic) == 1 and bank.topic(topic[0]):
        title = bank.topic(topic[0]).title.get(lang)
    return render(
        request,
        "questions.html",
        lang,
        questions=hits,
        bank=bank,
        cards={k: card_out(k, v) for k, v in cards.items()},
        f_topic=topic,
        f_difficulty=difficulty or [],
        f_soul=soul,
        f_tag=tag,
        tag_groups=tag_groups(bank.questions.values(), [tp.id for tp in bank.topics]),
        f_q=q or "",
        title=title,
    )


@router.get("/topics/{topic_id}")
def topic_page(topic_id: str, bank: BankDep) -> RedirectResponse:
    if not bank.topic(topic_id):
        raise HTTPException(404, f"no topic {topic_id!r}")
    return RedirectResponse(f"/questions?topic={quote(topic_id)}", status_code=307)


def _question_page(
    request: Request,
    q: Question,
    *,
    session,
    user,
    bank,
    srs,
    now,
    lang: Lang,
    mode: str,
    next_url: str,
    feedback: dict | None = None,
    flash: str | None = None,
    status_code: int = 200,
    typed: str | None = None,
    counts: study_queue.QueueOut | None = None,
):
    row = services.cards_by_question(session, user.id).get(q.id)
    snap = services.snapshot(row) if row is not None and row.reps else None
    intervals = {g.name: humanize(d) for g, d in srs.preview(snap, now).items()}
    demos = [request.app.state.demos.demo(d) for d in q.demos]
    return render(
        request,
        "question.html",
        lang,
        q=q,
        topic=bank.topic(q.topic),
        card=card_out(q.id, row),
        intervals=intervals,
        grades=list(Grade),
        demos=demos,
        drills=[d for d in request.app.state.drills.values() if q.id in d.questions],
        mode=mode,
        next_url=next_url,
        feedback=feedback,
        flash=flash,
        status_code=status_code,
        typed=typed,
        counts=counts,
    )


@router.get("/q/{question_id}", response_class=HTMLResponse)
def question_page(
    request: Request,
    question_id: str,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    next: str | None = None,
    typed: Annotated[str | None, Query(max_length=4000)] = None,
    flash: str | None = None,
    picked: Annotated[str | None, Query(max_length=300, pattern=r"^[0-9.]*$")] = None,
):
    """A question; with ``picked`` (where "Check" redirects: the options ticked, joined by
    "."), the multiple-choice feedback, so that the result can be reloaded or bookmarked."""
    q = bank.questions.get(question_id)
    if q is None:
        raise HTTPException(404, f"no question {question_id!r}")
    feedback = None
    if picked is not None and q.choices:
        chosen = {int(v) for v in picked.split(".") if v} & set(range(len(q.choices)))
        right = {i for i, c in enumerate(q.choices) if c.correct}
        feedback = {"picked": chosen, "correct": chosen == right}
    return _question_page(
        request,
        q,
        session=session,
        user=user,
        bank=bank,
        srs=srs,
        now=now,
        lang=lang,
        mode="browse",
        next_url=_safe_next(next, f"/q/{q.id}"),
        typed=typed,
        flash=flash,
        feedback=feedback,
    )


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    settings: SettingsDep,
    topic: Annotated[list[str] | None, Query()] = None,
    flash: str | None = None,
):
    topic = [t for t in (topic or []) if t]
    pool = bank.filter(topics=topic) if topic else None
    day = study_queue.for_page(request, session, user.id, bank, srs, now)
    item = services.next_card(session, user.id, bank, now, questions=pool, **day.next_card_kwargs())
    with_drills = settings.review_drills and settings.drills_enabled and not topic
    ids = [x.id for x in pool] if pool is not None else list(bank.questions)
    ids += [drill_service.card_id(d) for d in request.app.state.drills] if with_drills else []
    counts = study_queue.queue_out(day, day.counts(session, user.id, ids, now), now)
    if with_drills:
        # Drills are cards too: a due drill takes its turn by due time, on its own page.
        drill = drill_service.most_overdue(session, user.id, list(request.app.state.drills), now)
        if drill and (item is None or item.card is None or drill[1] <= item.card.due):
            return RedirectResponse(f"/drills/{drill[0]}?from=review", status_code=303)
    here = "/review" + (f"?{request.url.query}" if request.url.query else "")
    if item is None:
        due = counts.learning_due + counts.review_due
        return render(
            request,
            "done.html",
            lang,
            due=due,
            new_left=counts.new_left,
            flash=flash,
            counts=counts,
        )
    return _question_page(
        request,
        item.question,
        session=session,
        user=user,
        bank=bank,
        srs=srs,
        now=now,
        lang=lang,
        mode="review",
        next_url=_without_flash(here),
        flash=flash,
        counts=counts,
    )


@router.post("/q/{question_id}/grade")
def grade(
    question_id: str,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    form: Annotated[GradeForm, Form()],
) -> RedirectResponse:
    try:
        services.submit_review(
            session,
            user.id,
            question_id,
            Grade(form.rating),
            now,
            srs,
            bank=bank,
            duration_ms=form.duration_ms,
        )
    except services.NotFound:
        raise HTTPException(404, f"no question {question_id!r}") from None
    return _redirect_with_flash(form.next, "graded")


def _without_flash(url: str) -> str:
    path, _, query = url.partition("?")
    kept = [kv for kv in query.split("&") if kv and not kv.startswith("flash=")]
    return path + ("?" + "&".join(kept) if kept else "")


def _redirect_with_flash(next_url: str | None, flash: str, default: str = "/review"):
    dest = _without_flash(_safe_next(next_url, default))
    sep = "&" if "?" in dest else "?"
    return RedirectResponse(f"{dest}{sep}flash={flash}", status_code=303)


@router.post("/undo")
def undo(
    session: SessionDep, user: UserDep, next: Annotated[str | None, Form()] = None
) -> RedirectResponse:
    services.undo_last(session, user.id)
    return _redirect_with_flash(next, "undone")


@router.post("/q/{question_id}/hold")
def hold(
    request: Request,
    question_id: str,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    now: NowDep,
    action: Annotated[Literal["bury", "suspend", "unsuspend"], Form()],
    next: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    if question_id not in bank.questions:
        raise HTTPException(404, f"no question {question_id!r}")
    if action == "bury":
        p = study_prefs(request, session, user.id)
        until = services.tomorrow(now, p.timezone, p.day_start_hour)
        services.set_hold(session, user.id, question_id, bury_until=until, now=now)
    else:
        services.set_hold(session, user.id, question_id, suspend=action == "suspend", now=now)
    flash = {"bury": "buried", "suspend": "suspended", "unsuspend": "unsuspended"}[action]
    return _redirect_with_flash(next, flash)


@router.post("/q/{question_id}/choose")
async def choose(request: Request, question_id: str, bank: BankDep) -> RedirectResponse:
    """ "Check" on a question's multiple choice: records nothing, so it redirects to the GET page
    that shows the feedback (Post/Redirect/Get: a reload never meets a POST-only address)."""
    q = bank.questions.get(question_id)
    if q is None:
        raise HTTPException(404, f"no question {question_id!r}")
    form = ChoiceForm.parse(await request.form())
    picked = ".".join(str(k) for k in sorted(set(form.choice)))
    query = {"picked": picked}
    if form.next and _safe_next(form.next, "") and form.next != f"/q/{q.id}":
        query["next"] = _safe_next(form.next)
    return RedirectResponse(f"/q/{q.id}?{urlencode(query)}#choices", status_code=303)


@router.get("/q/{question_id}/choose")
def choose_reload(question_id: str) -> RedirectResponse:
    # An address left in the history by an older page: show the question.
    return RedirectResponse(f"/q/{quote(question_id)}", status_code=303)


# ---- demos ---------------------------------------------------------------------------------


def _form_fields(params_model) -> list[dict[str, Any]]:
    """Describe a params model as HTML inputs (type, bounds, step, default, choices)."""
    schema = params_model.model_json_schema()
    fields = []
    for name, prop in schema.get("properties", {}).items():
        f: dict[str, Any] = {
            "name": name,
            "default": prop.get("default"),
            "description": prop.get("description", ""),
            "title": prop.get("title", name),
        }
        if "enum" in prop:
            f.update(kind="select", options=prop["enum"])
        elif prop.get("type") == "boolean":
            f.update(kind="checkbox")
        elif prop.get("type") in ("integer", "number"):
            f.update(
                kind="number",
                min=prop.get("minimum"),
                max=prop.get("maximum"),
                # Strict bounds (gt/lt) cannot be min/max attributes; the hint still says them.
                xmin=prop.get("exclusiveMinimum"),
                xmax=prop.get("exclusiveMaximum"),
                step=1 if prop["type"] == "integer" else "any",
            )
        else:
            f.update(kind="text", pattern=prop.get("pattern"), maxlength=prop.get("maxLength"))
        fields.append(f)
    return fields


@pass_context
def _localized_form_fields(context, params_model) -> list[dict[str, Any]]:
    # The parameter descriptions are messages of the catalogs (app/web/i18n_demos.py).
    translate = context.get("t") or (lambda s: s)
    fields = _form_fields(params_model)
    for f in fields:
        f["description"] = translate(f["description"]) if f["description"] else ""
    return fields


templates.env.globals["demo_fields"] = _localized_form_fields


def _questions_for_demo(bank, demo_id: str) -> list[Question]:
    return [q for q in bank.questions.values() if demo_id in q.demos]


def _demo_source(demo: Demo) -> dict[str, str] | None:
    """The demo module's own code for "view the code", read from its file on each request. Reading
    the text imports nothing: the web process stays free of torch."""
    try:
        path = Path(inspect.getsourcefile(demo.run) or "")
        text = path.read_text(encoding="utf-8")
    except (OSError, TypeError):
        return None
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else Path(path.name)
    return {"path": shown.as_posix(), "text": text}


@router.get("/demos", response_class=HTMLResponse)
def demo_list(request: Request, runner: RunnerDep, bank: BankDep, lang: LangDep):
    return render(request, "demos.html", lang, demos=runner.all(), bank=bank)


async def _run_demo(demo, runner, data, lang: Lang):
    """Validate ``data`` (form or query: the last value of each name wins, as a checkbox sends a
    hidden "false" and then "true") and run: (run, errors, status)."""
    raw = {k: data.getlist(k)[-1] for k in data if k not in ("seed", CSRF_FIELD)}
    try:
        seed = int(str(data.get("seed") or 0))
        if not 0 <= seed < 2**31:
            raise ValueError
    except ValueError:
        errors = [{"loc": ["seed"], "type": "int_parsing", "allowed": "0 to 2147483647"}]
        return None, localize(errors, lang), 422
    try:
        p = demo.params.model_validate(raw)
        return await runner.run(demo.id, p, seed), None, 200
    except ValidationError as e:
        # In the reader's language, with the allowed range (the API keeps pydantic's words).
        return None, localize(param_errors(demo.params, e), lang), 422
    except DemoFailed as e:
        return None, [{"loc": [], "msg": str(e)}], 503


@router.get("/demos/{demo_id}", response_class=HTMLResponse)
async def demo_page(
    request: Request, demo_id: str, runner: RunnerDep, bank: BankDep, lang: LangDep
):
    """The demo; with parameters in the address (where a run without JavaScript redirects), the
    run's result too, so that it can be reloaded and bookmarked."""
    try:
        demo = runner.demo(demo_id)
    except DemoNotFound:
        raise HTTPException(404, f"no demo {demo_id!r}") from None
    run = errors = None
    status = 200
    if request.query_params:
        run, errors, status = await _run_demo(demo, runner, request.query_params, lang)
    return render(
        request,
        "demo.html",
        lang,
        demo=demo,
        run=run,
        errors=errors,
        questions=_questions_for_demo(bank, demo_id),
        source=_demo_source(demo),
        status_code=status,
    )


@router.post("/demos/{demo_id}/run", response_class=HTMLResponse)
async def demo_run(request: Request, demo_id: str, runner: RunnerDep, bank: BankDep, lang: LangDep):
    """htmx (the page's "Show me"): the result alone, swapped in place. A plain form post (no
    JavaScript): a redirect to the demo's page with the parameters in its address."""
    try:
        demo = runner.demo(demo_id)
    except DemoNotFound:
        raise HTTPException(404, f"no demo {demo_id!r}") from None
    form = await request.form()
    if request.headers.get("hx-request") != "true":
        pairs = [(k, str(form.getlist(k)[-1])) for k in form if k != CSRF_FIELD]
        return RedirectResponse(f"/demos/{quote(demo_id)}?{urlencode(pairs)}", status_code=303)
    run, errors, status = await _run_demo(demo, runner, form, lang)
    return render(
        request,
        "_demo_result.html",
        lang,
        demo=demo,
        run=run,
        errors=errors,
        status_code=status,
    )


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> FileResponse:
    # Served from the root, not /static, so that its scope is the whole site (the offline page).
    return FileResponse(
        REPO_ROOT / "static" / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


def fmt_dt(dt: datetime | None, lang: Lang) -> str:
    return "" if dt is None else dt.strftime("%Y-%m-%d %H:%M UTC")


templates.env.globals["fmt_dt"] = fmt_dt

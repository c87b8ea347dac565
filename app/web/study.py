"""Study modes beyond the review queue: multiple-choice quiz, timed mock interview, statistics,
and progress export/import. Stateless between requests: a quiz or interview lives in its URL
and forms (question ids, position, answers), so nothing is stored until a grade is recorded."""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import tempfile
import zlib
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import AwareDatetime, BaseModel, Field
from starlette.background import BackgroundTask

from app import exchange, quiz, services, stats
from app.drills.service import CARD_PREFIX
from app.srs import Grade
from app.web.deps import BankDep, LangDep, NowDep, SessionDep, SettingsDep, SrsDep, UserDep
from app.web.i18n import translator
from app.web.pages import render
from app.web.schemas import (
    ChoiceIndex,
    Index,
    MockGradeForm,
    MockStepForm,
    PageForm,
    QuestionIds,
    errors,
)
from app.web.security import csrf_protect, json_only

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
api = APIRouter(
    prefix="/api", tags=["api"], dependencies=[Depends(json_only)], responses=errors(401, 403)
)

Ids = Annotated[str, Query(max_length=quiz.MAX_QUESTIONS * 81, pattern=r"^[a-z0-9,-]+$")]


def question_ids(bank, raw: str, limit: int = quiz.MAX_QUESTIONS, what: str = "quiz") -> list[str]:
    """The question ids a quiz, interview or cram set carries in its URL: 1..limit known ids."""
    ids = [i for i in raw.split(",") if i]
    if not ids or len(ids) > limit or any(i not in bank.questions for i in ids):
        raise HTTPException(404, f"unknown question in this {what}")
    return ids


class Filters:
    """The topic / difficulty / soul-20 choice both start forms send. "Any" arrives as an empty
    value, so difficulty is read as text and the empties dropped."""

    def __init__(
        self,
        topic: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
        difficulty: Annotated[list[str], Query(max_length=3)] = [],  # noqa: B006
        soul: bool = False,
    ):
        self.topics = [t for t in topic if t]
        self.difficulty = [int(d) for d in difficulty if d in ("1", "2", "3")]
        self.soul = soul

    def pick(self, bank, n: int, *, need_choices: bool = False) -> list[str]:
        return quiz.pick(
            bank,
            n,
            topics=self.topics,
            difficulty=self.difficulty,
            soul=self.soul,
            need_choices=need_choices,
            rng=random.Random(secrets.randbits(64)),
        )


FiltersDep = Annotated[Filters, Depends()]


# ---- quiz ---------------------------------------------------------------------------------


@router.get("/quiz", response_class=HTMLResponse)
def quiz_start(request: Request, bank: BankDep, lang: LangDep):
    return render(request, "quiz_start.html", lang, topics=bank.topics)


@router.get("/quiz/start")
def quiz_begin(
    bank: BankDep,
    filters: FiltersDep,
    n: Annotated[int, Query(ge=1, le=quiz.MAX_QUESTIONS)] = 10,
):
    ids = filters.pick(bank, n, need_choices=True)
    if not ids:
        return RedirectResponse("/quiz?empty=1", status_code=303)
    return RedirectResponse(f"/quiz/q?ids={','.join(ids)}&i=0", status_code=303)


# A quiz's answers live in its URL: one entry per answered question, the picked option indices
# joined by ".", "x" for none, entries joined by "-" (e.g. "1-0.2-x"). The score is computed
# from them, never read from the URL.
Answers = Annotated[str, Query(max_length=quiz.MAX_QUESTIONS * 8, pattern=r"^[0-9.x-]*$")]


def _parse_answers(raw: str, qids: list[str]) -> list[set[int]]:
    if not raw:
        return []
    entries = raw.split("-")
    if len(entries) > len(qids):
        raise HTTPException(422, "more answers than questions")
    return [set() if e == "x" else {int(v) for v in e.split(".") if v} for e in entries]


def _format_answers(answers: list[set[int]]) -> str:
    return "-".join(".".join(str(k) for k in sorted(a)) or "x" for a in answers)


def _quiz_url(ids: str, i: int, answers: list[set[int]]) -> str:
    a = _format_answers(answers)
    return f"/quiz/q?ids={ids}&i={i}" + (f"&a={a}" if a else "")


def _quiz_score(bank, qids: list[str], answers: list[set[int]]) -> list[bool]:
    return [quiz.is_correct(bank.questions[qid], a) for qid, a in zip(qids, answers, strict=False)]


@router.get("/quiz/q", response_class=HTMLResponse)
def quiz_question(
    request: Request,
    bank: BankDep,
    lang: LangDep,
    ids: Ids,
    i: Annotated[int, Query(ge=0, le=quiz.MAX_QUESTIONS)] = 0,
    a: Answers = "",
):
    """Question ``i``; once it is answered (``a`` has an entry for it), its feedback."""
    qids = question_ids(bank, ids)
    answers = _parse_answers(a, qids)
    if i >= len(qids):
        return RedirectResponse(f"/quiz/done?ids={ids}&a={_format_answers(answers)}", 303)
    if i > len(answers):  # a question skipped in the address: back to the first unanswered
        return RedirectResponse(_quiz_url(ids, len(answers), answers), status_code=303)
    q = bank.questions[qids[i]]
    marks = _quiz_score(bank, qids, answers[: i + 1])
    feedback = None
    if i < len(answers):
        feedback = {"picked": answers[i], "correct": marks[i]}
    return render(
        request,
        "quiz.html",
        lang,
        q=q,
        ids=ids,
        i=i,
        n=len(qids),
        right=sum(marks),
        answers=_format_answers(answers[:i]),
        next_url=_quiz_url(ids, i + 1, answers[: i + 1]),
        feedback=feedback,
        topic=bank.topic(q.topic),
    )


class QuizStepForm(PageForm):
    ids: QuestionIds
    i: Index
    a: Annotated[str, Field(max_length=quiz.MAX_QUESTIONS * 8, pattern=r"^[0-9.x-]*$")] = ""
    choice: list[ChoiceIndex] = []


@router.post("/quiz/q")
async def quiz_answer(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
) -> RedirectResponse:
    form = QuizStepForm.parse(await request.form())
    qids = question_ids(bank, form.ids)
    answers = _parse_answers(form.a, qids)
    if not 0 <= form.i < len(qids) or form.i > len(answers):
        raise HTTPException(422, "question index out of range")
    answers = answers[: form.i]
    q = bank.questions[qids[form.i]]
    picked = {k for k in form.choice if k < len(q.choices)}
    if not quiz.is_correct(q, picked):
        # A wrong answer means the card should come back soon: record Again.
        services.submit_review(session, user.id, q.id, Grade.again, now, srs, bank=bank)
    # Post/Redirect/Get: reloading the feedback page must not record the answer twice.
    return RedirectResponse(_quiz_url(form.ids, form.i, [*answers, picked]), status_code=303)


@router.get("/quiz/done", response_class=HTMLResponse)
def quiz_done(request: Request, bank: BankDep, lang: LangDep, ids: Ids, a: Answers = ""):
    """The score, counted from the answers; each question marked right or missed, with a link."""
    qids = question_ids(bank, ids)
    answers = _parse_answers(a, qids)
    marks = _quiz_score(bank, qids, answers)
    rows = [
        {"q": bank.questions[qid], "answered": k < len(marks), "right": k < len(marks) and marks[k]}
        for k, qid in enumerate(qids)
    ]
    return render(
        request,
        "quiz_done.html",
        lang,
        right=sum(marks),
        n=len(qids),
        rows=rows,
        missed=[r["q"].id for r in rows if not r["right"]],
    )


# ---- mock interview -------------------------------------------------------------------------
# The interview lives in its URL, so that a reload or Back finds it as it was: the questions, the
# position, the seconds per question, when this question was shown (the server's clock), the
# time each earlier answer took, and the earlier answers, compressed (zlib, base64url) to keep a
# long Chinese answer within what a URL can carry. Nothing is stored until the grades are.
MOCK_URL_BUDGET = 48_000  # characters of answers in the address; servers refuse ~64 KB


@router.get("/mock", response_class=HTMLResponse)
def mock_start(request: Request, bank: BankDep, lang: LangDep):
    return render(request, "mock_start.html", lang, topics=bank.topics)


@router.get("/mock/start")
def mock_begin(
    bank: BankDep,
    filters: FiltersDep,
    now: NowDep,
    n: Annotated[int, Query(ge=1, le=quiz.MAX_QUESTIONS)] = 5,
    seconds: Annotated[int, Query(ge=30, le=900)] = 120,
):
    ids = filters.pick(bank, n)
    if not ids:
        return RedirectResponse("/mock?empty=1", status_code=303)
    return RedirectResponse(_mock_url(",".join(ids), seconds, 0, [], [], now), status_code=303)


def pack_answers(answers: list[str]) -> str:
    if not any(answers):
        return ""
    raw = json.dumps(answers, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def unpack_answers(blob: str) -> list[str]:
    if not blob:
        return []
    try:
        packed = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        inflate = zlib.decompressobj()
        raw = inflate.decompress(packed, quiz.MAX_QUESTIONS * 4000 * 4)  # a zip bomb stops here
        if inflate.unconsumed_tail:
            raise ValueError("too long")
        data = json.loads(raw)
    except (ValueError, zlib.error):
        raise HTTPException(422, "the answers in this interview's address are damaged") from None
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise HTTPException(422, "the answers in this interview's address are damaged")
    return [x[:4000] for x in data[: quiz.MAX_QUESTIONS]]


def _fit(answers: list[str]) -> list[str]:
    """Shorten every answer in proportion until the address fits (only ever for very long
    ones); a few compressions at most, whatever the input."""
    answers = list(answers)
    for _ in range(8):
        size = len(pack_answers(answers))
        if size <= MOCK_URL_BUDGET:
            return answers
        keep = MOCK_URL_BUDGET / size * 0.9
        answers = [a if len(a) < 40 else a[: int(len(a) * keep)] + "…" for a in answers]
    return [a[:40] for a in answers]


def _mock_url(ids, seconds, i, answers, elapsed, started=None, *, path="/mock/q") -> str:
    query: list[tuple[str, str | int]] = [("ids", ids), ("seconds", seconds), ("i", i)]
    query += [("elapsed", e) for e in elapsed]
    if started is not None:
        query.append(("started", started.isoformat(timespec="seconds")))
    blob = pack_answers(_fit(answers))
    if blob:
        query.append(("t", blob))
    return f"{path}?{urlencode(query)}"


Blob = Annotated[str, Query(max_length=MOCK_URL_BUDGET + 100, pattern=r"^[A-Za-z0-9_-]*$")]
Elapsed = Annotated[list[Annotated[int, Field(ge=0, le=86_400)]], Query(max_length=30)]
Started = Annotated[AwareDatetime | None, Query()]


@router.get("/mock/q", response_class=HTMLResponse)
def mock_question(
    request: Request,
    bank: BankDep,
    lang: LangDep,
    now: NowDep,
    ids: Ids,
    seconds: Annotated[int, Query(ge=30, le=900)] = 120,
    i: Annotated[int, Query(ge=0, le=quiz.MAX_QUESTIONS)] = 0,
    elapsed: Elapsed = [],  # noqa: B006 (FastAPI copies query defaults)
    started: Started = None,
    t: Blob = "",
):
    qids = question_ids(bank, ids)
    answers = unpack_answers(t)
    if i >= len(qids):
        return RedirectResponse(
            _mock_url(ids, seconds, i, answers, elapsed, path="/mock/grade"), status_code=303
        )
    if started is None or not 2000 <= started.year < 2200:
        # Stamp the address with the time the question was first shown: a reload keeps it.
        return RedirectResponse(
            _mock_url(ids, seconds, i, answers, elapsed[:i], now), status_code=303
        )
    q = bank.questions[qids[i]]
    left = seconds - int((now - started).total_seconds())
    return render(
        request,
        "mock.html",
        lang,
        q=q,
        ids=ids,
        i=i,
        n=len(qids),
        seconds=seconds,
        left=max(0, min(seconds, left)),
        blob=t,
        elapsed=elapsed[:i],
        started=started.isoformat(timespec="seconds"),
        now_iso=now.isoformat(timespec="seconds"),
        topic=bank.topic(q.topic),
    )


def _advance(bank, now, ids, seconds, i, answers, elapsed, started, answer) -> str:
    """Where "next" leads: the next question, or self-grading after the last one."""
    qids = question_ids(bank, ids)
    if not 0 <= i < len(qids):
        raise HTTPException(422, "question index out of range")
    answers = (list(answers[:i]) + [""] * i)[:i] + [answer[:4000]]
    elapsed = (list(elapsed[:i]) + [0] * i)[:i]
    # Server-side time, so the summary is honest without JavaScript too.
    elapsed.append(min(86_400, max(0, int((now - started).total_seconds()))))
    if i + 1 < len(qids):
        return _mock_url(ids, seconds, i + 1, answers, elapsed, now)
    return _mock_url(ids, seconds, i + 1, answers, elapsed, path="/mock/grade")


@router.get("/mock/next")
def mock_next(
    bank: BankDep,
    now: NowDep,
    ids: Ids,
    started: Annotated[AwareDatetime, Query()],
    seconds: Annotated[int, Query(ge=30, le=900)] = 120,
    i: Annotated[int, Query(ge=0, lt=quiz.MAX_QUESTIONS)] = 0,
    elapsed: Elapsed = [],  # noqa: B006
    t: Blob = "",
    answer: Annotated[str, Query(max_length=20_000)] = "",
) -> RedirectResponse:
    """The answer form's target. A GET: moving on records nothing, and it redirects at once, so
    the address left in the history is the next question's, safe to reload."""
    url = _advance(bank, now, ids, seconds, i, unpack_answers(t), elapsed, started, answer)
    return RedirectResponse(url, status_code=303)


@router.post("/mock/q")
async def mock_next_post(request: Request, bank: BankDep, now: NowDep) -> RedirectResponse:
    """An interview page from before the address held the interview: its POST, redirected."""
    form = MockStepForm.parse(await request.form())
    answers = [a[:4000] for a in form.answer]
    answer = answers[form.i] if form.i < len(answers) else ""
    url = _advance(
        bank, now, form.ids, form.seconds, form.i, answers, form.elapsed, form.started, answer
    )
    return RedirectResponse(url, status_code=303)


@router.get("/mock/grade", response_class=HTMLResponse)
def mock_grade_page(
    request: Request,
    bank: BankDep,
    lang: LangDep,
    ids: Ids,
    seconds: Annotated[int, Query(ge=30, le=900)] = 120,
    elapsed: Elapsed = [],  # noqa: B006
    t: Blob = "",
):
    qids = question_ids(bank, ids)
    answers = unpack_answers(t)
    items = [
        {
            "q": bank.questions[qid],
            "answer": answers[k] if k < len(answers) else "",
            "elapsed": elapsed[k] if k < len(elapsed) else 0,
        }
        for k, qid in enumerate(qids)
    ]
    return render(request, "mock_grade.html", lang, items=items, ids=ids, seconds=seconds)


@router.post("/mock/grade")
async def mock_grade(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
):
    form = MockGradeForm.parse(await request.form())
    ids, elapsed = form.ids, form.elapsed
    qids = question_ids(bank, ids)
    hits = []
    for qid in qids:
        total = len(bank.questions[qid].key_points.en)
        hit = len({v for v in form.points.get(qid, []) if v < total})
        services.submit_review(
            session, user.id, qid, quiz.grade_from_points(hit, total), now, srs, bank=bank
        )
        hits.append(str(hit))
    # Post/Redirect/Get: reloading the summary must not grade the cards a second time.
    return RedirectResponse(
        f"/mock/done?ids={ids}&hits={','.join(hits)}&spent={sum(elapsed)}", status_code=303
    )


@router.get("/mock/done", response_class=HTMLResponse)
def mock_done(
    request: Request,
    bank: BankDep,
    lang: LangDep,
    ids: Ids,
    hits: Annotated[str, Query(max_length=200, pattern=r"^[0-9,]*$")] = "",
    spent: Annotated[int, Query(ge=0, le=30 * 86_400)] = 0,
):
    """The interview's summary: key points hit per question, the grade each became, and the
    topics whose key points were not all covered, least covered first."""
    qids = question_ids(bank, ids)
    counts = [int(h) for h in hits.split(",") if h]
    results, rows = [], []
    for k, qid in enumerate(qids):
        q = bank.questions[qid]
        total = len(q.key_points.en)
        hit = min(counts[k], total) if k < len(counts) else 0
        results.append((q.topic, hit / total))
        rows.append(
            {"q": q, "hit": hit, "total": total, "grade": quiz.grade_from_points(hit, total).name}
        )
    return render(
        request,
        "mock_done.html",
        lang,
        rows=rows,
        weak=[w for w in quiz.weak_topics(results) if w.share < 1],
        score=sum(s for _, s in results) / len(results),
        time_used=spent,
        topics={t.id: t for t in bank.topics},
    )


# ---- statistics ----------------------------------------------------------------------------


def _stats(session, user, bank, srs, now, settings) -> stats.Stats:
    return stats.compute(session, user.id, bank, srs, now, settings.desired_retention)


@router.get("/stats", response_class=HTMLResponse)
def stats_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    settings: SettingsDep,
    msg: str | None = None,
):
    return _stats_page(request, session, user, bank, srs, now, lang, settings, msg)


def _chart(title: dict[str, str], series: list[dict], x_label: str, y_label: str) -> dict:
    return {
        "title": title,
        "kind": "bar",
        "x_label": x_label,
        "y_label": y_label,
        "log_x": False,
        "log_y": False,
        "series": series,
    }


_STATS_MSG = re.compile(r"(imported|reset):(\d+) cards, (\d+) reviews")


def _stats_message(msg: str | None, t) -> tuple[str, str] | None:
    """The import/reset outcome in the URL (kind:detail) as (kind, sentence in the reader's
    language); a refused file keeps its technical reason after the translated words."""
    if not msg:
        return None
    kind, _, detail = msg.partition(":")
    if m := _STATS_MSG.fullmatch(msg):
        text = t(f"msg_{m[1]}").replace("{cards}", m[2]).replace("{reviews}", m[3])
        return m[1], text
    if kind == "import-failed":
        return kind, t("msg_import_failed") + " " + detail.strip()
    return "other", msg


def _stats_page(request, session, user, bank, srs, now, lang, settings, msg, status_code=200):
    s = _stats(session, user, bank, srs, now, settings)
    t = translator(lang)
    weeks = stats.HEATMAP_WEEKS
    days = s.reviews_per_day
    grid = [[days[w * 7 + d].count for w in range(weeks)] for d in range(7)]
    topic_names = [bank.topic(tp.topic).title.get(lang) for tp in s.topics]
    forecast = _chart(
        {"zh": "未来 30 天到期", "en": "Due in the next 30 days"},
        [
            {
                "name": t("chart_due"),
                "x": [d.day.strftime("%m-%d") for d in s.due_forecast],
                "y": [d.count for d in s.due_forecast],
            }
        ],
        t("chart_day"),
        t("chart_due"),
    )
    mastery = _chart(
        {"zh": "各主题掌握度", "en": "Mastery per topic"},
        [
            {
                "name": t("chart_mastered"),
                "x": topic_names,
                "y": [round(tp.mastery, 3) for tp in s.topics],
            },
            {
                "name": t("chart_seen"),
                "x": topic_names,
                "y": [round(tp.seen / max(tp.questions, 1), 3) for tp in s.topics],
            },
        ],
        t("chart_topic"),
        t("chart_share"),
    )
    states = _chart(
        {"zh": "卡片状态", "en": "Cards by state"},
        [
            {
                "name": t("chart_cards"),
                "x": [t(f"state_{k}") for k in s.cards],
                "y": list(s.cards.values()),
            }
        ],
        t("chart_state"),
        t("chart_cards"),
    )
    heat = {
        "title": {
            "zh": "每天复习次数（近 26 周）",
            "en": "Reviews per day (last 26 weeks)",
        },
        "matrix": grid,
        # Rows are weekdays, columns the weeks, each labelled by its first day.
        "row_labels": [t(f"wd_{days[d].day.weekday()}") for d in range(7)],
        "col_labels": [days[w * 7].day.strftime("%m-%d") for w in range(weeks)],
        "x_label": t("heat_week"),
        "y_label": t("heat_weekday"),
    }
    return render(
        request,
        "stats.html",
        lang,
        s=s,
        charts=[forecast, mastery, states],
        heat=heat,
        topics={tp.id: tp for tp in bank.topics},
        msg=_stats_message(msg, t),
        status_code=status_code,
    )


@api.get("/stats", response_model=stats.Stats)
def api_stats(
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    settings: SettingsDep,
):
    """Your statistics: reviews per day, due forecast, true retention, mastery, streak."""
    return _stats(session, user, bank, srs, now, settings)


# ---- export / import -----------------------------------------------------------------------


@router.get("/export.json")
def export_json(session: SessionDep, user: UserDep, now: NowDep) -> Response:
    data = exchange.export_progress(session, user.id, user.username, now)
    name = f"transformer-quiz-{user.username}-{now:%Y%m%d}.json"
    return Response(
        data.model_dump_json(indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/import", response_class=HTMLResponse)
async def import_json(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    srs: SrsDep,
    now: NowDep,
    lang: LangDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
):
    """All of a progress file or none of it. A refused file gets the stats page again, with a
    4xx naming the first problems (422: the file; 409: this account already has progress)."""
    raw = await file.read()
    known = set(bank.questions) | {
        CARD_PREFIX + d for d in getattr(request.app.state, "drills", {})
    }
    try:
        cards, reviews = exchange.import_progress(
            session, user.id, raw, known_questions=known, now=now
        )
    except exchange.ImportRefused as e:
        session.rollback()
        status = 409 if isinstance(e, exchange.ImportConflict) else 422
        msg = f"import-failed: {e}"
        return _stats_page(request, session, user, bank, srs, now, lang, settings, msg, status)
    return RedirectResponse(
        f"/stats?msg=imported:{cards} cards, {reviews} reviews", status_code=303
    )


class ResetForm(BaseModel):
    confirm: str = Field(default="", max_length=100)


@router.post("/progress/reset")
def reset_progress(
    session: SessionDep, user: UserDep, form: Annotated[ResetForm, Form()]
) -> RedirectResponse:
    """Delete all of your own progress (cards and review history), e.g. to import a file into
    an account that has some. The form must say ``confirm=reset``."""
    if form.confirm.strip().casefold() != "reset":
        raise HTTPException(422, 'nothing deleted: type "reset" to confirm')
    cards, reviews = exchange.reset_progress(session, user.id)
    return RedirectResponse(f"/stats?msg=reset:{cards} cards, {reviews} reviews", status_code=303)


@router.get("/export.apkg")
def export_anki(bank: BankDep, lang: Annotated[str, Query(pattern="^(zh|en|both)$")] = "both"):
    tmp = Path(tempfile.mkdtemp(prefix="tq-anki-"))
    path = tmp / "transformer-quiz.apkg"
    exchange.export_apkg(bank, path, lang)

    def cleanup() -> None:
        path.unlink(missing_ok=True)
        tmp.rmdir()

    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=f"transformer-quiz-{lang}.apkg",
        background=BackgroundTask(cleanup),
    )

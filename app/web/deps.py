"""Request-scoped dependencies: DB session, current user, language, clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.bank.loader import Bank
from app.bank.models import Lang
from app.config import Settings
from app.demos.runner import DemoRunner
from app.models import User
from app.srs import Srs
from app.study import prefs as study_prefs

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


# Dependencies are ``async def`` unless they block: FastAPI runs a plain ``def`` dependency in the
# thread pool, a thread hop per dependency per request (a sync generator: one to enter, one to
# exit), each costing more than the lookup it wraps.


async def get_session(request: Request) -> AsyncIterator[Session]:
    # A Session connects on first use, not here. Closing one that holds a transaction rolls it
    # back: a file operation on SQLite (inline), a network round trip elsewhere (thread pool).
    engine = request.app.state.engine
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction() and engine.dialect.name != "sqlite":
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_bank(request: Request) -> Bank:
    return request.app.state.bank


async def get_runner(request: Request) -> DemoRunner:
    return request.app.state.demos


async def get_now(request: Request) -> datetime:
    # Tests swap app.state.clock for a fixed or simulated clock.
    return request.app.state.clock()


class LoginRequired(Exception):
    """Raised when accounts are on and nobody is logged in; pages redirect, the API answers 401."""


def _login_required(request: Request) -> Exception:
    if request.url.path.startswith("/api/"):
        return HTTPException(status_code=401, detail="login required")
    return LoginRequired()


async def get_user(request: Request) -> User:
    # Known without a query almost always: the local user is read once per process, and in
    # accounts mode require_session has already looked the session up for this request.
    user = request.app.state.auth.cached_user(request)
    if user is None:
        user = await run_in_threadpool(_session_user, request)
    if user is None:
        raise _login_required(request)
    return user


def get_srs(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    user: Annotated[User, Depends(get_user)],
) -> Srs:
    """The member's scheduler: their fitted FSRS weights and desired retention (app/study),
    one shared immutable Srs per distinct setting."""
    return study_prefs.srs_for(
        request.app.state, study_prefs.for_request(request, session, user.id)
    )


# What a stranger may reach in accounts mode: logging in, registering, the health check and the
# static assets (the /static mount is outside the routes; /sw.js is a static file served from the
# root for its scope). /lang/ only sets the login page's language.
PUBLIC_PATHS = frozenset({"/login", "/register", "/healthz", "/api/session", "/sw.js"})
PUBLIC_PREFIXES = ("/lang/",)


def _session_user(request: Request) -> User | None:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return request.app.state.auth.current_user(request, session)


async def require_session(request: Request) -> None:
    """App-wide dependency: in accounts mode every route but the public ones needs a live
    session, whether or not it reads the user (demos, the Anki export and the API docs compute
    or reveal things too). The user found here is cached on the request for ``get_user``."""
    auth = request.app.state.auth
    if not auth.enabled:
        return
    path = request.url.path
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return
    if await run_in_threadpool(_session_user, request) is None:
        raise _login_required(request)


async def get_lang(request: Request) -> Lang:
    lang = request.cookies.get("lang")
    if lang in ("zh", "en"):
        return lang  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


@dataclass(frozen=True, slots=True)
class Ctx:
    """Everything a hot route needs but its input, from ONE async dependency: each dependency
    FastAPI solves costs tens of microseconds, and the routes that take this open their own
    database session inside the one thread hop that does their blocking work."""

    request: Request
    user_id: int
    now: datetime
    settings: Settings
    bank: Bank

    @property
    def engine(self) -> Engine:
        return self.request.app.state.engine


async def get_ctx(request: Request) -> Ctx:
    state = request.app.state
    user_id = state.auth.cached_user_id(request)
    if user_id is None:
        user_id = (await get_user(request)).id
    return Ctx(request, user_id, state.clock(), state.settings, state.bank)


SessionDep = Annotated[Session, Depends(get_session)]
CtxDep = Annotated[Ctx, Depends(get_ctx)]
UserDep = Annotated[User, Depends(get_user)]
BankDep = Annotated[Bank, Depends(get_bank)]
SrsDep = Annotated[Srs, Depends(get_srs)]
NowDep = Annotated[datetime, Depends(get_now)]
LangDep = Annotated[Lang, Depends(get_lang)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[DemoRunner, Depends(get_runner)]

"""The application factory: ``create_app(settings) -> FastAPI``."""

# ruff: noqa: E402  (the collector is paused before the imports below)
from __future__ import annotations

import gc

# Importing the app (FastAPI, SQLAlchemy, every route and model) allocates ~a million objects
# and none of them is garbage; the cyclic collector ran dozens of times over them, ~0.1 s of a
# cold start (issue #17). Paused for the imports; at the end of this module they are frozen
# (left out of every later collection, as the lifespan's gc.freeze does for the rest), else the
# first collection after resuming walks them all.
_gc_was_on = gc.isenabled()
gc.disable()

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.bank.loader import Bank, load_bank
from app.compute.client import ComputePool
from app.config import REPO_ROOT, Settings, get_settings
from app.db import make_engine, migrate
from app.demos import load_all
from app.demos.runner import DemoRunner
from app.drills.loader import load_drills
from app.study import web as study_web
from app.web import account, api, drills, errors, pages, study
from app.web.auth import LocalAuth, SessionAuth
from app.web.deps import LoginRequired, require_session, system_clock
from app.web.schemas import Health, validation_error_handler
from app.web.security import SecurityMiddleware

log = logging.getLogger("transformer_quiz")
STATIC_DIR = REPO_ROOT / "static"


def load_checked_bank(questions_dir: Path) -> Bank:
    """The bank, with every demo reference checked against the registry. Raises BankError."""
    return load_bank(questions_dir, known_demos=set(load_all()))


# `serve` checks the bank before it binds the port; a worker in the same process (one worker)
# takes that bank rather than parsing every YAML file a second time.
_preloaded: dict[Path, Bank] = {}


def preload_bank(questions_dir: Path, bank: Bank) -> None:
    _preloaded[questions_dir] = bank


def create_app(settings: Settings | None = None, *, bank: Bank | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Refuse to start on a broken bank.
    bank = (
        bank
        or _preloaded.pop(settings.questions_dir, None)
        or load_checked_bank(settings.questions_dir)
    )
    engine = make_engine(settings)
    if settings.migrate_on_start:
        migrate(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Serve at once; the compute pool (torch) starts in the background after uvicorn has
        # bound its socket, so the first demo seldom waits for it. Then freeze what is loaded:
        # a full collection walking every long-lived object was a pause inside some request.
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, lambda: loop.run_in_executor(None, pool.start))
        gc.freeze()
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Transformer Quiz",
        version=__version__,
        description="Interview prep for Transformers: questions, spaced repetition, live demos.",
        docs_url=None,  # served below from the vendored Swagger UI, not a CDN
        redoc_url=None,
        openapi_url=None,  # served below, as a route, so that it needs a session too
        # Accounts mode: nothing but login, registration and health without a session.
        dependencies=[Depends(require_session)],
    )
    app.state.settings = settings
    app.state.bank = bank
    # Refuse to start on a broken drill, as on a broken bank (BankError names file, id, field).
    app.state.drills = load_drills(
        settings.drills_dir,
        known_questions=set(bank.questions),
        known_topics={t.id for t in bank.topics},
    )
    app.state.engine = engine
    pool = ComputePool(settings.pool_limits, socket=settings.compute_socket)
    app.state.pool = pool
    app.state.demos = DemoRunner(pool)
    app.state.clock = system_clock
    app.state.auth = (
        SessionAuth(settings.secret_key, secure=settings.secure_cookies)
        if settings.auth_enabled
        else LocalAuth()
    )

    app.add_middleware(
        SecurityMiddleware,
        secure_cookies=settings.secure_cookies,
        max_body=settings.max_body_bytes,
        max_import=settings.max_import_bytes,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(study_web.api)
    app.include_router(account.api)
    app.include_router(pages.router)
    app.include_router(study_web.router)
    app.include_router(account.router)
    app.include_router(study.api)
    app.include_router(study.router)
    app.include_router(drills.api)
    app.include_router(drills.router)

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz() -> Health:
        return Health(status="ok", questions=len(bank.questions), demos=len(app.state.demos.all()))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Transformer Quiz API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    # Invalid input gets a 422 that never echoes it (NaN, lone surrogates: unencodable).
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # Browsers get an HTML error page in their language; /api and scripts keep the JSON.
    errors.install(app)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    return app


gc.freeze()
if _gc_was_on:
    gc.enable()

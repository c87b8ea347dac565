"""Shared fixtures: an app on a throwaway database with a small fixture bank and a settable clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.compute.client import ComputePool
from app.compute.limits import PoolLimits
from app.config import Settings
from app.main import create_app

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"
# One real drill, pointed at the fixture bank's questions (a drill must name known questions).
FIXTURE_DRILLS = Path(__file__).parent / "fixtures" / "drills"
REAL_BANK = Path(__file__).resolve().parent.parent / "questions"


class Clock:
    """A controllable clock for the app (tests move time instead of sleeping)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def _database_url(tmp_path: Path) -> str | None:
    # TQ_TEST_DATABASE_URL runs the same suite against PostgreSQL (a fresh schema per test).
    base = os.environ.get("TQ_TEST_DATABASE_URL")
    if not base:
        return None
    import uuid

    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    eng = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with eng.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def compute_pool() -> Iterator[ComputePool]:
    """One compute pool for the session's apps, as `serve` gives one to all its web workers
    (each app starting its own would import torch again per test). Started lazily: only the
    first demo waits for it."""
    pool = ComputePool(PoolLimits(workers=2))
    pool.launch()
    yield pool
    pool.close()


@pytest.fixture
def settings(tmp_path: Path, compute_pool: ComputePool) -> Settings:
    return Settings(
        data_dir=tmp_path,
        drills_dir=FIXTURE_DRILLS,
        compute_socket=compute_pool.socket,
        database_url=_database_url(tmp_path),
        questions_dir=FIXTURE_BANK,
        fsrs_fuzz=False,
        new_per_day=20,
        _env_file=None,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def app(settings: Settings, clock: Clock):
    application = create_app(settings)
    application.state.clock = clock
    yield application
    application.state.engine.dispose()


def prime_csrf(c: TestClient) -> TestClient:
    """Fetch a page for the CSRF cookie and send its token on every request, as the forms do."""
    c.get("/healthz")
    c.get("/demos")
    c.headers["X-CSRF-Token"] = c.cookies["tq_csrf"]
    return c


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield prime_csrf(c)


@pytest.fixture
def raw_client(app) -> Iterator[TestClient]:
    """A client that sends no CSRF token by itself."""
    with TestClient(app) as c:
        yield c

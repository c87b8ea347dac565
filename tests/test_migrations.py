"""Alembic migrations: they build exactly the schema the models declare, and they upgrade a
database that already holds progress without losing any of it (SQLite and, in make test-pg,
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.db import MIGRATIONS_DIR, make_engine, migrate


def _run(engine: sa.Engine, fn, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)


def test_migrations_build_exactly_the_schema_the_models_declare(settings):
    engine = make_engine(settings)
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    engine.dispose()


def test_upgrading_keeps_progress_and_downgrading_back_works(settings):
    engine = make_engine(settings)
    _run(engine, command.upgrade, "0002")
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as c:
        c.execute(
            sa.text(
                'INSERT INTO "user" (username, password_hash, is_admin, created_at,'
                " session_version, show_on_leaderboard)"
                " VALUES ('ada', NULL, false, :at, 0, true)"
            ),
            {"at": at},
        )
        uid = c.execute(sa.text("SELECT id FROM \"user\" WHERE username = 'ada'")).scalar_one()
        c.execute(
            sa.text(
                "INSERT INTO review_log (user_id, question_id, rating, reviewed_at, due_after)"
                " VALUES (:u, 'soul-04', 3, :at, :at)"
            ),
            {"u": uid, "at": at},
        )
    migrate(engine)  # 0002 → head
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM review_log")).scalar_one() == 1
    names = {i["name"] for i in sa.inspect(engine).get_indexes("review_log")}
    assert "ix_review_log_user_reviewed" in names
    _run(engine, command.downgrade, "0002")
    names = {i["name"] for i in sa.inspect(engine).get_indexes("review_log")}
    assert "ix_review_log_user_reviewed" not in names
    migrate(engine)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM review_log")).scalar_one() == 1
    engine.dispose()

"""Engine, sessions and migrations. SQLite by default (WAL, busy timeout); any SQLAlchemy URL works."""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, create_engine

from app.config import REPO_ROOT, Settings

MIGRATIONS_DIR = REPO_ROOT / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers proceed during a write; busy_timeout makes concurrent writers (several
    # uvicorn workers) wait instead of failing; synchronous=NORMAL is durable in WAL mode across
    # process crashes (only an OS crash can lose the last commits).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def make_engine(settings: Settings) -> Engine:
    url = settings.db_url
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # As many pooled connections as the thread pool runs requests (40): beyond the default
        # 5 (+10 overflow) every request under load opened a fresh connection and re-ran the
        # pragmas below, and threads queued for a connection.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=40,
            max_overflow=10,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _WRITE_LOCKS[engine] = threading.Lock()  # see write_turn
        return engine
    if url.startswith("postgresql"):
        from app.models import declare_postgresql_options

        declare_postgresql_options()
    # PostgreSQL: a pool as large as the thread pool's share of the connection budget (the
    # default 5 + 10 made threads queue for a connection under load), and no pre-ping: that is
    # a round trip before every request's first statement. A connection the server dropped
    # fails its request once and the pool then replaces every connection of that age;
    # pool_recycle retires connections before idle-timeouts in between kill them.
    return create_engine(url, pool_size=20, max_overflow=20, pool_recycle=1800)


def write_turn(session: Session) -> contextlib.AbstractContextManager:
    """SQLite takes one writer at a time. Threads of one process take turns on a lock here rather
    than colliding inside SQLite, where a reader upgrading to writer fails at once and the rest
    sleep in the busy handler; other workers (processes) still meet the busy timeout. Other
    databases lock rows themselves: their engines have no lock, so no turn is needed."""
    return _WRITE_LOCKS.get(session.get_bind()) or contextlib.nullcontext()


_REVISION = re.compile(r'^(down_)?revision: [^=]+= (None|"([^"]+)")$', re.M)


def head_revision() -> str | None:
    """The newest migration, read from the files' ``revision`` / ``down_revision`` lines: None
    unless they form one line of history (then only Alembic can tell)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for f in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = {bool(m[1]): m[3] for m in _REVISION.finditer(f.read_text())}
        if True not in found or not found.get(False):
            return None
        revisions.add(found[False])
        if found[True]:
            parents.add(found[True])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    head = head_revision()
    if head is None:
        return False
    with engine.connect() as conn:
        if not sa_inspect(conn).has_table("alembic_version"):
            return False
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return [r[0] for r in rows] == [head]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run at every start; idempotent)."""
    # A database already there needs no Alembic: importing it (and, through it, every dialect's
    # DDL) was ~0.15 s of every start.
    if _at_head(engine):
        return
    # Imported here, not at the top: a web worker never migrates (serve did, once).
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session

"""Alembic environment. The app calls ``app.db.migrate`` with a live connection; the ``alembic``
command line works too (``TQ_DATABASE_URL`` / ``DATABASE_URL`` select the database)."""

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from app.config import get_settings
        from app.db import make_engine

        with make_engine(get_settings()).connect() as conn:
            _run_with(conn)
            conn.commit()
    else:
        _run_with(connection)


def _run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()

"""Command line: ``transformer-quiz serve | check | ...``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from app.bank.loader import BankError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Transformer Quiz")


@app.command()
def check(
    directory: Annotated[
        Path | None, typer.Argument(help="Bank directory (default: the configured one).")
    ] = None,
) -> None:
    """Validate a question bank; exit 1 listing every problem (file:line, question, field)."""
    from app.config import get_settings
    from app.main import load_checked_bank

    directory = directory or get_settings().questions_dir
    try:
        bank = load_checked_bank(directory)
    except BankError as e:
        for issue in e.issues:
            typer.echo(str(issue), err=True)
        typer.echo(f"{len(e.issues)} problem(s) in {directory}", err=True)
        raise typer.Exit(1) from None
    soul = sorted({q.soul_number for q in bank.questions.values() if q.soul_number})
    typer.echo(
        f"OK: {len(bank.questions)} questions in {len(bank.topics)} topics; "
        f"soul-20 covered: {len(soul)}/20"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: TQ_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: TQ_PORT or 8000")] = None,
    workers: Annotated[int | None, typer.Option(help="uvicorn worker processes")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Migrate the database, then serve the app with uvicorn."""
    import uvicorn

    from app.config import get_settings
    from app.db import make_engine, migrate
    from app.main import load_checked_bank

    settings = get_settings()
    try:
        load_checked_bank(settings.questions_dir)  # fail before binding a port
    except BankError as e:
        typer.echo(f"The question bank is broken; not starting.\n{e}", err=True)
        raise typer.Exit(1) from None
    migrate(make_engine(settings))
    # Migrated once here; workers must not race each other doing it again.
    os.environ["TQ_MIGRATE_ON_START"] = "false"
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips="*" if settings.auth_enabled else None,
    )


if __name__ == "__main__":
    app()

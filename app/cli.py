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
    drills_dir: Annotated[
        Path | None, typer.Option(help="Drills directory (default: the configured one).")
    ] = None,
) -> None:
    """Validate the question bank and the drills; exit 1 listing every problem (file:line,
    question or drill id, field)."""
    from app.config import get_settings
    from app.drills.loader import load_drills
    from app.main import load_checked_bank

    settings = get_settings()
    directory = directory or settings.questions_dir
    drills_dir = drills_dir or settings.drills_dir
    try:
        bank = load_checked_bank(directory)
        drills = load_drills(
            drills_dir,
            known_questions=set(bank.questions),
            known_topics={t.id for t in bank.topics},
        )
    except BankError as e:
        for issue in e.issues:
            typer.echo(str(issue), err=True)
        typer.echo(f"{len(e.issues)} problem(s) in {directory} or {drills_dir}", err=True)
        raise typer.Exit(1) from None
    soul = sorted({q.soul_number for q in bank.questions.values() if q.soul_number})
    typer.echo(
        f"OK: {len(bank.questions)} questions in {len(bank.topics)} topics; "
        f"soul-20 covered: {len(soul)}/20; {len(drills)} drills"
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
    from app.main import load_checked_bank, preload_bank

    settings = get_settings()
    # One compute pool for the host, shared by every worker, launched first: its supervisor
    # imports torch (~1.5 s of one core) while this process loads the bank, migrates and binds on
    # the other, so the first demo rarely waits. The workers find it by its socket; it exits when
    # we do. A --reload child owns a pool of its own (the reloader restarts it with the code).
    pool = None
    if settings.compute_socket is None and not reload:
        from app.compute.client import ComputePool

        pool = ComputePool(settings.pool_limits)
        os.environ["TQ_COMPUTE_SOCKET"] = str(pool.launch())
        get_settings.cache_clear()  # the app built in this process must read the socket too
    try:
        try:
            bank = load_checked_bank(settings.questions_dir)  # fail before binding a port
        except BankError as e:
            typer.echo(f"The question bank is broken; not starting.\n{e}", err=True)
            raise typer.Exit(1) from None
        preload_bank(settings.questions_dir, bank)
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
            access_log=settings.access_log,
            # Only a proxy we were told about may set X-Forwarded-For: anyone else could fake
            # an address and slip past the per-address login limit.
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    finally:
        if pool is not None:
            pool.close()


def _user_session(username: str | None):
    """The database session and the user a data command acts on: the local user in the default
    single-user mode, or ``--user NAME`` with accounts."""
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from app.config import get_settings
    from app.db import make_engine, migrate
    from app.models import User
    from app.services import ensure_local_user

    settings = get_settings()
    engine = make_engine(settings)
    migrate(engine)
    session = Session(engine, expire_on_commit=False)
    if username:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            typer.echo(f"no user {username!r}", err=True)
            raise typer.Exit(1)
    else:
        user = ensure_local_user(session)
    return settings, session, user, datetime.now(UTC)


UserOpt = Annotated[str | None, typer.Option("--user", help="Account name (accounts mode).")]


@app.command("export")
def export_cmd(
    out: Annotated[
        Path | None, typer.Argument(help="JSON file to write (default: stdout).")
    ] = None,
    user: UserOpt = None,
) -> None:
    """Export a user's progress (cards and the full review log) as JSON."""
    from app.exchange import export_progress

    _, session, u, now = _user_session(user)
    with session:
        text = export_progress(session, u.id, u.username, now).model_dump_json(indent=1)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text)


@app.command("import")
def import_cmd(
    src: Annotated[Path, typer.Argument(help="A JSON file written by `export`.")],
    user: UserOpt = None,
) -> None:
    """Import progress into a user with none yet."""
    from app.drills.loader import load_drills
    from app.drills.service import card_id
    from app.exchange import ImportRefused, ProgressExport, import_progress
    from app.main import load_checked_bank

    settings, session, u, now = _user_session(user)
    bank = load_checked_bank(settings.questions_dir)
    known = set(bank.questions) | {card_id(d) for d in load_drills(settings.drills_dir)}
    with session:
        try:
            data = ProgressExport.model_validate_json(src.read_text())
            cards, reviews = import_progress(session, u.id, data, known_questions=known, now=now)
        except (ValueError, ImportRefused) as e:
            typer.echo(f"import refused: {str(e).splitlines()[0]}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"imported {cards} cards and {reviews} reviews for {u.username}")


@app.command()
def stats(user: UserOpt = None) -> None:
    """Print a user's statistics: streak, retention, cards by state, mastery per topic."""
    from app.main import load_checked_bank
    from app.srs import Srs
    from app.stats import compute

    settings, session, u, now = _user_session(user)
    bank = load_checked_bank(settings.questions_dir)
    with session:
        s = compute(
            session, u.id, bank, Srs(settings.desired_retention), now, settings.desired_retention
        )
    ret = f"{s.true_retention:.0%}" if s.true_retention is not None else "n/a"
    typer.echo(
        f"user {u.username}: {s.total_reviews} reviews, {s.reviews_today} today, streak {s.streak_days} days"
    )
    typer.echo(
        f"true retention {ret} over {s.retention_reviews} reviews (target {s.desired_retention:.0%})"
    )
    typer.echo("cards: " + ", ".join(f"{k} {v}" for k, v in s.cards.items()))
    due = sum(d.count for d in s.due_forecast[:7])
    typer.echo(f"due in the next 7 days: {due}")
    for t in s.topics:
        typer.echo(f"  {t.topic:<22} seen {t.seen:>2}/{t.questions:<2} mastered {t.mastered}")


@app.command()
def anki(
    out: Annotated[Path, typer.Argument(help="The .apkg file to write.")] = Path(
        "transformer-quiz.apkg"
    ),
    lang: Annotated[str, typer.Option(help="zh, en or both")] = "both",
) -> None:
    """Write the question bank as an Anki deck (one note per question)."""
    from app.config import get_settings
    from app.exchange import export_apkg
    from app.main import load_checked_bank

    if lang not in ("zh", "en", "both"):
        raise typer.BadParameter("lang must be zh, en or both")
    n = export_apkg(load_checked_bank(get_settings().questions_dir), out, lang)
    typer.echo(f"wrote {out}: {n} notes")


if __name__ == "__main__":
    app()

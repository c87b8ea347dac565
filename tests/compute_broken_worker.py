"""Imported by a test pool's supervisor only: every worker it forks dies as it starts."""

from app.compute import worker


def _die_at_start(*args: object, **kwargs: object) -> None:
    raise RuntimeError("this worker cannot start (a test)")


worker.serve = _die_at_start  # type: ignore[assignment]

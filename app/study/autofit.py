"""Re-fit a member's weights by itself every N new reviews (prefs.autofit_every; 0 is off).

Checked when the queue is read; the fit runs on the compute pool from a background thread of
the web process (which only waits for it), so no request waits for minutes. Several web
workers may notice at once: a conditional UPDATE of ``fitted_at`` lets exactly one claim it.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from app.compute.protocol import FitJob
from app.models import ReviewLog, UserPrefs
from app.study import fitting, prefs
from app.study.fitting import FIT_TIMEOUT_S

log = logging.getLogger("transformer_quiz")
_running: set[int] = set()
_lock = threading.Lock()


def reviews_since(session: Session, user_id: int, since: datetime | None) -> int:
    q = (
        select(func.count())
        .select_from(ReviewLog)
        .where(
            ReviewLog.user_id == user_id,
            ReviewLog.cram == False,  # noqa: E712 (SQL)
        )
    )
    if since is not None:
        q = q.where(ReviewLog.reviewed_at > since)
    return session.exec(q).one()


def maybe_start(app_state, session: Session, user_id: int, p: prefs.Prefs, now: datetime) -> bool:
    """Start a background fit if N new reviews have come in since the last one. True if started."""
    if p.autofit_every <= 0 or reviews_since(session, user_id, p.fitted_at) < p.autofit_every:
        return False
    with _lock:
        if user_id in _running:
            return False
        _running.add(user_id)
    # Claim it: only the worker whose UPDATE sees the old fitted_at goes on.
    t = UserPrefs.__table__
    cond = t.c.fitted_at.is_(None) if p.fitted_at is None else t.c.fitted_at == p.fitted_at
    claimed = session.exec(
        update(t).where(t.c.user_id == user_id, cond).values(fitted_at=now)  # type: ignore[call-overload]
    ).rowcount
    session.commit()
    if claimed != 1:
        with _lock:
            _running.discard(user_id)
        return False
    threading.Thread(
        target=_run, args=(app_state, user_id, now), name=f"autofit-{user_id}", daemon=True
    ).start()
    return True


def _run(app_state, user_id: int, now: datetime) -> None:
    try:
        with Session(app_state.engine, expire_on_commit=False) as session:
            reviews = fitting.collect_reviews(session, user_id)
            reply = app_state.pool.submit_sync(
                FitJob(task="fit", reviews=reviews, timeout_s=FIT_TIMEOUT_S)
            )
            if reply.error is not None or reply.result_json is None:
                log.warning(
                    "automatic re-fit for user %s did not finish: %s", user_id, reply.message
                )
                return
            report = fitting.FitReport.model_validate_json(reply.result_json)
            report = report.model_copy(update={"fitted_at": now.astimezone(UTC)})
            prefs.store_fit(
                session, user_id, report, app_state.settings, adopt=report.status == "fitted"
            )
    except Exception:  # a background job must not die silently
        log.exception("automatic re-fit for user %s failed", user_id)
    finally:
        with _lock:
            _running.discard(user_id)

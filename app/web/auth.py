"""Who is asking. Local mode (the default): one implicit user, no login."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from app.models import User
from app.services import ensure_local_user


class LocalAuth:
    """Single-user mode on an embedded database: every request is the local user."""

    enabled = False

    def __init__(self) -> None:
        self._user: User | None = None

    def current_user(self, request: Request, session: Session) -> User | None:
        if self._user is None:
            self._user = ensure_local_user(session)
        return self._user

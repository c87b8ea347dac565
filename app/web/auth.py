"""Who is asking.

Local mode (the default on an embedded database): one implicit user, no login.
Accounts mode (``TQ_AUTH_ENABLED=true``, always in the Docker image): an HttpOnly session cookie
naming a server-side session (``user_session``), which logout deletes.
"""

from __future__ import annotations

import threading
from datetime import datetime

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from app import accounts
from app.models import User
from app.services import ensure_local_user

SESSION_COOKIE = "tq_session"
SESSION_MAX_AGE = int(accounts.SESSION_LIFETIME.total_seconds())


class LocalAuth:
    """Single-user mode on an embedded database: every request is the local user."""

    enabled = False

    def __init__(self) -> None:
        self._fields: dict | None = None

    def cached_user(self, request: Request) -> User | None:
        """The user if known without a query (after the first request)."""
        return None if self._fields is None else User(**self._fields)

    def cached_user_id(self, request: Request) -> int | None:
        # What the hot routes need, without building a User model for it.
        return None if self._fields is None else self._fields["id"]

    def current_user(self, request: Request, session: Session) -> User | None:
        # The local user never changes, so it is read once; each request gets a fresh copy that
        # belongs to no session. (A row loaded by one request's session expires when that
        # session rolls back, a review retry, and must never be read from another request.)
        if self._fields is None:
            self._fields = ensure_local_user(session).model_dump()
        return User(**self._fields)


class SessionAuth:
    """Accounts mode. The cookie carries a random session token (signed, so garbage is turned
    away without a query); the database holds its hash, the user and the expiry. Logging out
    deletes that row: a copy of the cookie is worth nothing afterwards."""

    enabled = True

    def __init__(self, secret_key: str, *, secure: bool = False):
        self._signer = URLSafeTimedSerializer(secret_key, salt="tq-session")
        self.secure = secure
        # Ready before the first login, without holding up the start (argon2: ~0.3 s).
        threading.Thread(target=accounts.dummy_hash, daemon=True).start()

    def _token(self, request: Request) -> str | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            token = self._signer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None

    def cached_user(self, request: Request) -> User | None:
        """The user this request's session was already found to belong to (require_session)."""
        return getattr(request.state, "user", None)

    def cached_user_id(self, request: Request) -> int | None:
        user = getattr(request.state, "user", None)
        return None if user is None else user.id

    def current_user(self, request: Request, session: Session) -> User | None:
        cached = getattr(request.state, "user", None)
        if cached is not None:
            return cached
        token = self._token(request)
        if token is None:
            return None
        user = accounts.session_user(session, token, request.app.state.clock())
        if user is not None:
            request.state.user = user
        return user

    def login(self, response: Response, user: User, session: Session, now: datetime) -> None:
        token = accounts.start_session(session, user, now)
        response.set_cookie(
            SESSION_COOKIE,
            self._signer.dumps(token),
            max_age=SESSION_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def logout(self, request: Request, response: Response, session: Session) -> None:
        token = self._token(request)
        if token is not None:
            accounts.end_session(session, token)
        response.delete_cookie(SESSION_COOKIE, path="/")

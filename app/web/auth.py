"""Who is asking.

Local mode (the default on an embedded database): one implicit user, no login.
Accounts mode (``TQ_AUTH_ENABLED=true``, always in the Docker image): a signed, HttpOnly session
cookie carrying the user id and the user's session version.
"""

from __future__ import annotations

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from app import accounts
from app.models import User
from app.services import ensure_local_user

SESSION_COOKIE = "tq_session"
SESSION_MAX_AGE = 30 * 24 * 3600


class LocalAuth:
    """Single-user mode on an embedded database: every request is the local user."""

    enabled = False

    def __init__(self) -> None:
        self._fields: dict | None = None

    def current_user(self, request: Request, session: Session) -> User | None:
        # The local user never changes, so it is read once; each request gets a fresh copy that
        # belongs to no session. (A row loaded by one request's session expires when that
        # session rolls back, a review retry, and must never be read from another request.)
        if self._fields is None:
            self._fields = ensure_local_user(session).model_dump()
        return User(**self._fields)


class SessionAuth:
    enabled = True

    def __init__(self, secret_key: str, *, secure: bool = False):
        self._signer = URLSafeTimedSerializer(secret_key, salt="tq-session")
        self.secure = secure

    def current_user(self, request: Request, session: Session) -> User | None:
        cached = getattr(request.state, "user", None)
        if cached is not None:
            return cached
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        user = accounts.get_user(session, int(data.get("uid", 0)))
        if user is None or user.session_version != data.get("v"):
            return None
        request.state.user = user
        return user

    def login(self, response: Response, user: User) -> None:
        token = self._signer.dumps({"uid": user.id, "v": user.session_version})
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=SESSION_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def logout(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

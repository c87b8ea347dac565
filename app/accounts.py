"""Accounts for study-group mode: registration, passwords, login throttling, invites, admin.

Passwords are hashed with argon2 (pwdlib). Failed logins are counted in the database, so the
throttle holds across uvicorn workers.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.models import AppSetting, Invite, LoginAttempt, User

hasher = PasswordHash.recommended()
# A real hash to verify against when the user does not exist, so both paths take as long.
_DUMMY_HASH = hasher.hash("not-a-real-password")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
MIN_PASSWORD = 8
THROTTLE_FAILS = 5
THROTTLE_WINDOW = timedelta(minutes=15)


class AccountError(ValueError):
    """A user-facing reason (shown on the form)."""


class Throttled(AccountError):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after // 60 + 1} minutes")


@dataclass(frozen=True)
class RegistrationPolicy:
    mode: str  # "invite" or "open"
    invite_code: str | None  # an organiser's standing code from settings (optional)
    admin_username: str | None


def _validate(username: str, password: str) -> None:
    if not USERNAME_RE.match(username):
        raise AccountError("username: 3-32 letters, digits, '_', '.' or '-'")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise AccountError("password: at most 256 characters")


def user_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def register(
    session: Session, username: str, password: str, invite: str | None, policy: RegistrationPolicy
) -> User:
    """Create an account. The first account, or the one named by settings, is an admin; the
    first account needs no invite (somebody has to be able to start the group)."""
    username = username.strip()
    _validate(username, password)
    first = user_count(session) == 0
    if policy.mode != "open" and not first:
        _use_invite(session, (invite or "").strip(), policy)
    user = User(
        username=username,
        password_hash=hasher.hash(password),
        is_admin=first or (policy.admin_username is not None and username == policy.admin_username),
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError("that username is taken") from None
    session.refresh(user)
    return user


def _use_invite(session: Session, code: str, policy: RegistrationPolicy) -> None:
    if not code:
        raise AccountError("an invite code is required")
    if policy.invite_code and secrets.compare_digest(code, policy.invite_code):
        return
    res = session.exec(
        update(Invite)
        .where(Invite.code == code, Invite.revoked.is_(False), Invite.uses < Invite.max_uses)  # type: ignore[attr-defined]
        .values(uses=Invite.uses + 1)
    )
    if res.rowcount != 1:
        session.rollback()
        raise AccountError("that invite code is not valid (or has been used up)")


def failures(session: Session, username: str, now: datetime) -> list[datetime]:
    rows = session.exec(
        select(LoginAttempt.at).where(
            LoginAttempt.username == username.lower(), LoginAttempt.at > now - THROTTLE_WINDOW
        )
    ).all()
    return sorted(rows)


def authenticate(session: Session, username: str, password: str, ip: str, now: datetime) -> User:
    """The user, or AccountError. After THROTTLE_FAILS failures within THROTTLE_WINDOW the
    username is locked until the oldest of them ages out, whatever password is tried."""
    key = username.strip().lower()
    recent = failures(session, key, now)
    if len(recent) >= THROTTLE_FAILS:
        retry = recent[-THROTTLE_FAILS] + THROTTLE_WINDOW - now
        raise Throttled(max(1, int(retry.total_seconds())))
    user = session.exec(select(User).where(func.lower(User.username) == key)).first()
    ok = hasher.verify(password, user.password_hash if user and user.password_hash else _DUMMY_HASH)
    if not ok or user is None or user.password_hash is None:
        session.add(LoginAttempt(username=key, ip=ip[:64], at=now))
        session.commit()
        raise AccountError("wrong username or password")
    session.exec(delete(LoginAttempt).where(LoginAttempt.username == key))
    session.commit()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    _validate(user.username, password)
    user.password_hash = hasher.hash(password)
    user.session_version += 1  # log out every other session
    session.add(user)
    session.commit()


def reset_password(session: Session, user_id: int) -> tuple[User, str]:
    """Admin action: a fresh temporary password, shown once to the admin."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("no such member")
    temp = secrets.token_urlsafe(9)
    set_password(session, user, temp)
    return user, temp


def create_invite(session: Session, admin: User, max_uses: int = 1) -> Invite:
    inv = Invite(
        code=secrets.token_urlsafe(8), max_uses=max(1, min(max_uses, 1000)), created_by=admin.id
    )
    session.add(inv)
    session.commit()
    session.refresh(inv)
    return inv


def revoke_invite(session: Session, invite_id: int) -> None:
    session.exec(update(Invite).where(Invite.id == invite_id).values(revoked=True))
    session.commit()


def list_invites(session: Session) -> list[Invite]:
    return list(session.exec(select(Invite).order_by(Invite.id.desc())).all())  # type: ignore[union-attr]


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.id)).all())


def get_flag(session: Session, key: str, default: bool = False) -> bool:
    row = session.get(AppSetting, key)
    return default if row is None else row.value == "1"


def set_flag(session: Session, key: str, value: bool) -> None:
    row = session.get(AppSetting, key) or AppSetting(key=key, value="0")
    row.value = "1" if value else "0"
    session.add(row)
    session.commit()

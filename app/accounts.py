"""Accounts for study-group mode: registration, passwords, login throttling, sessions, invites,
admin.

Passwords are hashed with argon2 (pwdlib). Login attempts are counted in the database, so the
throttle holds across uvicorn workers; sessions live in the database too, so logging out ends
them on the server, not only in the browser.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from app.db import write_turn
from app.models import AppSetting, Invite, LoginAttempt, User, UserSession

hasher = PasswordHash.recommended()


@functools.cache
def dummy_hash() -> str:
    """A real hash to verify against when the user does not exist, so both paths take as long.
    Made on first use, not at import: argon2 takes a few hundred ms, on every start, in local
    mode too (SessionAuth makes it in the background when accounts are on)."""
    return hasher.hash("not-a-real-password")


# Checked on the canonical form (see canonical_username): lower-case ASCII only.
USERNAME_RE = re.compile(r"[a-z0-9_.-]{3,32}")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
# Failed logins allowed per username, and per client address across all usernames (a classroom
# behind one NAT address shares the second), within the window.
THROTTLE_FAILS = 5
IP_THROTTLE_FAILS = 20
THROTTLE_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=30)
FIRST_ADMIN = "first_admin"  # app_setting key: whoever inserts it first is the first admin


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


def canonical_username(raw: str) -> str:
    """The one form of a username: what is stored, what is unique (the database checks that
    ``username = lower(username)``), what a login and the throttle look up. "Zed", " zed" and
    "ZED" are one name."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


# Passwords people choose first (from the published most-common-password lists; only those of 8+
# characters matter here, shorter ones fail the length rule). NIST SP 800-63B §5.1.1.2: refuse
# passwords from such lists, repetitive or sequential ones, and context words.
_COMMON = """
    password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword
    12345678 123456789 1234567890 0123456789 87654321 987654321 11111111 00000000 12121212
    11223344 12341234 123123123 1234512345 12344321 88888888 99999999 66666666 55555555
    qwertyui qwertyuiop qwerty12 qwerty123 qwerty1234 qwertz123 1q2w3e4r 1q2w3e4r5t 1qaz2wsx
    zaq12wsx q1w2e3r4 q1w2e3r4t5 qazwsxedc 1qazxsw2 12qwaszx asdfghjk asdfghjkl zxcvbnm1
    zxcvbnm123 1234qwer qwer1234 abc12345 abcd1234 abcdefgh a1b2c3d4 aa123456 123456789a
    iloveyou iloveyou1 iloveyou2 sunshine sunshine1 princess princess1 football football1
    baseball baseball1 basketball superman superman1 batman123 starwars whatever trustno1
    welcome1 welcome123 letmein1 letmein123 changeme changeme1 default1 administrator
    admin123 admin1234 administrator1 rootroot test1234 testtest testing1 passpass
    computer internet michelle jennifer jessica1 michael1 charlie1 jordan23 samantha
    chocolate butterfly liverpool arsenal1 chelsea1 mercedes corvette ferrari1 dragon12
    monkey123 shadow12 master12 freedom1 maverick hello123 helloworld secret123 qwerty11
    11111111a 1234567a 12345678a 123qweasd qweasdzxc football12 blink182 pokemon1 minecraft
    elephant diamond1 anthony1 benjamin jonathan nicholas victoria danielle1 beautiful
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())
_SERVICE_WORDS = ("transformer", "transformer-quiz", "transformerquiz", "quiz")


def password_problem(username: str, password: str) -> str | None:
    """Why ``password`` will not do for ``username``, or None. Length counts characters as
    typed; the list checks compare a normalised, case-folded form."""
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password: at most {MAX_PASSWORD} characters"
    folded = unicodedata.normalize("NFKC", password).casefold()
    if not folded.strip():
        return "password: not only spaces"
    squeezed = "".join(folded.split())
    if folded in COMMON_PASSWORDS or squeezed in COMMON_PASSWORDS:
        return "password: that is one of the most common passwords; choose another"
    if len(set(squeezed)) < 3 or _sequential(squeezed):
        return "password: too predictable (repeated or sequential characters)"
    name = canonical_username(username)
    if (len(name) >= 3 and name in folded) or squeezed in _SERVICE_WORDS:
        return "password: must not contain your username or this site's name"
    return None


def _sequential(s: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in zip(s, s[1:], strict=False)}
    return steps in ({1}, {-1})


def _validate(username: str, password: str) -> None:
    if not USERNAME_RE.fullmatch(username):
        raise AccountError("username: 3-32 letters, digits, '_', '.' or '-'")
    problem = password_problem(username, password)
    if problem:
        raise AccountError(problem)


def user_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == canonical_username(username))).first()


def register(
    session: Session, username: str, password: str, invite: str | None, policy: RegistrationPolicy
) -> User:
    """Create an account. The first account, or the one named by settings, is an admin; the
    first account needs no invite (somebody has to be able to start the group).

    "First" is decided by the database, not by counting: the first registrant inserts the
    ``first_admin`` row, a primary key, in the same transaction as their account. Parallel
    registrations on an empty database all count zero users; only one of them can insert it."""
    username = canonical_username(username)
    _validate(username, password)
    password_hash = hasher.hash(password)  # ~100 ms: outside any lock or transaction
    named_admin = policy.admin_username is not None and (
        username == canonical_username(policy.admin_username)
    )
    for _attempt in range(5):
        try:
            with write_turn(session):
                return _register_once(session, username, password_hash, invite, policy, named_admin)
        except OperationalError:  # SQLite: another process held the write lock too long
            session.rollback()
    raise AccountError("the server is busy; try again")


def _register_once(
    session: Session,
    username: str,
    password_hash: str,
    invite: str | None,
    policy: RegistrationPolicy,
    named_admin: bool,
) -> User:
    first = False
    if user_count(session) == 0:
        session.add(AppSetting(key=FIRST_ADMIN, value=username))
        try:
            session.flush()
            first = True
        except IntegrityError:  # somebody else became the first admin a moment ago
            session.rollback()
    if policy.mode != "open" and not first:
        _use_invite(session, (invite or "").strip(), policy)
    user = User(username=username, password_hash=password_hash, is_admin=first or named_admin)
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
    if policy.invite_code and secrets.compare_digest(
        code.encode("utf-8", "surrogatepass"), policy.invite_code.encode("utf-8", "surrogatepass")
    ):
        return
    res = session.exec(
        update(Invite)
        .where(Invite.code == code, Invite.revoked.is_(False), Invite.uses < Invite.max_uses)  # type: ignore[attr-defined]
        .values(uses=Invite.uses + 1)
    )
    if res.rowcount != 1:
        session.rollback()
        raise AccountError("that invite code is not valid (or has been used up)")


# ---- login throttle --------------------------------------------------------------------------


def _claim_attempt(session: Session, key: str, ip: str, now: datetime) -> LoginAttempt:
    """Record this attempt *before* the password is checked, then count.

    The row is committed first and the counts read after, so every attempt sees at least all
    those committed before it: of N parallel attempts, the k-th to commit counts at least k, and
    no more than THROTTLE_FAILS of them can pass, on SQLite and on PostgreSQL alike, with no lock
    held while argon2 runs. A refused attempt removes its row (a flood does not lengthen the
    lock or grow the table); a checked one stays as a failure unless the password was right.
    Rows older than the window are purged on the way."""
    since = now - THROTTLE_WINDOW
    attempt = LoginAttempt(username=key, ip=ip, at=now)
    with write_turn(session):
        session.exec(delete(LoginAttempt).where(LoginAttempt.at <= since))
        session.add(attempt)
        session.commit()
    rows = session.exec(
        select(LoginAttempt.id, LoginAttempt.username, LoginAttempt.ip, LoginAttempt.at).where(
            LoginAttempt.at > since, or_(LoginAttempt.username == key, LoginAttempt.ip == ip)
        )
    ).all()
    by_name = sorted(at for id_, u, _, at in rows if u == key and id_ != attempt.id)
    by_ip = sorted(at for id_, _, a, at in rows if a == ip and id_ != attempt.id)
    blocking = [
        recent[-limit]
        for recent, limit in ((by_name, THROTTLE_FAILS), (by_ip, IP_THROTTLE_FAILS))
        if len(recent) >= limit
    ]
    if blocking:
        with write_turn(session):
            session.exec(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
            session.commit()
        retry = max(blocking) + THROTTLE_WINDOW - now
        raise Throttled(max(1, int(retry.total_seconds())))
    return attempt


def authenticate(session: Session, username: str, password: str, ip: str, now: datetime) -> User:
    """The user, or AccountError. After THROTTLE_FAILS failed logins for a username (or
    IP_THROTTLE_FAILS from one address) within THROTTLE_WINDOW, further attempts are refused
    unchecked until the oldest of them ages out, whatever password is tried."""
    key = canonical_username(username)[:64]
    ip = ip[:64]
    attempt = _claim_attempt(session, key, ip, now)
    user = session.exec(select(User).where(User.username == key)).first()
    too_long = len(password) > MAX_PASSWORD  # never hash an arbitrarily long input
    stored = user.password_hash if user and user.password_hash else dummy_hash()
    ok = hasher.verify(password[:MAX_PASSWORD], stored) and not too_long
    if not ok or user is None or user.password_hash is None:
        raise AccountError("wrong username or password")  # the attempt stays, as a failure
    # Right password: forget this attempt and this address's earlier ones for the name (the
    # member's own typos), but not failures from elsewhere: a member logging in must not hand
    # an attacker a fresh allowance.
    with write_turn(session):
        session.exec(
            delete(LoginAttempt).where(
                or_(
                    LoginAttempt.id == attempt.id,
                    (LoginAttempt.username == key) & (LoginAttempt.ip == ip),
                )
            )
        )
        session.commit()
    return user


# ---- sessions --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> str:
    """A new server-side session for ``user``; returns the secret token for the cookie (only its
    hash is stored). Expired sessions are purged on the way."""
    token = secrets.token_urlsafe(32)
    with write_turn(session):
        session.exec(delete(UserSession).where(UserSession.expires_at <= now))
        session.add(
            UserSession(
                user_id=user.id,
                token_hash=_token_hash(token),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        session.commit()
    return token


def session_user(session: Session, token: str, now: datetime) -> User | None:
    """The user a live session token belongs to (one query), or None."""
    return session.exec(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)  # type: ignore[arg-type]
        .where(UserSession.token_hash == _token_hash(token), UserSession.expires_at > now)
    ).first()


def end_session(session: Session, token: str) -> None:
    with write_turn(session):
        session.exec(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))
        session.commit()


def end_all_sessions(session: Session, user_id: int) -> None:
    """Log a user out everywhere: every browser holding one of their cookies."""
    with write_turn(session):
        session.exec(delete(UserSession).where(UserSession.user_id == user_id))
        session.commit()


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every session of the user ends (the caller may start a new one)."""
    _validate(user.username, password)
    user.password_hash = hasher.hash(password)
    session.add(user)
    session.exec(delete(UserSession).where(UserSession.user_id == user.id))
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

"""Account pages (study-group mode): login, register, logout, own account, admin, group view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from app import accounts, group
from app.accounts import AccountError, RegistrationPolicy, Throttled
from app.models import User
from app.web.deps import BankDep, LangDep, NowDep, SessionDep, SettingsDep, UserDep
from app.web.pages import _safe_next, render
from app.web.schemas import errors
from app.web.security import csrf_protect, json_only

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
api = APIRouter(
    prefix="/api",
    tags=["accounts"],
    dependencies=[Depends(json_only)],
    responses=errors(400, 403, 404, 413, 415),
)

LEADERBOARD = "leaderboard_enabled"


def _auth(request: Request):
    auth = request.app.state.auth
    if not auth.enabled:
        # Local mode has no accounts: these pages do not exist.
        raise HTTPException(404, "accounts are off (TQ_AUTH_ENABLED=false)")
    return auth


def _policy(settings) -> RegistrationPolicy:
    return RegistrationPolicy(settings.registration, settings.invite_code, settings.admin_username)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def require_admin(user: UserDep) -> User:
    if not user.is_admin:
        raise HTTPException(404, "not found")  # members do not learn the admin pages exist
    return user


AdminDep = Annotated[User, Depends(require_admin)]


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, lang: LangDep, settings: SettingsDep, next: str | None = None):
    _auth(request)
    return render(
        request,
        "login.html",
        lang,
        next=_safe_next(next),
        error=None,
        registration=settings.registration,
    )


# The forms' fields carry no length limits of their own: a field too long is a reason shown on
# the form by accounts (a 257-character password), not a JSON 422. The request body limit caps
# them all.
class LoginForm(BaseModel):
    username: str
    password: str
    next: str | None = None


class RegisterForm(BaseModel):
    username: str
    password: str
    invite: str | None = None


class PasswordForm(BaseModel):
    current: str
    new: str


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
):
    auth = _auth(request)
    try:
        user = accounts.authenticate(
            session, form.username, form.password, _client_ip(request), now
        )
    except AccountError as e:
        status = 429 if isinstance(e, Throttled) else 401
        resp = render(
            request,
            "login.html",
            lang,
            next=_safe_next(form.next),
            error=str(e),
            registration=settings.registration,
            status_code=status,
        )
        if isinstance(e, Throttled):
            resp.headers["Retry-After"] = str(e.retry_after)
        return resp
    resp = RedirectResponse(_safe_next(form.next), status_code=303)
    auth.login(resp, user, session, now)
    return resp


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> RedirectResponse:
    """End this browser's session on the server (a copy of its cookie dies with it)."""
    resp = RedirectResponse("/login", status_code=303)
    _auth(request).logout(request, resp, session)
    return resp


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, session: SessionDep, user: UserDep) -> RedirectResponse:
    """End every session of this user, on every device, this one included."""
    auth = _auth(request)
    accounts.end_all_sessions(session, user.id)
    resp = RedirectResponse("/login", status_code=303)
    auth.logout(request, resp, session)
    return resp


@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request,
    session: SessionDep,
    lang: LangDep,
    settings: SettingsDep,
    invite: str | None = None,
):
    _auth(request)
    return render(
        request,
        "register.html",
        lang,
        error=None,
        invite=invite or "",
        needs_invite=settings.registration != "open" and accounts.user_count(session) > 0,
    )


@router.post("/register", response_class=HTMLResponse)
def register(
    request: Request,
    session: SessionDep,
    lang: LangDep,
    settings: SettingsDep,
    now: NowDep,
    form: Annotated[RegisterForm, Form()],
):
    auth = _auth(request)
    invite = (form.invite or "")[:64]
    try:
        user = accounts.register(session, form.username, form.password, invite, _policy(settings))
    except AccountError as e:
        return render(
            request,
            "register.html",
            lang,
            error=str(e),
            invite=invite,
            needs_invite=settings.registration != "open",
            status_code=400,
        )
    resp = RedirectResponse("/", status_code=303)
    auth.login(resp, user, session, now)
    return resp


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: UserDep, lang: LangDep, msg: str | None = None):
    _auth(request)
    return render(request, "account.html", lang, user=user, msg=msg, error=None)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    user: UserDep,
    lang: LangDep,
    now: NowDep,
    form: Annotated[PasswordForm, Form()],
):
    auth = _auth(request)
    try:
        accounts.authenticate(session, user.username, form.current, _client_ip(request), now)
        accounts.set_password(session, user, form.new)  # ends every session of the user
    except AccountError as e:
        return render(
            request, "account.html", lang, user=user, msg=None, error=str(e), status_code=400
        )
    resp = RedirectResponse("/account?msg=password", status_code=303)
    auth.login(resp, user, session, now)  # a fresh session for this browser only
    return resp


@router.post("/account/leaderboard")
def leaderboard_opt(
    request: Request,
    session: SessionDep,
    user: UserDep,
    show: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    _auth(request)
    user.show_on_leaderboard = show
    session.add(user)
    session.commit()
    return RedirectResponse("/account?msg=saved", status_code=303)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    lang: LangDep,
    temp: str | None = None,
    who: str | None = None,
):
    _auth(request)
    return render(
        request,
        "admin.html",
        lang,
        users=accounts.list_users(session),
        invites=accounts.list_invites(session),
        temp=temp,
        who=who,
        leaderboard=accounts.get_flag(session, LEADERBOARD),
        me=admin,
    )


@router.post("/admin/invites")
def admin_invite(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    max_uses: Annotated[int, Form(ge=1, le=1000)] = 1,
) -> RedirectResponse:
    _auth(request)
    accounts.create_invite(session, admin, max_uses)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/invites/{invite_id}/revoke")
def admin_revoke(
    request: Request, invite_id: int, session: SessionDep, admin: AdminDep
) -> RedirectResponse:
    _auth(request)
    accounts.revoke_invite(session, invite_id)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{user_id}/reset-password", response_class=HTMLResponse)
def admin_reset(
    request: Request, user_id: int, session: SessionDep, admin: AdminDep, lang: LangDep
):
    _auth(request)
    try:
        member, temp = accounts.reset_password(session, user_id)
    except AccountError:
        raise HTTPException(404, "no such member") from None
    # Shown once, on this response only (not in a URL that lands in logs or history).
    return render(
        request,
        "admin.html",
        lang,
        users=accounts.list_users(session),
        invites=accounts.list_invites(session),
        temp=temp,
        who=member.username,
        leaderboard=accounts.get_flag(session, LEADERBOARD),
        me=admin,
    )


@router.post("/admin/leaderboard")
def admin_leaderboard(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    enabled: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    _auth(request)
    accounts.set_flag(session, LEADERBOARD, enabled)
    return RedirectResponse("/admin", status_code=303)


@router.get("/group", response_class=HTMLResponse)
def group_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    bank: BankDep,
    now: NowDep,
    lang: LangDep,
):
    _auth(request)
    enabled = accounts.get_flag(session, LEADERBOARD)
    board = group.leaderboard(session, bank, now) if enabled else []
    weak = group.weakest_topics(session, bank, now)
    return render(
        request, "group.html", lang, enabled=enabled, board=board, weak=weak, me=user, bank=bank
    )


# ---- JSON ----------------------------------------------------------------------------------


class LoginIn(BaseModel):
    username: str = Field(max_length=256)
    password: str = Field(max_length=4096)


class MeOut(BaseModel):
    id: int
    username: str
    is_admin: bool


@api.post("/session", response_model=MeOut, responses=errors(401, 429))
def api_login(body: LoginIn, request: Request, session: SessionDep, now: NowDep):
    """Log in for API use: sets the same session cookie the pages use."""
    auth = _auth(request)
    try:
        user = accounts.authenticate(
            session, body.username, body.password, _client_ip(request), now
        )
    except Throttled as e:
        raise HTTPException(429, str(e), headers={"Retry-After": str(e.retry_after)}) from None
    except AccountError as e:
        raise HTTPException(401, str(e)) from None
    resp = JSONResponse(
        MeOut(id=user.id, username=user.username, is_admin=user.is_admin).model_dump()
    )
    auth.login(resp, user, session, now)
    return resp


@api.get("/me", response_model=MeOut, responses=errors(401))
def me(user: UserDep) -> MeOut:
    return MeOut(id=user.id, username=user.username, is_admin=user.is_admin)

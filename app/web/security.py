"""CSRF protection and security headers.

CSRF: a random token lives in a cookie; every form a page renders carries it in a hidden field
(``{{ csrf_input() }}``), and every POST to the pages must echo it. The JSON API takes only
``application/json`` bodies, which a foreign site cannot send without a CORS preflight.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from jinja2 import pass_context
from markupsafe import Markup, escape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "tq_csrf"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def csrf_token(request: Request) -> str:
    # The middleware mints a token for a browser that has none yet, and sets it as a cookie.
    return getattr(request.state, "csrf_token", None) or request.cookies.get(CSRF_COOKIE, "")


@pass_context
def csrf_input(context) -> Markup:
    token = csrf_token(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


async def csrf_protect(request: Request) -> None:
    """Router dependency for the pages: unsafe methods must carry the cookie's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(FORM_TYPES):
            sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


async def json_only(request: Request) -> None:
    """Router dependency for the API: a body that is not JSON is refused (no cross-site forms)."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(FORM_TYPES):
            raise HTTPException(415, "the API takes application/json bodies")


class SecurityMiddleware:
    """Sets the CSRF cookie when missing, security headers on every response, and refuses
    request bodies over ``max_body`` bytes."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool = False, max_body: int = 1 << 20):
        self.app = app
        self.secure = secure_cookies
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _plain(send, 413, b"request body too large")
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, "request body too large")
            return msg

        state = scope.setdefault("state", {})
        new_token = None
        if CSRF_COOKIE.encode() + b"=" not in headers.get(b"cookie", b""):
            new_token = state["csrf_token"] = secrets.token_urlsafe(32)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = list(message.get("headers", []))
                h += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (
                        b"content-security-policy",
                        (DOCS_CSP if scope["path"] == "/docs" else CSP_BYTES),
                    ),
                ]
                if new_token:
                    attrs = "; Path=/; SameSite=Lax; HttpOnly" + ("; Secure" if self.secure else "")
                    h.append((b"set-cookie", f"{CSRF_COOKIE}={new_token}{attrs}".encode()))
                message["headers"] = h
            await send(message)

        await self.app(scope, limited_receive, send_wrapper)


# Only our own origin: the vendored scripts, styles and KaTeX fonts. Inline style attributes are
# allowed because KaTeX positions glyphs with them; inline scripts are not.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

# Swagger UI boots from one inline script; only the API docs page allows that.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").encode()
CSP_BYTES = CSP.encode()


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})

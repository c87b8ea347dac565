"""CSRF protection and security headers.

Two layers, both for every unsafe method (anything but GET, HEAD, OPTIONS):

1. Where the request comes from. A browser says it: ``Sec-Fetch-Site`` (modern browsers), else
   ``Origin``. Anything but our own origin (or a navigation the user typed) is refused before it
   reaches a route, pages and API alike. "Same-site" is refused too: a page on another port of
   the same host is same-site, and cookies do not tell ports apart.
2. What the request carries. Pages: a random token lives in a cookie and every form echoes it
   (``{{ csrf_input() }}``). API: a body declared ``application/json``, or the same token in the
   ``X-CSRF-Token`` header; either one forces a CORS preflight on another origin, which fails.
   A body-less ``fetch(url, {method: "POST", mode: "no-cors"})`` carries neither.
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
CSRF_HEADER = "x-csrf-token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of a request our own pages (or the user, typing a URL) made.
OWN_SITES = (b"same-origin", b"none")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def csrf_token(request: Request) -> str:
    # The middleware mints a token for a browser that has none yet, and sets it as a cookie.
    return getattr(request.state, "csrf_token", None) or request.cookies.get(CSRF_COOKIE, "")


@pass_context
def csrf_input(context) -> Markup:
    token = csrf_token(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


def token_matches(cookie: str, sent: str) -> bool:
    """Constant-time comparison of two tokens of any characters (``hmac.compare_digest`` refuses
    a ``str`` that is not ASCII, so both are compared as bytes)."""
    if not cookie or not sent:
        return False
    return hmac.compare_digest(
        cookie.encode("utf-8", "surrogatepass"), sent.encode("utf-8", "surrogatepass")
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def csrf_protect(request: Request) -> None:
    """Router dependency for the pages: unsafe methods must carry the cookie's token."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and _media_type(request) in FORM_TYPES:
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not token_matches(cookie, sent):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


async def json_only(request: Request) -> None:
    """Router dependency for the API: an unsafe method needs an ``application/json`` body or the
    CSRF header; a form body is refused outright (the API never reads one)."""
    if request.method in SAFE_METHODS:
        return
    ctype = _media_type(request)
    if ctype in FORM_TYPES:
        raise HTTPException(415, "the API takes application/json bodies")
    sent = request.headers.get(CSRF_HEADER)
    if sent is not None:
        if not token_matches(request.cookies.get(CSRF_COOKIE, ""), sent):
            raise HTTPException(403, "X-CSRF-Token does not match the tq_csrf cookie")
        return
    if ctype != "application/json":
        raise HTTPException(403, "send Content-Type: application/json (or the X-CSRF-Token header)")


def from_elsewhere(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """Whether the browser says this request was made by a page that is not ours.

    ``Sec-Fetch-Site`` decides when present (browsers set it and pages cannot). Otherwise the
    ``Origin``, compared with the ``Host`` the request was sent to. Neither header: not a
    browser's cross-site request (a script or curl), and the token / JSON rule still applies."""
    site = headers.get(b"sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in OWN_SITES
    origin = headers.get(b"origin")
    if origin is None:
        return False
    scheme, sep, netloc = origin.decode("latin-1").strip().lower().partition("://")
    if not sep or not netloc or "/" in netloc:
        return True  # "null" (sandboxed frames, file: pages) or garbage
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default:
        netloc = netloc.removesuffix(":" + default)
        host = host.removesuffix(":" + default)
    return netloc != host


# Routes whose body is a file a member uploads (a progress export: a year of study is ~6 MB),
# allowed ``max_import`` bytes instead of ``max_body``.
UPLOAD_PATHS = frozenset({"/import"})


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    """Answer as the app's own error handlers would: a page in the reader's language for a
    browser, JSON for the API and scripts (never a bare text body)."""
    from app.web.errors import http_error  # errors imports the pages' templates: at use

    response = await http_error(Request(scope, receive), HTTPException(status, detail))
    await response(scope, receive, send)


class SecurityMiddleware:
    """Sets the CSRF cookie when missing, security headers on every response, and refuses
    request bodies over ``max_body`` bytes (``max_import`` for an upload route)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        secure_cookies: bool = False,
        max_body: int = 1 << 20,
        max_import: int = 32 << 20,
    ):
        self.app = app
        self.secure = secure_cookies
        self.max_body = max_body
        self.max_import = max(max_import, max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
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

        if scope["method"] not in SAFE_METHODS and from_elsewhere(scope, headers):
            await _refuse(scope, receive, send_wrapper, 403, "cross-site request refused")
            return
        limit = self.max_import if scope["path"] in UPLOAD_PATHS else self.max_body
        length = headers.get(b"content-length")
        # bytes.isdigit() is ASCII-only; more than 18 digits is over any limit (and int() of
        # thousands of digits raises).
        if length is not None and length.isdigit() and (len(length) > 18 or int(length) > limit):
            await _refuse(scope, receive, send_wrapper, 413, "request body too large")
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise HTTPException(413, "request body too large")
            return msg

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

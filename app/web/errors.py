"""Error responses a person can read: a browser asking for a page gets ``templates/error.html``
in the site's layout and language; ``/api`` and every non-browser client keep the JSON body."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.web.deps import get_lang
from app.web.schemas import validation_error_handler, validation_errors

log = logging.getLogger("transformer_quiz")


def wants_html(request: Request) -> bool:
    """A browser navigating (or htmx swapping) to a page, not a script or the API."""
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or request.headers.get("hx-request") == "true"


def _field(loc: list) -> str:
    # ("query", "ids") -> "ids"; the first element only says where the value came from.
    parts = [str(p) for p in loc[1:] if p != "body"] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts)


async def error_page(
    request: Request, status: int, problems: list[str] | None = None, headers=None
) -> Response:
    from app.web.pages import render  # pages imports the templates; import at use, not cycle

    lang = await get_lang(request)
    resp = render(request, "error.html", lang, status_code=status, status=status, problems=problems)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not wants_html(request) or not is_body_allowed_for_status_code(exc.status_code):
        if not is_body_allowed_for_status_code(exc.status_code):
            return Response(status_code=exc.status_code, headers=exc.headers)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    return await error_page(request, exc.status_code, headers=exc.headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    if not wants_html(request):
        return await validation_error_handler(request, exc)
    assert isinstance(exc, RequestValidationError)
    # Name the fields and the rule, never echo the input (as the JSON answer does).
    problems = [f"{_field(e['loc'])}: {e['msg']}" for e in validation_errors(exc.errors())]
    return await error_page(request, 422, problems)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if not wants_html(request):
        return JSONResponse({"detail": "internal server error"}, status_code=500)
    try:
        return await error_page(request, 500)
    except Exception:  # the page itself failed: plain text, never a second traceback
        return Response("internal server error", status_code=500, media_type="text/plain")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)

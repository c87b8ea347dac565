"""Error responses a person can read: a browser asking for a page gets ``templates/error.html``
in the site's layout and language; ``/api`` and every non-browser client keep the JSON body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.web.deps import get_lang
from app.web.i18n import translator
from app.web.schemas import validation_error_handler


def wants_html(request: Request) -> bool:
    """A browser navigating (or htmx swapping) to a page, not a script or the API."""
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or request.headers.get("hx-request") == "true"


def _field(loc) -> str:
    # ("query", "ids") -> "ids"; the first element only says where the value came from.
    parts = [str(p) for p in loc if p not in ("query", "body", "path", "form")]
    return ".".join(parts)


# pydantic's error types, said in the reader's language; the number or list comes from the
# rule (ctx), never from the input.
_BY_TYPE: dict[str, tuple[str, str | None]] = {
    "missing": ("v_missing", None),
    "int_parsing": ("v_int", None),
    "int_type": ("v_int", None),
    "int_from_float": ("v_int", None),
    "float_parsing": ("v_number", None),
    "float_type": ("v_number", None),
    "bool_parsing": ("v_bool", None),
    "bool_type": ("v_bool", None),
    "greater_than_equal": ("v_ge", "ge"),
    "greater_than": ("v_gt", "gt"),
    "less_than_equal": ("v_le", "le"),
    "less_than": ("v_lt", "lt"),
    "string_too_long": ("v_too_long", "max_length"),
    "too_long": ("v_too_many", "max_length"),
    "string_too_short": ("v_too_short", "min_length"),
    "string_pattern_mismatch": ("v_pattern", None),
    "literal_error": ("v_choice", "expected"),
    "enum": ("v_choice", "expected"),
    "datetime_parsing": ("v_datetime", None),
    "datetime_type": ("v_datetime", None),
    "timezone_aware": ("v_datetime", None),
}


def _message(e: dict, t) -> str:
    key, arg = _BY_TYPE.get(str(e.get("type", "")), ("v_invalid", None))
    ctx = e.get("ctx") or {}
    if arg and arg not in ctx:
        key, arg = "v_invalid", None
    text = t(key).replace("{n}", str(ctx[arg])) if arg else t(key)
    if e.get("allowed"):
        allowed = str(e["allowed"]).replace(" to ", " – ")
        text += "; " + t("v_allowed").replace("{n}", allowed)
    return text


def describe(errors, lang) -> list[str]:
    """Validation errors as sentences in ``lang``: "seconds: must be at most 900"."""
    t = translator(lang)
    out = []
    for e in errors:
        field, text = _field(e.get("loc", ())), _message(e, t)
        out.append(f"{field}: {text}" if field else text)
    return out


def localize(errors, lang) -> list[dict]:
    """The same, kept as ``{"loc", "msg"}`` items (the demo form lists them)."""
    t = translator(lang)
    return [{"loc": [_field(e.get("loc", ()))], "msg": _message(e, t)} for e in errors]


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
    problems = None
    if isinstance(exc.detail, list):  # a page form's validation errors (PageForm.parse)
        problems = describe([d for d in exc.detail if isinstance(d, dict)], await get_lang(request))
    return await error_page(request, exc.status_code, problems, headers=exc.headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    if not wants_html(request):
        return await validation_error_handler(request, exc)
    assert isinstance(exc, RequestValidationError)
    # Name the fields and the rule, never echo the input (as the JSON answer does).
    return await error_page(request, 422, describe(exc.errors(), await get_lang(request)))


async def server_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this answer, so the server logs its traceback.
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

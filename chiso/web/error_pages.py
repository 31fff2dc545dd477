"""How refusals and failures reach people: one page in the reader's language, or for the API
one JSON shape (`chiso.errors.ErrorBody`), whatever raised them.

`install_error_handlers(app)` maps every kind of error to a status by its type, never by
reading its message: a `UserError` carries its own status (domain refusals, permission
denied, a bad token, a missing CSRF token, an upload refused…); a malformed request is 422;
a unique-key race is 409; a database busy past its wait is 503; anything else is a bug,
logged, and answered 500 without a trace.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from chiso.db.engine import DatabaseNotMigrated
from chiso.errors import ERROR_RESPONSES, UserError
from chiso.web.deps import LoginRequired
from chiso.web.i18n import gettext_for
from chiso.web.templating import render

log = logging.getLogger("chiso.web")

ERROR_TITLES = {400: "The request is not valid", 401: "Please sign in",
                403: "You do not have permission for this", 404: "Page not found",
                405: "Method not allowed", 409: "Someone else changed this first",
                413: "File too large", 415: "This type of file is not accepted",
                422: "The request is not valid", 429: "Too many requests",
                500: "Something went wrong; the error has been logged",
                503: "The database is not ready"}

# The statuses every API route may answer with an `ErrorBody` (OpenAPI `responses=`).
API_ERROR_RESPONSES = {**ERROR_RESPONSES, 503: ERROR_RESPONSES[409]}

BUSY = UserError("Hệ thống đang bận ghi dữ liệu, vui lòng thử lại sau ít giây",
                 "the database is busy with another write; please try again in a few "
                 "seconds", status=503)
NOT_AUTHENTICATED = UserError("Cần đăng nhập hoặc mã truy cập (Authorization: Bearer …)",
                              "Not authenticated: sign in or send an API token", status=401)
OUT_OF_RANGE = UserError("Giá trị nằm ngoài phạm vi cho phép",
                         "a value is out of the allowed range")
RACE = UserError("Dữ liệu vừa được người khác thay đổi; hãy tải lại rồi thử lại",
                 "the data was just changed by someone else; reload and try again",
                 status=409)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    ).split(",")[0]


def error_page(request: Request, status: int, detail: str = "",
               title_en: str | None = None) -> Response:
    _ = gettext_for(getattr(request.state, "locale", "vi"))
    # No menu on error pages: they are drawn without the reader's rights (the request may
    # have failed before they were known), and a full menu would offer what they may not
    # open. The page links back to where the reader came from.
    title = _(title_en or ERROR_TITLES.get(status, "Error"))
    return render(request, "error.html", {"status": status, "title": title, "detail": detail,
                                          "nav_items": []}, status_code=status)


def user_error_response(request: Request, error: UserError) -> Response:
    """The one rendering of an error meant for people: `ErrorBody` JSON, or a page."""
    headers = getattr(error, "headers", None)
    if wants_json(request):
        return JSONResponse(jsonable_encoder(error.body()), status_code=error.status,
                            headers=headers)
    # A person reads the page in their language only (the API keeps both, in `detail`).
    response = error_page(request, error.status,
                          error.in_locale(getattr(request.state, "locale", "vi")))
    response.headers.update(headers or {})
    return response


def error_response(request: Request, status: int, detail: str = "") -> Response:
    """A friendly error page (or `ErrorBody` for the API) for `status`, with an optional
    bilingual "vi / en" detail; without one, the status's title says it all."""
    if detail:
        return user_error_response(request, UserError(detail, status=status))
    title = ERROR_TITLES.get(status, "Error")
    if wants_json(request):
        return user_error_response(request, UserError(gettext_for("vi")(title), title,
                                                      status=status))
    return error_page(request, status)


def login_required_response(request: Request) -> Response:
    """Pages send the reader to the sign-in form and back; the API answers 401."""
    if wants_json(request):
        response = user_error_response(request, NOT_AUTHENTICATED)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _invalid_fields(exc: RequestValidationError) -> tuple[str, str]:
    """One line per refused field (at most three), in each language, not pydantic's list."""
    vi, en = [], []
    for error in exc.errors()[:3]:
        name = ".".join(str(part) for part in error.get("loc", ())[1:]) or "?"
        vi.append(f"Tham số '{name}' không hợp lệ: {error.get('msg', '')}")
        en.append(f"invalid parameter '{name}': {error.get('msg', '')}")
    return "; ".join(vi), "; ".join(en)


class HttpRefusal(UserError):
    """A framework `HTTPException` (the 404 of an unknown path, a 405…) or a route's own,
    carried as a UserError so that it renders the same way, headers included."""

    def __init__(self, exc: StarletteHTTPException) -> None:
        detail = exc.detail
        data: dict[str, Any] = dict(detail) if isinstance(detail, dict) else {}
        text = detail if isinstance(detail, str) else str(data.pop("detail", ""))
        if text in ("Not Found", "Method Not Allowed", ERROR_TITLES.get(exc.status_code)):
            text = ""
        title = ERROR_TITLES.get(exc.status_code, "Error")
        vi, en = (text, None) if text else (gettext_for("vi")(title), title)
        super().__init__(vi, en, status=exc.status_code,
                         data={k: v for k, v in data.items() if k != "status"})
        self.headers = exc.headers


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods of the routes that own `path`: Starlette's 405 names only the first
    matching route's, while GET and POST of one path are often two routes (/api/values).
    Where templates overlap (/api/values/import and /api/values/{value_id}), the most
    specific one — fewest parameters — owns the path, as the API description says."""
    owners: dict[int, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        if route.path and route.methods and compile_path(route.path)[0].match(path):
            owners.setdefault(route.path.count("{"), set()).update(route.methods)
    return sorted(owners[min(owners)]) if owners else []


def _busy(exc: OperationalError) -> bool:
    """SQLite's lock wait ran out (another process held the write lock past busy_timeout)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        log.info("refused on %s (%s): %s", request.url.path, exc.status, exc.message)
        return user_error_response(request, exc)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        return login_required_response(request)

    @app.exception_handler(DatabaseNotMigrated)
    async def not_migrated(request: Request, exc: DatabaseNotMigrated) -> Response:
        return user_error_response(request, UserError(str(exc), status=503))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        refusal = HttpRefusal(exc)
        if exc.status_code == 405:
            refusal.headers = {"Allow": ", ".join(allowed_methods(app, request.url.path))}
        return user_error_response(request, refusal)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        vi, en = _invalid_fields(exc)
        return user_error_response(request, UserError(
            vi, en, issues=jsonable_encoder(exc.errors(), exclude={"ctx", "url", "input"})))

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError) -> Response:
        # Two requests created the same thing at once (a unique key): the later one is
        # told, as with a stale version, instead of seeing a crash.
        log.info("integrity conflict on %s: %s", request.url.path, exc.orig)
        return user_error_response(request, RACE)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        # e.g. an id beyond the database's integer range, typed into a URL: the input is
        # wrong, not the server.
        log.info("out-of-range input on %s: %s", request.url.path, exc)
        return user_error_response(request, OUT_OF_RANGE)

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError) -> Response:
        if not _busy(exc):
            return await crashed(request, exc)
        log.warning("database busy on %s: %s", request.url.path, exc.orig)
        response = user_error_response(request, BUSY)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # Never show a stack trace to users; the log keeps it.
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return error_response(request, 500)

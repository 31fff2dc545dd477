"""The FastAPI application: routers from each domain, error pages, locale, headers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso import __version__
from chiso.accounts.access import PermissionDenied
from chiso.boot import boot
from chiso.db.engine import DatabaseNotMigrated, ensure_migrated
from chiso.errors import UserError
from chiso.web.deps import BadToken, CsrfFailed, LoginRequired, request_locale
from chiso.web.i18n import gettext_for
from chiso.web.limits import UploadGuard
from chiso.web.routers import all_routers
from chiso.web.templating import render

log = logging.getLogger("chiso.web")
STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from this origin: charts and scripts ship inside the package.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    ),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    ).split(",")[0]


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # A server keeps the records key index (which months hold which dossiers) so each
    # incoming batch reads only the months it needs; built in the background.
    from chiso.records.keyindex import warm_in_background

    warm_in_background()
    yield


def create_app(*, check_migrations: bool = True) -> FastAPI:
    """Build the app. Refuses to start on an unmigrated database (say which command fixes it)."""
    boot()
    if check_migrations:
        ensure_migrated()
    app = FastAPI(
        lifespan=_lifespan,
        title="chiso",
        version=__version__,
        description="Chỉ số chuyển đổi số — digital-transformation steering committee API",
        docs_url="/docs",
        openapi_url="/api/openapi.json",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in all_routers():
        app.include_router(router)
    _install_middleware(app)
    app.add_middleware(UploadGuard)
    _install_error_handlers(app)
    return app


def _install_middleware(app: FastAPI) -> None:
    app.add_middleware(LocaleAndHeaders)


class LocaleAndHeaders:
    """Chooses the request's language (kept as a cookie when chosen with ?lang=) and adds
    the security headers to every response. A plain ASGI middleware: it runs on every
    request, and Starlette's `BaseHTTPMiddleware` costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        locale = request.state.locale = request_locale(request)
        remember = request.query_params.get("lang") == locale

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if remember:
                    headers.append("set-cookie", _locale_cookie(locale))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _locale_cookie(locale: str) -> str:
    carrier = Response()
    carrier.set_cookie("chiso_lang", locale, max_age=365 * 86400, samesite="lax")
    return carrier.headers["set-cookie"]


ERROR_TITLES = {400: "The request is not valid", 401: "Please sign in",
                403: "You do not have permission for this", 404: "Page not found",
                405: "Method not allowed", 409: "Someone else changed this first",
                413: "File too large", 415: "This type of file is not accepted",
                422: "The request is not valid", 429: "Too many requests",
                500: "Something went wrong; the error has been logged",
                503: "The database is not ready"}


def _error(request: Request, status: int, title_en: str, detail: str = "") -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail or title_en}, status_code=status)
    _ = gettext_for(getattr(request.state, "locale", "vi"))
    # No menu on error pages: they are drawn without the reader's rights (the request may
    # have failed before they were known), and a full menu would offer what they may not
    # open. The page links back to where the reader came from.
    return render(request, "error.html", {"status": status, "title": _(title_en),
                                          "detail": detail, "nav_items": []},
                  status_code=status)


def error_response(request: Request, status: int, detail: str = "") -> Response:
    """A friendly error page (or JSON for the API) for `status`, used outside handlers too."""
    return _error(request, status, ERROR_TITLES.get(status, "Error"), detail)


def _invalid_fields(exc: RequestValidationError) -> str:
    """One bilingual line per refused field (at most three), not pydantic's raw list."""
    lines = []
    for error in exc.errors()[:3]:
        name = ".".join(str(part) for part in error.get("loc", ())[1:]) or "?"
        lines.append(f"Tham số '{name}' không hợp lệ / invalid parameter '{name}': "
                     f"{error.get('msg', '')}")
    return "; ".join(lines)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(BadToken)
    async def bad_token(request: Request, _exc: BadToken) -> Response:
        return JSONResponse(
            {"detail": "Mã truy cập không hợp lệ, đã thu hồi hoặc hết hạn / "
                       "the API token is invalid, revoked or expired"},
            status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        return _error(request, 403, "The form has expired; reload the page and try again",
                      "Thiếu hoặc sai mã CSRF / missing or wrong CSRF token")

    @app.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> Response:
        return _error(request, 403, "You do not have permission for this", str(exc))

    @app.exception_handler(DatabaseNotMigrated)
    async def not_migrated(request: Request, exc: DatabaseNotMigrated) -> Response:
        return _error(request, 503, "The database is not ready", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) and not isinstance(exc.detail, str):
            # Structured details (e.g. a 409 with the current version) go to API callers.
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=exc.headers)
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if detail in (ERROR_TITLES.get(exc.status_code), "Not Found", "Method Not Allowed"):
            detail = ""
        response = error_response(request, exc.status_code, detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        return _error(request, 422, "The request is not valid", _invalid_fields(exc))

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError) -> Response:
        # Two requests created the same thing at once (a unique key): the later one is
        # told, as with a stale version, instead of seeing a crash.
        log.info("integrity conflict on %s: %s", request.url.path, exc.orig)
        return _error(request, 409, "Someone else changed this first",
                      "Dữ liệu vừa được người khác thay đổi; hãy tải lại rồi thử lại / the "
                      "data was just changed by someone else; reload and try again")

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        # e.g. an id beyond the database's integer range, typed into a URL: the input is
        # wrong, not the server.
        log.info("out-of-range input on %s: %s", request.url.path, exc)
        return _error(request, 422, "The request is not valid",
                      "Giá trị nằm ngoài phạm vi cho phép / a value is out of the allowed range")

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        # The one rendering of errors meant for people: a page, or `ErrorBody` as JSON.
        if _wants_json(request):
            return JSONResponse(jsonable_encoder(exc.body()), status_code=exc.status)
        log.info("refused on %s: %s", request.url.path, exc.message)
        return _error(request, exc.status, ERROR_TITLES.get(exc.status, "Error"), exc.message)

    @app.exception_handler(ValueError)
    async def refused_input(request: Request, exc: ValueError) -> Response:
        # By convention (CONVENTIONS.md) an error meant for users carries its message in
        # Vietnamese / English. Such an error escaping a route is still the user's input
        # being refused (422), not a crash; any other ValueError is a bug (500, logged).
        message = str(exc)
        if " / " not in message:
            return await crashed(request, exc)
        log.info("input refused on %s: %s", request.url.path, message)
        return _error(request, 422, "The request is not valid", message)

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError) -> Response:
        # Same convention: a bilingual "not found" (e.g. no unit with that code) is a 404.
        message = str(exc.args[0]) if exc.args else ""
        if " / " not in message:
            return await crashed(request, exc)
        return _error(request, 404, "Page not found", message)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # Never show a stack trace to users; the log keeps it.
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return _error(request, 500, "Something went wrong; the error has been logged")

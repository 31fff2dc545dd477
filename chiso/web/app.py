"""The FastAPI application: the boot step wires each domain's routers and menu entries;
here, the middleware (locale, security headers, upload limits) and the error handlers."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso import __version__
from chiso.analytics.resident import ResidentAnswers
from chiso.analytics.service import status_answer
from chiso.analytics.snapshot import Answer, Question
from chiso.boot import boot, boot_web
from chiso.db import session_scope
from chiso.db.engine import ensure_migrated
from chiso.reports.service import ReportJobs, reap_stale_jobs
from chiso.settings import get_settings
from chiso.web.assets import ApiGZip, CachedStatic
from chiso.web.deps import request_locale
from chiso.web.error_pages import install_error_handlers
from chiso.web.uploads import UploadGuard

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("chiso.web")
REPORT_JOBS_WAIT = 60.0
"""Seconds a shutdown waits for the report jobs still running (most take a few seconds;
a PDF conversion may take minutes, and a restart should not wait for it)."""

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from this origin: charts and scripts ship inside the package,
    # and no page holds an inline script or style (tests/test_security_csp.py).
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A server keeps the records key index (which months hold which dossiers) so each
    # incoming batch reads only the months it needs; built in the background.
    from chiso.records.keyindex import warm_in_background

    _reap_report_jobs()
    indexing = warm_in_background()
    # `chiso status` in a terminal asks this process, which has everything loaded, rather
    # than loading it all itself (chiso/analytics/resident.py).
    settings = get_settings()
    app.state.status_answers = ResidentAnswers(settings.data_dir, settings.sqlalchemy_url,
                                               _status_answer)
    if app.state.status_answers.start():
        today = settings.current_date()
        app.state.status_answers.warm([Question(settings.default_unit, year, today)
                                       for year in (today.year, today.year - 1)])
    # What start-up loaded (modules, the app, ORM classes, templates) lives as long as the
    # server: out of the collector's sight, a full collection walks only what requests
    # create (on the demo's province read, median 115 → 54 ms; chiso/db/reads.py). Given
    # back at shutdown, so objects that must be finalised (DuckDB's) are, at exit.
    gc.freeze()
    try:
        yield
    finally:
        _wait_for_report_jobs(app.state.report_jobs)
        app.state.status_answers.stop()
        indexing.join(timeout=10)  # no work of this server outlives it (~1.5 s at 10 M)
        gc.unfreeze()


def _status_answer(question: Question) -> Answer:
    with session_scope() as session:
        return status_answer(session, question)


def _reap_report_jobs() -> None:
    """Report jobs run in a thread of the process that started them: those left "running"
    by a process that is gone (a restart, a crash) are failed now, once, so their pages and
    the list of recent reports say so instead of "running" forever."""
    with session_scope() as session:
        reaped = reap_stale_jobs(session)
    if reaped:
        log.warning("%d report job(s) interrupted by a restart marked failed", reaped)


def _wait_for_report_jobs(jobs: ReportJobs, timeout: float = REPORT_JOBS_WAIT) -> None:
    """No work of this server outlives it: its report jobs finish first, within a bound. One
    still running after it is left, as before there was a wait: `reap_stale_jobs` fails it
    as interrupted once its process is gone (chiso/reports/service.py, `ReportJobs`)."""
    left = jobs.wait(timeout)
    if left:
        log.warning("shutdown: gave up waiting for report job(s) %s after %g s; if the "
                    "process ends first, they are failed as interrupted when next reaped",
                    ", ".join(map(str, left)), timeout)


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
        # /docs is served from assets shipped in the package (chiso.web.home), not a CDN.
        docs_url=None, redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    # Made here, not in the lifespan: an app used without it (a TestClient outside `with`)
    # still starts jobs; the lifespan's shutdown waits for them.
    app.state.report_jobs = ReportJobs()
    boot_web(app)
    _bound_ids(app)
    # The last added runs first: the language and the headers apply to the upload guard's
    # refusals too.
    app.add_middleware(UploadGuard)
    app.add_middleware(LocaleAndHeaders)
    app.add_middleware(ApiGZip)
    install_error_handlers(app)
    return app


# Ids are the database's positive integer keys: one beyond them names nothing (404, or 422
# when it does not even fit the column). Saying so in the description keeps API clients — and
# schemathesis — from taking 2^70 for a plausible id.
LARGEST_ID = 2**31 - 1


def _bound_ids(app: FastAPI) -> None:
    """Build the OpenAPI description with integer path parameters bounded."""
    build = app.openapi

    def described() -> dict[str, Any]:
        if app.openapi_schema is None:
            for operations in build().get("paths", {}).values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        bounds = parameter.get("schema", {})
                        if parameter.get("in") == "path" and bounds.get("type") == "integer":
                            bounds.setdefault("maximum", LARGEST_ID)
                            if parameter["name"].endswith("_id"):
                                bounds.setdefault("minimum", 1)
        return app.openapi_schema  # type: ignore[return-value]  # set by build()

    app.openapi = described  # type: ignore[method-assign]


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

"""The feed (`GET /api/exchange/feed`), the central task import
(`POST /api/exchange/central-tasks`) and the `/exchange` page. Thin: READ on the unit for
the feed; the tasks service checks MANAGE on each lead unit for the import."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from chiso.accounts.access import Access, Action
from chiso.errors import ERROR_RESPONSES, UnsupportedType, UserError
from chiso.exchange import formats
from chiso.exchange.central_tasks import import_central_tasks
from chiso.exchange.feed import VERSION, build_feed
from chiso.settings import get_settings
from chiso.tasks.common import manages_somewhere
from chiso.tasks.xlsx import ImportSummary
from chiso.text import parse_date
from chiso.text.dates import DateError
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import OptionalDayText
from chiso.web.templating import render

router = APIRouter(tags=["exchange"], responses=ERROR_RESPONSES)
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except DateError as exc:
        raise formats.FormatRejected(exc.message_vi, exc.message_en) from None


@router.get("/api/exchange/feed", response_model=None, responses={200: {"content": {
    media.split(";")[0]: {"schema": {"type": "object" if kind == "json" else "string"}}
    for kind, media in MEDIA.items()}}})
def feed(session: SessionDep, access: AccessDep, unit: str | None = None,
         year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
         as_of: OptionalDayText = None,
         format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
         section: Annotated[str, Query(pattern="^(kpis|tasks)$")] = "kpis") -> Response:
    """The unit's KPIs and task progress as of a date (docs/exchange.md, format
    `chiso-exchange` 1.0): JSON (everything), CSV (one `section`: kpis or tasks) or XLSX
    (three sheets). `unit` defaults to the installation's; `as_of` (dd/mm/yyyy or ISO) to
    today; `year` to the as-of date's."""
    code = unit or get_settings().default_unit
    built = build_feed(session, unit_code=code, access=access, as_of=_day(as_of), year=year)
    name = f"chiso-{code}-{built.year}-{built.as_of.isoformat()}"
    if format == "json":
        body = formats.to_json(built)
    elif format == "csv":
        body, name = formats.to_csv(built, section), f"{name}-{section}"
    else:
        with tempfile.TemporaryDirectory() as folder:
            body = formats.write_xlsx(built, Path(folder) / "feed.xlsx").read_bytes()
    return Response(body, media_type=MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="{name}.{format}"',
        "X-Chiso-Exchange-Version": VERSION})


@router.post("/api/exchange/central-tasks", response_model=None)
def central_tasks(session: SessionDep, access: AccessDep,
                  file: Annotated[UploadFile, File()], dry_run: bool = True) -> JSONResponse:
    """Import centrally assigned tasks from an XLSX list (docs/exchange.md): all or nothing,
    idempotent, MANAGE on each lead unit. `dry_run=true` (the default) stores nothing and
    says what would be created or updated."""
    summary = _import(session, access, file, dry_run)
    return JSONResponse(_summary(summary), status_code=200)


def _import(session: SessionDep, access: Access, file: UploadFile, dry_run: bool
            ) -> ImportSummary:
    name = Path(file.filename or "nhiem-vu.xlsx").name
    if Path(name).suffix.lower() != ".xlsx":
        raise UnsupportedType(f"Chỉ nhận tệp .xlsx: '{name}'", f"only .xlsx files: '{name}'")
    with tempfile.TemporaryDirectory(prefix="chiso-upload-") as folder:
        path = Path(folder) / "upload.xlsx"
        path.write_bytes(file.file.read())
        return import_central_tasks(session, path, access=access, dry_run=dry_run,
                                    display_name=name)


def _summary(summary: ImportSummary) -> dict[str, Any]:
    return {"dry_run": summary.dry_run, "created": summary.created,
            "updated": summary.updated, "unchanged": summary.unchanged}


@router.get("/exchange", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request, access: AccessDep) -> HTMLResponse:
    access.require(Action.READ)
    return _page(request, access)


def _page(request: Request, access: Access, result: dict[str, Any] | None = None,
          error: UserError | None = None, status_code: int = 200) -> HTMLResponse:
    settings = get_settings()
    return render(request, "exchange/exchange.html", {
        "access": access, "unit": settings.default_unit,
        "year": settings.current_date().year, "today": settings.current_date(),
        "result": result, "error": error, "can_import": manages_somewhere(access)},
        status_code=status_code)


@router.post("/exchange/central-tasks", include_in_schema=False)
def page_import(request: Request, session: SessionDep, access: AccessDep,
                file: Annotated[UploadFile, File()],
                confirm: Annotated[str, Form()] = "") -> HTMLResponse:
    try:
        summary = _import(session, access, file, dry_run=not confirm)
    except UserError as exc:
        if exc.status in (401, 404):
            raise
        session.rollback()
        return _page(request, access, error=exc, status_code=exc.status)
    return _page(request, access, result=json.loads(json.dumps(_summary(summary))))


NAV = [NavItem("Data exchange", "/exchange", order=78)]

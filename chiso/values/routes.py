"""Data values: JSON API (`/api/values…`) and the import page (`/values/import`).

Reading needs READ on the unit; saving, deleting and importing need CAPTURE on each
row's unit (an import reports rows for other units as errors, and stores nothing).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from chiso.accounts.access import ROLE_ACTIONS, Access, Action, PermissionDenied
from chiso.accounts.models import Role
from chiso.errors import ERROR_RESPONSES, NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.periods import period_label, split_estimate
from chiso.storage.uploads import keep_upload, kept_upload
from chiso.units.models import OrgUnit
from chiso.values import service
from chiso.values.exporter import export_frame, subtree_ids, write_export
from chiso.values.importer import ImportResult, import_values
from chiso.values.models import DataValue
from chiso.web.deps import AccessDep, SessionDep, UserDep
from chiso.web.nav import NavItem
from chiso.web.schema import OptionalPeriodText, PeriodText
from chiso.web.templating import render

router = APIRouter(tags=["values"], responses=ERROR_RESPONSES)
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xls")
Number = float | str | None  # "76,6%" and "1.234.567" are accepted as typed


class ValueIn(BaseModel):
    """One figure to save. Give `unit` (code) or `unit_id`, `indicator` (code) or
    `indicator_id`. `expected_version` is the version you read (0 for a new value).
    `estimate` (or a period written 'Ước thực hiện năm 2025') marks an estimate (ước): the
    official figure replaces it later and keeps it beside; it never replaces an official
    figure."""

    model_config = ConfigDict(extra="forbid")

    unit: str | None = None
    unit_id: int | None = None
    indicator: str | None = None
    indicator_id: int | None = None
    period: PeriodText
    numerator: Number = None
    denominator: Number = None
    value: Number = None
    comment: str = ""
    expected_version: int | None = None
    estimate: bool = False


# ------------------------------------------------------------------ helpers


def _not_found(what_vi: str, what_en: str) -> NotFound:
    return NotFound(f"Không tìm thấy {what_vi}", f"{what_en} not found")


def _units_for_code(session: Session, code: str, subunits: bool) -> set[int]:
    """Every unit that carries `code` (old and re-used), and with `subunits` their trees."""
    ids = {u for (u,) in session.query(OrgUnit.id).filter(OrgUnit.code == code.strip())}
    if not ids:
        raise _not_found(f"đơn vị mã '{code}'", f"unit '{code}'")
    return subtree_ids(session, code) if subunits else ids


def _readable(access: Access, unit_ids: set[int]) -> set[int]:
    return {u for u in unit_ids if access.can(Action.READ, u)}


def _readable_scope(session: Session, access: Access, unit: str | None, subunits: bool
                    ) -> set[int] | None:
    """Units whose values the user may read: None = every unit. Naming a unit the user may
    not read is refused (403) rather than answered with an empty list."""
    if unit:
        ids = _units_for_code(session, unit, subunits)
        allowed = _readable(access, ids)
        if not allowed:
            raise PermissionDenied(Action.READ, min(ids))
        return allowed
    if _reads_everything(access):
        return None
    own = {m.unit_id for m in access.user.memberships if m.unit_id is not None}  # type: ignore[union-attr]
    codes = {c for (c,) in session.query(OrgUnit.code).filter(OrgUnit.id.in_(own))}
    below: set[int] = set()
    for code in codes:
        below |= subtree_ids(session, code)
    return _readable(access, below)


def _reads_everything(access: Access) -> bool:
    user = access.user
    if user is None or (access.scope is not None and access.scope.unit_ids):
        return False
    return any(Role(m.role) in (Role.ADMIN, Role.LEADER) or m.unit_id is None
               for m in user.memberships)


def _may_capture_somewhere(access: Access) -> bool:
    user = access.user
    return user is not None and any(
        Action.CAPTURE in ROLE_ACTIONS[Role(m.role)] for m in user.memberships)


def _json_value(row: DataValue, session: Session) -> dict[str, Any]:
    unit = session.get(OrgUnit, row.unit_id)
    indicator = session.get(Indicator, row.indicator_id)
    return {"id": row.id, "unit_code": unit.code if unit else None,
            "indicator_code": indicator.code if indicator else None, "period": row.period,
            "numerator": row.numerator, "denominator": row.denominator, "value": row.value,
            "source": row.source, "comment": row.comment, "version": row.version,
            "deleted": row.deleted, "estimate": row.estimate,
            "estimate_numerator": row.estimate_numerator,
            "estimate_denominator": row.estimate_denominator,
            "estimate_value": row.estimate_value}


def _resolve_ids(session: Session, body: ValueIn) -> tuple[int, int]:
    unit_id = body.unit_id
    if unit_id is None and body.unit:
        unit = service.unit_for_code(session, body.unit, _period_id(body.period))
        unit_id = unit.id if unit else None
    if unit_id is None or session.get(OrgUnit, unit_id) is None:
        raise _not_found(f"đơn vị '{body.unit or body.unit_id}'",
                         f"unit '{body.unit or body.unit_id}'")
    indicator_id = body.indicator_id
    if indicator_id is None and body.indicator:
        indicator_id = session.query(Indicator.id).filter(
            Indicator.code == body.indicator.strip().upper()).scalar()
    if indicator_id is None:
        raise _not_found(f"chỉ tiêu '{body.indicator}'", f"indicator '{body.indicator}'")
    return unit_id, indicator_id


def _period_id(period: str) -> str | None:
    try:
        return service.canonical_period(period)
    except service.ValueRejected:
        return None


# ------------------------------------------------------------------ JSON API


@router.get("/api/values")
def list_values(session: SessionDep, access: AccessDep, unit: str | None = None,
                indicator: str | None = None, period: OptionalPeriodText = None,
                year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                subunits: bool = False) -> list[dict[str, Any]]:
    """Current values, filtered by unit code (with `subunits=true`, its whole subtree),
    indicator code, period (any spelling: '9 tháng đầu năm 2025', 'lũy kế từ đầu năm' for
    January to this month) or year. `estimate` is true while a figure is an estimate (ước);
    `estimate_value` keeps the estimate once the official figure replaced it."""
    scope = _readable_scope(session, access, unit, subunits)
    return service.find_values(session, unit_ids=None if scope is None else sorted(scope),
                               indicator_code=indicator, period=period, year=year)


@router.post("/api/values")
def save_one(body: ValueIn, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Save one figure (any spelling of the period, or a date; '9 tháng đầu năm 2025' is
    the cumulative period 2025C09). 409 with `current_version` when `expected_version` is
    not the current version; 422 with the rule broken (a period that has not begun, or an
    estimate for a period whose official figure stands)."""
    period, marked = split_estimate(body.period)
    body = body.model_copy(update={"period": period})
    unit_id, indicator_id = _resolve_ids(session, body)
    row = service.save_value(
        session, unit_id=unit_id, indicator_id=indicator_id, period=period,
        numerator=body.numerator, denominator=body.denominator, value=body.value,
        comment=body.comment, expected_version=body.expected_version, access=access,
        source="manual", estimate=body.estimate or marked)
    session.flush()
    return _json_value(row, session)


def _value_or_404(session: Session, value_id: int) -> DataValue:
    row = session.get(DataValue, value_id)
    if row is None:
        raise _not_found(f"số liệu #{value_id}", f"value #{value_id}")
    return row


@router.get("/api/values/{value_id:int}/history")
def history(value_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Every version of one value, oldest first."""
    row = _value_or_404(session, value_id)
    access.require(Action.READ, row.unit_id)
    versions = [{"version": v.version, "numerator": v.numerator, "denominator": v.denominator,
                 "value": v.value, "source": v.source, "comment": v.comment,
                 "estimate": v.estimate,
                 "deleted": v.deleted, "change": v.change, "changed_at": v.changed_at,
                 "changed_by_id": v.changed_by_id, "import_batch_id": v.import_batch_id}
                for v in service.value_history(session, value_id)]
    return {"value": _json_value(row, session), "versions": versions}


@router.delete("/api/values/{value_id:int}")
def delete_one(value_id: int, session: SessionDep, access: AccessDep,
               expected_version: int | None = None) -> dict[str, Any]:
    """Soft delete (a new version marked deleted; the history stays)."""
    row = service.delete_value(session, value_id, expected_version=expected_version,
                               access=access)
    return _json_value(row, session)


def _saved_upload(upload: UploadFile, user_id: int) -> tuple[Path, str]:
    """Keep the upload (chiso.storage.uploads) so a confirmed dry run imports exactly the
    bytes that were previewed, on whichever server; returns (path, sha256)."""
    kept = keep_upload(upload.filename or "upload.csv", upload.file.read(),
                       owner=str(user_id), suffixes=UPLOAD_SUFFIXES)
    return kept.path, kept.digest


def _run_import(session: Session, path: Path, name: str, dry_run: bool, access: Access
                ) -> ImportResult:
    if not _may_capture_somewhere(access):
        raise PermissionDenied(Action.CAPTURE)
    result = import_values(session, path, dry_run=dry_run, access=access, display_name=name)
    if not result.ok:
        session.rollback()
    return result


@router.post("/api/values/import", response_model=None)
def import_file(session: SessionDep, access: AccessDep, user: UserDep,
                file: Annotated[UploadFile, File()], dry_run: bool = True) -> JSONResponse:
    """Upload a CSV/XLSX/XLS file in the long format. `dry_run=true` (the default) returns
    the diff without storing; errors come back as a list (422) and nothing is stored."""
    path, _digest = _saved_upload(file, user.id)
    result = _run_import(session, path, Path(file.filename or path.name).name, dry_run,
                         access)
    return JSONResponse(_jsonable(result.as_dict()), status_code=200 if result.ok else 422)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


@router.get("/api/values/export", responses={200: {"content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}}}}})
def export_file(session: SessionDep, access: AccessDep,
                format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
                unit: str | None = None,
                year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                indicator: str | None = None) -> FileResponse:
    """The long format as a file; re-importing it changes nothing."""
    scope = _readable_scope(session, access, unit, subunits=True)
    frame = export_frame(session, unit=unit, indicator=indicator, year=year,
                         unit_ids=list(scope) if scope is not None else None)
    name = "so-lieu" + (f"-{unit}" if unit else "") + (f"-{year}" if year else "")
    folder = Path(tempfile.mkdtemp(prefix="chiso-export-"))
    path = write_export(frame, folder / f"{name}.{format}")
    media = ("text/csv; charset=utf-8" if format == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return FileResponse(path, media_type=media, filename=path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


# ------------------------------------------------------------------ import page


@router.get("/values/import", include_in_schema=False)
def import_page(request: Request, access: AccessDep) -> Response:
    return render(request, "values/import.html", {"access": access, "result": None})


_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@router.post("/values/import", include_in_schema=False)
def import_page_post(
    request: Request, session: SessionDep, access: AccessDep, user: UserDep,
    file: Annotated[UploadFile | None, File()] = None,
    digest: Annotated[str, Form()] = "", suffix: Annotated[str, Form()] = "",
    file_name: Annotated[str, Form()] = "",
) -> Response:
    """Upload → dry run (shows the diff); the confirm button re-posts the kept file."""
    if file is not None and file.filename:
        path, digest = _saved_upload(file, user.id)
        name, dry_run = Path(file.filename).name, True
    else:
        if not _DIGEST.match(digest) or suffix not in UPLOAD_SUFFIXES:
            raise UserError("Thiếu tệp", "no file", status=400)
        kept = kept_upload(owner=str(user.id), digest=digest, suffix=suffix,
                           suffixes=UPLOAD_SUFFIXES)
        if kept is None:
            raise UserError("Tệp đã hết hạn, hãy tải lên lại",
                            "the file has expired, upload it again", status=400)
        path, name, dry_run = kept, file_name, False
    result = _run_import(session, path, name, dry_run, access)
    view = result.as_dict(limit=300)
    _name_rows(session, view["inserts"] + view["updates"])
    context = {"access": access, "result": result, "view": view,
               "digest": digest, "suffix": path.suffix, "file_name": name}
    return render(request, "values/import.html", context,
                  status_code=200 if result.ok else 422)


def _name_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """What the preview shows for each row: the unit's and indicator's names (their codes
    beside) and the period's name ('Tháng 10/2026', not '202610')."""
    unit_codes = {r["unit_code"] for r in rows}
    indicator_codes = {r["indicator_code"] for r in rows}
    units = {code: unit_name for code, unit_name in session.execute(
        select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(unit_codes))
        .order_by(OrgUnit.valid_from))}  # the latest name of a code wins
    indicators = {code: (vi, en) for code, vi, en in session.execute(
        select(Indicator.code, Indicator.name_vi, Indicator.name_en)
        .where(Indicator.code.in_(indicator_codes)))}
    for row in rows:
        row["unit_name"] = units.get(row["unit_code"], "")
        row["indicator_name_vi"], row["indicator_name_en"] = indicators.get(
            row["indicator_code"], ("", ""))
        row["period_vi"], row["period_en"] = (period_label(row["period"], "vi"),
                                              period_label(row["period"], "en"))


NAV = [NavItem("Import data", "/values/import", Action.READ, order=70)]

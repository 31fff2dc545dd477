"""DHIS2 `dataValueSets` on the wire: the same path, parameters, formats and import summary
as DHIS2 (docs: developer/web-api/data.md), so DHIS2 clients and scripts work unchanged.

- Identifiers: chiso's codes are its identifiers. `idScheme`, `dataElementIdScheme`,
  `orgUnitIdScheme` and `dataSetIdScheme` take CODE (and UID, the DHIS2 default, which
  names the same codes here) or NAME (the Vietnamese or English name).
- Periods use DHIS2's formats, which are chiso's own: 2025, 2025S1, 2025Q3, 202509.
- A ratio indicator travels as two data values with category option combos `NUMERATOR`
  and `DENOMINATOR` (the value is recomputed from them, each part keeps its comment); a
  ratio known only as a value, and every other indicator, uses the `default` combo.
- Import: each data value is judged on its own, as DHIS2 does: one that cannot be used
  (unknown data element, period, org unit or combo, a unit the caller may not write, a
  figure locked by a sent or approved report, a value that breaks a rule) is ignored and
  reported as a conflict with its 0-based index; the others are imported. Counts are per
  data value (a ratio's two parts count two), as in DHIS2's `importCount`.
  `importStrategy` CREATE_AND_UPDATE (default), CREATE, UPDATE or DELETE; a value with
  `deleted: true` is deleted. `dryRun=true` checks and counts, stores nothing.
  `completeDate` with one `dataSet`, `period` and `orgUnit` at the top registers that one
  report as complete (sent) on that date; nothing else is marked complete.
- CSV: DHIS2's columns, read by position like DHIS2's reader (the first row is a header):
  dataelement, period, orgunit, categoryoptioncombo, attributeoptioncombo, value,
  storedby, lastupdated, comment, followup, deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.collection import service
from chiso.collection.models import DataSet, DataSetIndicator, ValueFlag
from chiso.db.base import utcnow
from chiso.errors import UnsupportedType, UserError
from chiso.indicators.models import Indicator
from chiso.periods import Period, PeriodError, PeriodType, parse_period
from chiso.text import spreadsheet_safe, unguard_cell
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, descendant_ids, get_unit
from chiso.values import service as values_service
from chiso.values.importer import validate_tables
from chiso.values.models import DataValue, DataValueVersion, ImportBatch
from chiso.values.parsing import cell_text
from chiso.values.reader import SheetTable

NUMERATOR, DENOMINATOR, DEFAULT = "NUMERATOR", "DENOMINATOR", "default"
# The category option combo "default" of a stock DHIS2 install, sent by many clients.
DEFAULT_COMBO_UID = "HllvX50cXC0"
CSV_COLUMNS = ("dataelement", "period", "orgunit", "categoryoptioncombo",
               "attributeoptioncombo", "value", "storedby", "lastupdated", "comment",
               "followup", "deleted")
JSON_KEYS = ("dataElement", "period", "orgUnit", "categoryOptionCombo",
             "attributeOptionCombo", "value", "storedBy", "lastUpdated", "comment",
             "followup", "deleted")
STRATEGIES = {"CREATE_AND_UPDATE": "CREATE_AND_UPDATE", "NEW_AND_UPDATES": "CREATE_AND_UPDATE",
              "CREATE": "CREATE", "NEW": "CREATE", "UPDATE": "UPDATE", "UPDATES": "UPDATE",
              "DELETE": "DELETE", "DELETES": "DELETE"}
SCHEMES = ("UID", "CODE", "NAME")
# A denominator's own comment is kept after this marker in the one comment chiso stores
# (comments are kept on one line, so the marker is a word, not a line break).
DENOMINATOR_NOTE = " [mẫu số] "


class Dhis2Error(UserError):
    """A dataValueSets request chiso cannot read at all (422)."""


# ------------------------------------------------------------------ options


def _flag(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "1", "yes")


@dataclass
class ImportOptions:
    dry_run: bool = False
    strategy: str = "CREATE_AND_UPDATE"
    id_scheme: str = "UID"
    data_element_scheme: str = ""
    org_unit_scheme: str = ""
    data_set_scheme: str = ""
    first_row_is_header: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ImportOptions:
        """DHIS2's query parameters (case as DHIS2 spells them)."""
        options = cls(dry_run=_flag(params.get("dryRun")),
                      first_row_is_header=_flag(params.get("firstRowIsHeader"), True))
        return options.overridden(params)

    def overridden(self, source: Mapping[str, Any]) -> ImportOptions:
        """Schemes, strategy and dryRun given in the payload take precedence (DHIS2)."""
        strategy = str(source.get("importStrategy") or self.strategy).upper()
        if strategy not in STRATEGIES:
            raise Dhis2Error(f"importStrategy '{strategy}' không hợp lệ (CREATE_AND_UPDATE, "
                             "CREATE, UPDATE, DELETE)", f"importStrategy '{strategy}' is not "
                             "one of CREATE_AND_UPDATE, CREATE, UPDATE, DELETE")
        return ImportOptions(
            dry_run=_flag(source.get("dryRun"), self.dry_run), strategy=STRATEGIES[strategy],
            id_scheme=_scheme(source.get("idScheme") or self.id_scheme),
            data_element_scheme=_scheme(source.get("dataElementIdScheme")
                                        or self.data_element_scheme),
            org_unit_scheme=_scheme(source.get("orgUnitIdScheme") or self.org_unit_scheme),
            data_set_scheme=_scheme(source.get("dataSetIdScheme") or self.data_set_scheme),
            first_row_is_header=self.first_row_is_header)

    def scheme(self, kind: str) -> str:
        specific = {"dataElement": self.data_element_scheme, "orgUnit": self.org_unit_scheme,
                    "dataSet": self.data_set_scheme}[kind]
        return specific or self.id_scheme

    def as_dict(self) -> dict[str, Any]:
        return {"idSchemes": {k: v for k, v in {
                    "idScheme": self.id_scheme, "dataElementIdScheme":
                    self.data_element_scheme, "orgUnitIdScheme": self.org_unit_scheme,
                    "dataSetIdScheme": self.data_set_scheme}.items() if v},
                "dryRun": self.dry_run, "async": False, "importStrategy": self.strategy,
                "mergeMode": "REPLACE", "reportMode": "FULL", "skipExistingCheck": False,
                "firstRowIsHeader": self.first_row_is_header}


def _scheme(value: Any) -> str:
    if not value:
        return ""
    scheme = str(value).strip().upper()
    if scheme not in SCHEMES:
        raise Dhis2Error(f"id scheme '{value}' không dùng được: chiso nhận UID/CODE (mã) hoặc "
                         "NAME (tên)", f"id scheme '{value}' cannot be used: chiso takes "
                         "UID/CODE (its codes) or NAME")
    return scheme


# ------------------------------------------------------------------ reading a request


def read_csv(text: str, *, first_row_is_header: bool = True) -> dict[str, Any]:
    """DHIS2's CSV, read by column position as DHIS2's own reader does."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if first_row_is_header and rows:
        rows = rows[1:]
    values = []
    for cells in rows:
        if not any(c.strip() for c in cells):
            continue
        padded = [*cells, *[""] * (len(JSON_KEYS) - len(cells))]
        value = dict(zip(JSON_KEYS, padded, strict=False))
        values.append({k: unguard_cell(v) if k in FREE_TEXT else v for k, v in value.items()})
    return {"dataValues": values}


def read_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Dhis2Error(f"nội dung JSON không hợp lệ ({exc})", f"invalid JSON ({exc})"
                         ) from None
    if not isinstance(document, dict) or not isinstance(document.get("dataValues", []), list):
        raise Dhis2Error("cần một đối tượng dataValueSet có mục 'dataValues'",
                         "a dataValueSet object with 'dataValues' is expected")
    document.setdefault("dataValues", [])
    return document


def read_document(raw: bytes, kind: str, *, first_row_is_header: bool = True
                  ) -> dict[str, Any]:
    """A dataValueSet from a request body or file: `kind` is "json" or "csv"."""
    if kind == "csv":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Dhis2Error("tệp CSV phải mã hóa UTF-8", "the CSV must be UTF-8") from None
        return read_csv(text, first_row_is_header=first_row_is_header)
    return read_json(raw)


def body_kind(content_type: str, file_name: str = "") -> str:
    """json or csv from a Content-Type (case-insensitive) or a file name."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/csv", "text/csv") or file_name.lower().endswith(".csv"):
        return "csv"
    if kind in ("application/json", "text/json", "") or file_name.lower().endswith(".json"):
        return "json"
    if kind == "application/octet-stream" and file_name:
        return "json"
    raise UnsupportedType(f"chiso nhận JSON hoặc CSV, không nhận '{kind}'",
                          f"chiso takes JSON or CSV, not '{kind}'")


async def request_body(request: Any) -> tuple[bytes, str, str]:
    """(raw bytes, kind, name) of a POST: a raw JSON/CSV body, or a multipart `file`."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise Dhis2Error("thiếu tệp (trường 'file')", "no file (field 'file')")
        name = str(getattr(upload, "filename", "") or "dataValueSets.json")
        return await upload.read(), body_kind("", name), name
    kind = body_kind(content_type)
    return await request.body(), kind, f"dataValueSets.{kind}"


# ------------------------------------------------------------------ import summary


@dataclass
class ImportSummary:
    options: ImportOptions
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    data_set_complete: str = "false"
    batch_id: int | None = None
    completed: list[str] = field(default_factory=list)
    followups: int = 0

    def conflict(self, index: int | None, code: str, prop: str, obj: str, text: str
                 ) -> None:
        """One refused data value (DHIS2's ImportConflict; `indexes` are 0-based; None
        for a conflict of the whole set, such as its completion)."""
        for found in self.conflicts:
            if found["errorCode"] == code and found["object"] == obj and \
                    found["value"] == text:
                found["indexes"] += [] if index is None else [index]
                return
        self.conflicts.append({"object": obj, "objects": {prop: obj}, "value": text,
                               "errorCode": code, "property": prop,
                               "indexes": [] if index is None else [index]})

    @property
    def rejected(self) -> list[int]:
        return sorted({i for c in self.conflicts for i in c["indexes"]})

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        return "WARNING" if self.conflicts else "SUCCESS"

    @property
    def http_status(self) -> int:
        return 200 if self.status == "SUCCESS" else 409

    def as_dict(self) -> dict[str, Any]:
        """DHIS2's web message (2.38 and later) wrapping its ImportSummary."""
        ok = self.status == "SUCCESS"
        message = {"SUCCESS": "Import was successful.",
                   "WARNING": "One more conflicts encountered, please check import summary.",
                   "ERROR": "An error occurred, please check import summary."}[self.status]
        return {"httpStatus": "OK" if ok else "Conflict", "httpStatusCode": self.http_status,
                "status": "OK" if ok else self.status, "message": message, "response": {
                    "responseType": "ImportSummary", "status": self.status,
                    "importOptions": self.options.as_dict(),
                    "description": self.error or "Import process completed successfully",
                    "importCount": {"imported": self.imported, "updated": self.updated,
                                    "ignored": self.ignored, "deleted": self.deleted},
                    "conflicts": self.conflicts, "rejectedIndexes": self.rejected,
                    "dataSetComplete": self.data_set_complete}}


# ------------------------------------------------------------------ import


@dataclass
class _Row:
    index: int
    data_element: str
    period: str
    org_unit: str
    combo: str
    value: str | None
    comment: str
    followup: bool
    deleted: bool
    indicator: Indicator | None = None
    unit: OrgUnit | None = None
    part: str = "value"  # numerator | denominator | value


def import_body(session: Session, raw: bytes, kind: str, *, options: ImportOptions,
                access: Access, file_name: str = "") -> ImportSummary:
    """Import a dataValueSet request body (JSON or CSV) as DHIS2 would."""
    document = read_document(raw, kind, first_row_is_header=options.first_row_is_header)
    return import_document(session, document, options=options, access=access,
                           file_name=file_name or f"dataValueSets.{kind}")


def import_document(session: Session, document: dict[str, Any], *, options: ImportOptions,
                    access: Access, file_name: str = "dataValueSets.json") -> ImportSummary:
    options = options.overridden(document)
    summary = ImportSummary(options)
    data_set = _document_data_set(session, document, options, summary)
    if summary.error:
        summary.ignored = len(document["dataValues"])
        return summary
    rows = _rows(document)
    _resolve(session, rows, options, access, summary)
    usable = [r for r in rows if r.index not in set(summary.rejected)]
    cells = _checked_cells(session, usable, access, summary)
    _apply(session, cells, usable, summary, access, file_name)
    if data_set is not None and document.get("completeDate") and not options.dry_run:
        _complete(session, data_set, document, access, summary)
    elif document.get("completeDate") and data_set is not None:
        summary.data_set_complete = str(document["completeDate"])
    return summary


def _document_data_set(session: Session, document: dict[str, Any], options: ImportOptions,
                       summary: ImportSummary) -> DataSet | None:
    ident = str(document.get("dataSet") or "").strip()
    if not ident:
        return None
    found = _by_scheme(session, DataSet, ident, options.scheme("dataSet"))
    if found is None:
        summary.error = f"Data set not found or not accessible: `{ident}`"
    return found


def _rows(document: dict[str, Any]) -> list[_Row]:
    top_period = str(document.get("period") or "").strip()
    top_unit = str(document.get("orgUnit") or "").strip()
    rows = []
    for index, value in enumerate(document["dataValues"]):
        value = value if isinstance(value, dict) else {}
        combo = str(value.get("categoryOptionCombo") or DEFAULT).strip()
        rows.append(_Row(
            index=index, data_element=str(value.get("dataElement") or "").strip(),
            period=str(value.get("period") or top_period).strip(),
            org_unit=str(value.get("orgUnit") or top_unit).strip(), combo=combo,
            value=cell_text(value.get("value")), comment=str(value.get("comment") or ""),
            followup=_flag(value.get("followup")), deleted=_flag(value.get("deleted"))))
    return rows


def _by_scheme(session: Session, model: Any, ident: str, scheme: str) -> Any:
    """A data element (Indicator) or data set by code (UID/CODE) or by name."""
    if scheme == "NAME":
        return session.scalar(select(model).where(
            (model.name_vi == ident) | (model.name_en == ident)).order_by(model.id).limit(1))
    return session.scalar(select(model).where(model.code == ident.upper()))


def _unit_by(session: Session, ident: str, scheme: str, period: str = "") -> OrgUnit | None:
    """An org unit by code (the one valid in the period: codes are re-used after a
    merger) or by name."""
    if scheme == "NAME":
        return session.scalar(select(OrgUnit).where(OrgUnit.name == ident)
                              .order_by(OrgUnit.valid_from.desc()).limit(1))
    try:
        on = parse_period(period).end() if _dhis2_period(period) else None
        return get_unit(session, ident, on)
    except UnitNotFound:
        try:
            return get_unit(session, ident)
        except UnitNotFound:
            return None


def _resolve(session: Session, rows: list[_Row], options: ImportOptions, access: Access,
             summary: ImportSummary) -> None:
    """Data element, period, org unit, combos and the right to write: each refused value
    becomes a conflict (DHIS2's error codes)."""
    indicators: dict[str, Indicator | None] = {}
    units: dict[tuple[str, str], OrgUnit | None] = {}
    for row in rows:
        if row.data_element not in indicators:
            indicators[row.data_element] = _by_scheme(
                session, Indicator, row.data_element, options.scheme("dataElement"))
        if (row.org_unit, row.period) not in units:
            units[(row.org_unit, row.period)] = _unit_by(
                session, row.org_unit, options.scheme("orgUnit"), row.period)
        row.indicator = indicators[row.data_element]
        row.unit = units[(row.org_unit, row.period)]
        _judge(row, access, summary)


def _judge(row: _Row, access: Access, summary: ImportSummary) -> None:
    combo = row.combo.upper()
    if row.indicator is None:
        summary.conflict(row.index, "E7610", "dataElement", row.data_element,
                         f"Data element not found or not accessible: `{row.data_element}`")
    elif not _dhis2_period(row.period):
        summary.conflict(row.index, "E7611", "period", row.period,
                         f"Period not valid: `{row.period}`")
    elif row.unit is None or not access.can(Action.CAPTURE, row.unit.id):
        summary.conflict(row.index, "E7612", "orgUnit", row.org_unit,
                         f"Organisation unit not found or not accessible: `{row.org_unit}`")
    elif combo not in (NUMERATOR, DENOMINATOR, DEFAULT.upper(), DEFAULT_COMBO_UID.upper()) \
            or (combo in (NUMERATOR, DENOMINATOR) and row.indicator.kind != "ratio"):
        summary.conflict(row.index, "E7613", "categoryOptionCombo", row.combo,
                         "Category option combo not found or not accessible for writing "
                         f"data: `{row.combo}`")
    else:
        row.part = {NUMERATOR: "numerator", DENOMINATOR: "denominator"}.get(combo, "value")


def _dhis2_period(text: str) -> bool:
    try:
        return parse_period(text).id == text.upper()
    except PeriodError:
        return False


@dataclass
class _Cell:
    indicator: Indicator
    unit: OrgUnit
    period: str
    rows: list[_Row]

    @property
    def deleted(self) -> bool:
        return all(r.deleted for r in self.rows)

    def part(self, name: str) -> _Row | None:
        return next((r for r in self.rows if r.part == name), None)

    def comment(self) -> str | None:
        numerator = self.part("numerator") or self.part("value")
        denominator = self.part("denominator")
        text = numerator.comment if numerator else ""
        if denominator and denominator.comment and denominator.comment != text:
            text += DENOMINATOR_NOTE + denominator.comment
        return text or None


def _cells(rows: list[_Row]) -> list[_Cell]:
    grouped: dict[tuple[int, int, str], _Cell] = {}
    for row in rows:
        assert row.indicator is not None and row.unit is not None
        key = (row.indicator.id, row.unit.id, parse_period(row.period).id)
        grouped.setdefault(key, _Cell(row.indicator, row.unit, key[2], [])).rows.append(row)
    return list(grouped.values())


def _checked_cells(session: Session, rows: list[_Row], access: Access,
                   summary: ImportSummary) -> list[_Cell]:
    """Cells not locked by a sent or approved report, whose figures pass the values
    rules (the same pipeline as every import); the rest become conflicts."""
    cells = _cells(rows)
    locked = service.locked_for(session, pl.DataFrame(
        [{"unit_id": c.unit.id, "indicator_id": c.indicator.id, "period": c.period}
         for c in cells], schema={"unit_id": pl.Int64, "indicator_id": pl.Int64,
                                  "period": pl.String}), access)
    kept = []
    for cell in cells:
        if (cell.unit.id, cell.indicator.id, cell.period) in locked:
            for row in cell.rows:
                summary.conflict(row.index, "E7630", "orgUnit", row.org_unit,
                                 f"Data is already approved or sent for approval: "
                                 f"`{cell.unit.name}` `{cell.period}`")
        else:
            kept.append(cell)
    writes = [c for c in kept if not c.deleted and summary.options.strategy != "DELETE"]
    refused = _rule_conflicts(session, writes, access, summary)
    return [c for c in kept if id(c) not in refused]


def _rule_conflicts(session: Session, cells: list[_Cell], access: Access,
                    summary: ImportSummary) -> set[int]:
    if not cells:
        return set()
    frame, errors = validate_tables(session, [_table(cells)], access)
    refused: set[int] = set()
    lines = dict(frame.select("_row", "_line").iter_rows())
    for error in errors.iter_rows(named=True):
        cell = cells[lines[error["_row"]] - 1]
        refused.add(id(cell))
        for row in cell.rows:
            summary.conflict(row.index, "E7619", "value", row.value or "",
                             f"{error['message_en']} / {error['message_vi']}")
    return refused


def _table(cells: list[_Cell]) -> SheetTable:
    records = []
    for line, cell in enumerate(cells, start=1):
        numerator, denominator = cell.part("numerator"), cell.part("denominator")
        value = cell.part("value")
        records.append({"_line": line, "unit_code": cell.unit.code,
                        "indicator_code": cell.indicator.code, "period": cell.period,
                        "numerator": numerator.value if numerator else None,
                        "denominator": denominator.value if denominator else None,
                        "value": value.value if value else None, "comment": cell.comment(),
                        "source": "dhis2"})
    schema = {"_line": pl.Int64, **dict.fromkeys(
        ("unit_code", "indicator_code", "period", "numerator", "denominator", "value",
         "comment", "source"), pl.String)}
    return SheetTable("dataValues", 1, {}, pl.DataFrame(records, schema=schema))


def _apply(session: Session, cells: list[_Cell], rows: list[_Row], summary: ImportSummary,
           access: Access, file_name: str) -> None:
    existing = _existing(session, cells)
    upserts: list[_Cell] = []
    deletes: list[tuple[_Cell, DataValue]] = []
    strategy = summary.options.strategy
    for cell in cells:
        stored = existing.get((cell.unit.id, cell.indicator.id, cell.period))
        count = len(cell.rows)
        if cell.deleted or strategy == "DELETE":
            if stored is None:
                summary.ignored += count
            else:
                deletes.append((cell, stored))
                summary.deleted += count
        elif (strategy == "CREATE" and stored is not None) or (
                strategy == "UPDATE" and stored is None):
            summary.ignored += count
        else:
            upserts.append(cell)
            if stored is None:
                summary.imported += count
            else:
                summary.updated += count
    summary.ignored += len(summary.rejected)
    if summary.options.dry_run:
        return
    _store(session, upserts, deletes, summary, access, file_name)
    summary.followups = _store_followups(session, [r for c in upserts for r in c.rows])


def _existing(session: Session, cells: list[_Cell]) -> dict[tuple[int, int, str], DataValue]:
    if not cells:
        return {}
    wanted = {(c.unit.id, c.indicator.id, c.period) for c in cells}
    rows = session.scalars(select(DataValue).where(
        DataValue.unit_id.in_({c.unit.id for c in cells}),
        DataValue.period.in_({c.period for c in cells}), DataValue.deleted.is_(False)))
    return {(v.unit_id, v.indicator_id, v.period): v for v in rows
            if (v.unit_id, v.indicator_id, v.period) in wanted}


def _store(session: Session, upserts: list[_Cell], deletes: list[tuple[_Cell, DataValue]],
           summary: ImportSummary, access: Access, file_name: str) -> None:
    if not upserts and not deletes:
        return
    batch = ImportBatch(kind="dhis2", file_name=file_name[:400], sha256="",
                        user_id=getattr(access.actor, "id", None))
    session.add(batch)
    session.flush()
    if upserts:
        frame, _errors = validate_tables(session, [_table(upserts)], access)
        plan = values_service.plan_changes(session, frame)
        event = values_service.BatchEvent(
            action="collection.dhis2_import", object_type="import_batch", object_id=batch.id,
            note=file_name, after={"strategy": summary.options.strategy,
                                   "ignored": summary.ignored})
        counts = values_service.apply_changes(session, plan, source="dhis2", access=access,
                                              import_batch_id=batch.id, event=event)
        batch.inserted, batch.updated, batch.unchanged = counts
    for _cell, stored in deletes:  # each deletion is audited by the values service
        values_service.delete_value(session, stored.id, comment="DHIS2 deleted",
                                    access=access)
    batch.finished_at, batch.status = utcnow(), "done"
    summary.batch_id = batch.id


def _store_followups(session: Session, rows: list[_Row]) -> int:
    created = 0
    for row in rows:
        if not row.followup:
            continue
        assert row.unit is not None and row.indicator is not None
        period = parse_period(row.period).id
        exists = session.scalar(select(ValueFlag.id).where(
            ValueFlag.unit_id == row.unit.id, ValueFlag.indicator_id == row.indicator.id,
            ValueFlag.period == period, ValueFlag.kind == "followup"))
        if exists is None:
            session.add(ValueFlag(unit_id=row.unit.id, indicator_id=row.indicator.id,
                                  period=period, kind="followup", note="DHIS2 followup"))
            session.flush()
            created += 1
    return created


def _complete(session: Session, data_set: DataSet, document: dict[str, Any], access: Access,
              summary: ImportSummary) -> None:
    """completeDate with the document's own dataSet, period and orgUnit: that one report is
    registered as sent, on that date (DHIS2's complete data set registration)."""
    period, unit_code = str(document.get("period") or ""), str(document.get("orgUnit") or "")
    unit = _unit_by(session, unit_code, summary.options.scheme("orgUnit"), period)
    try:
        day = dt.date.fromisoformat(str(document["completeDate"])[:10])
        submission = service.submission_for(session, data_set, unit.id, period) \
            if unit is not None else None
    except (ValueError, service.PeriodRefused):
        submission = None
    if submission is None:
        summary.conflict(None, "E7605", "completeDate", str(document.get("completeDate")),
                         "Complete registration needs a valid completeDate, period and "
                         "orgUnit of the data set")
        return
    if submission.status in (service.DRAFT, service.RETURNED):
        service.submit(session, submission, access=access)
        service.mark_sent_on(submission, day)
        summary.completed.append(f"{unit_code}:{period}")
    summary.data_set_complete = day.isoformat()


# ------------------------------------------------------------------ export


@dataclass
class ExportQuery:
    data_sets: list[str]
    periods: list[str]
    start: dt.date | None
    end: dt.date | None
    org_units: list[str]
    children: bool
    include_deleted: bool
    data_element_scheme: str
    org_unit_scheme: str
    csv: bool

    @classmethod
    def from_params(cls, params: Any, headers: Mapping[str, str], *, csv_path: bool = False
                    ) -> ExportQuery:
        def many(name: str) -> list[str]:
            return [v for v in params.getlist(name) if v]

        scheme = _scheme(params.get("idScheme")) or "CODE"
        accept = headers.get("accept", "").lower()
        return cls(
            data_sets=many("dataSet"), periods=many("period"),
            start=_date(params.get("startDate")), end=_date(params.get("endDate")),
            org_units=many("orgUnit"), children=_flag(params.get("children")),
            include_deleted=_flag(params.get("includeDeleted")),
            data_element_scheme=_scheme(params.get("dataElementIdScheme")) or scheme,
            org_unit_scheme=_scheme(params.get("orgUnitIdScheme")) or scheme,
            csv=csv_path or params.get("format") == "csv" or "csv" in accept)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise Dhis2Error(f"ngày '{text}' không đúng dạng yyyy-mm-dd",
                         f"date '{text}' is not yyyy-mm-dd") from None


def export_for(session: Session, query: ExportQuery, *, access: Access) -> dict[str, Any]:
    """The values of the data sets asked for, in the periods and units asked for, that the
    caller may read (READ on a named org unit, else the readable reporting units)."""
    if not query.data_sets:
        raise Dhis2Error("cần tham số dataSet", "the dataSet parameter is required")
    data_sets = [service.data_set_by_code(session, code) for code in query.data_sets]
    periods = _periods(session, data_sets, query)
    unit_ids = _export_units(session, data_sets, periods, query, access)
    document = export_data_values(session, data_sets=data_sets, periods=periods,
                                  unit_ids=sorted(unit_ids), schemes=(
                                      query.data_element_scheme, query.org_unit_scheme),
                                  include_deleted=query.include_deleted)
    return document


def _periods(session: Session, data_sets: list[DataSet], query: ExportQuery) -> list[str]:
    periods = [parse_period(p).id for p in query.periods]
    if query.start and query.end:
        for data_set in data_sets:
            periods += _periods_between(PeriodType(data_set.period_type), query.start,
                                        query.end)
    if not periods:
        raise Dhis2Error("cần tham số period hoặc startDate và endDate",
                         "the period parameter, or startDate and endDate, is required")
    return sorted(set(periods))


def _periods_between(kind: PeriodType, start: dt.date, end: dt.date) -> list[str]:
    found = []
    period: Period = parse_period(str(end.year + 1)) if kind is PeriodType.YEAR else \
        Period(end.year + 1, kind, 1)
    while period.end() >= start:
        if period.start() >= start and period.end() <= end:
            found.append(period.id)
        period = period.previous()
    return found


def _export_units(session: Session, data_sets: list[DataSet], periods: list[str],
                  query: ExportQuery, access: Access) -> set[int]:
    if query.org_units:
        ids: set[int] = set()
        for ident in query.org_units:
            unit = _unit_by(session, ident, query.org_unit_scheme)
            if unit is None:
                raise Dhis2Error(f"không có đơn vị '{ident}'", f"no org unit '{ident}'")
            access.require(Action.READ, unit.id)
            ids.add(unit.id)
            if query.children:
                ids |= set(descendant_ids(session, unit.id))
        return service.units_allowed(session, access, Action.READ, ids)
    reporting = {s.unit_id for d in data_sets for p in periods
                 for s in service.expected_submissions(session, d, p)}
    return service.units_allowed(session, access, Action.READ, reporting)


def export_data_values(session: Session, *, data_sets: list[DataSet], periods: list[str],
                       unit_ids: list[int] | None = None,
                       schemes: tuple[str, str] = ("CODE", "CODE"),
                       include_deleted: bool = False) -> dict[str, Any]:
    """A dataValueSet document for the data sets' indicators, units and periods."""
    indicator_ids = list(session.scalars(select(DataSetIndicator.indicator_id).where(
        DataSetIndicator.data_set_id.in_([d.id for d in data_sets]))))
    first = aliased(DataValueVersion)
    query = (
        select(Indicator, DataValue.period, OrgUnit, DataValue.numerator,
               DataValue.denominator, DataValue.value, DataValue.comment, User.username,
               first.changed_at, DataValue.updated_at, DataValue.deleted)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
        .outerjoin(User, User.id == DataValue.updated_by_id)
        .outerjoin(first, (first.data_value_id == DataValue.id) & (first.version == 1))
        .where(DataValue.indicator_id.in_(indicator_ids or [-1]),
               DataValue.period.in_(periods))
        .order_by(DataValue.period, OrgUnit.code, Indicator.code))
    if not include_deleted:
        query = query.where(DataValue.deleted.is_(False))
    if unit_ids is not None:
        query = query.where(DataValue.unit_id.in_(unit_ids or [-1]))
    flagged = _followups(session)
    values: list[dict[str, Any]] = []
    for row in session.execute(query):
        values += _data_values(row, (row[2].id, row[0].id, row[1]) in flagged, schemes)
    document: dict[str, Any] = {"dataValues": values}
    if len(data_sets) == 1 and len(periods) == 1 and unit_ids and len(unit_ids) == 1:
        _single_report_header(session, document, data_sets[0], periods[0], unit_ids[0],
                              schemes)
    return document


def _single_report_header(session: Session, document: dict[str, Any], data_set: DataSet,
                          period: str, unit_id: int, schemes: tuple[str, str]) -> None:
    unit = session.get(OrgUnit, unit_id)
    assert unit is not None
    document.update({"dataSet": data_set.code, "period": period,
                     "orgUnit": unit.name if schemes[1] == "NAME" else unit.code})
    try:
        submission = service.submission_for(session, data_set, unit_id, period)
    except service.PeriodRefused:
        return
    if submission.first_submitted_at is not None:
        document["completeDate"] = service.vn_date(submission.first_submitted_at).isoformat()


def _followups(session: Session) -> set[tuple[int, int, str]]:
    return {tuple(r) for r in session.execute(select(  # type: ignore[misc]
        ValueFlag.unit_id, ValueFlag.indicator_id, ValueFlag.period).where(
        ValueFlag.status == "open"))}


def _data_values(row: Any, followup: bool, schemes: tuple[str, str]) -> list[dict[str, Any]]:
    (indicator, period, unit, numerator, denominator, value, comment, user, created,
     updated, deleted) = row
    element = indicator.name_vi if schemes[0] == "NAME" else indicator.code
    base = {"dataElement": element, "period": period,
            "orgUnit": unit.name if schemes[1] == "NAME" else unit.code,
            "attributeOptionCombo": DEFAULT, "storedBy": user or "chiso",
            "created": _stamp(created or updated), "lastUpdated": _stamp(updated),
            "followup": followup, "deleted": bool(deleted)}
    own, _, denominator_note = (comment or "").partition(DENOMINATOR_NOTE)
    if indicator.kind == "ratio" and numerator is not None and denominator is not None:
        return [{**base, "categoryOptionCombo": NUMERATOR, "value": _text(numerator),
                 "comment": own},
                {**base, "categoryOptionCombo": DENOMINATOR, "value": _text(denominator),
                 "comment": denominator_note or own}]
    return [{**base, "categoryOptionCombo": DEFAULT, "value": _text(value), "comment": own}]


def _stamp(moment: Any) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") if moment else ""


def _text(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


# Free text a spreadsheet could run as a formula ("=…") is guarded with a leading "'";
# numbers ("-5") are data and stay as they are. Reading guarded text back removes it.
FREE_TEXT = ("storedBy", "comment")


def to_csv(document: dict[str, Any]) -> str:
    """DHIS2's CSV: its eleven columns in its order, header first (no `created`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for value in document["dataValues"]:
        writer.writerow([_csv_cell(spreadsheet_safe(value.get(key)) if key in FREE_TEXT
                                   else value.get(key)) for key in JSON_KEYS])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)

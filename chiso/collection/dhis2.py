"""DHIS2-compatible `dataValueSets` import and export (JSON and CSV).

Field names are DHIS2's own (dataSet, completeDate, period, orgUnit, dataElement,
categoryOptionCombo, attributeOptionCombo, value, storedBy, created, lastUpdated, comment,
followup); identifiers are codes (idScheme=CODE, the only scheme chiso has: our indicator
and unit codes are the DHIS2 codes). Periods use DHIS2's formats, which are chiso's own:
2025, 2025S1, 2025Q3, 202509.

A ratio indicator travels as two data values with category option combos `NUMERATOR` and
`DENOMINATOR` (the value is recomputed from them); a ratio known only as a value, and every
other indicator, uses the `default` combo. `attributeOptionCombo` is always `default`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from chiso.accounts.access import Access
from chiso.accounts.models import User
from chiso.audit.service import record_event
from chiso.collection import service
from chiso.collection.models import DataSet, ValueFlag
from chiso.db.base import utcnow
from chiso.indicators.models import Indicator
from chiso.periods import PeriodError, parse_period
from chiso.units.models import OrgUnit
from chiso.values.importer import ImportIssue, ImportResult, validate_tables
from chiso.values.models import DataValue, DataValueVersion, ImportBatch
from chiso.values.parsing import cell_text
from chiso.values.reader import SheetTable
from chiso.values.service import apply_changes, plan_changes

NUMERATOR, DENOMINATOR, DEFAULT = "NUMERATOR", "DENOMINATOR", "default"
CSV_FIELDS = ("dataelement", "period", "orgunit", "categoryoptioncombo",
              "attributeoptioncombo", "value", "storedby", "created", "lastupdated",
              "comment", "followup")
CSV_ALIASES = {"catoptcombo": "categoryoptioncombo", "attroptcombo": "attributeoptioncombo",
               "dataelementid": "dataelement", "orgunitid": "orgunit"}
JSON_FIELD = {"dataelement": "dataElement", "orgunit": "orgUnit",
              "categoryoptioncombo": "categoryOptionCombo",
              "attributeoptioncombo": "attributeOptionCombo", "storedby": "storedBy",
              "lastupdated": "lastUpdated"}
ISSUE_COLUMN = {"unit_code": "orgUnit", "indicator_code": "dataElement", "period": "period",
                "numerator": "value (NUMERATOR)", "denominator": "value (DENOMINATOR)",
                "value": "value", "comment": "comment"}


class Dhis2Error(ValueError):
    def __init__(self, vi: str, en: str) -> None:
        self.message_vi, self.message_en = vi, en
        super().__init__(f"{vi} / {en}")


# ------------------------------------------------------------------ export


def export_data_values(session: Session, *, data_set: DataSet, periods: list[str],
                       unit_ids: list[int] | None = None) -> dict[str, Any]:
    """A dataValueSets document for the data set's indicators, units and periods."""
    indicator_ids = [i.id for i in service.indicators_of(session, data_set)]
    first = aliased(DataValueVersion)
    query = (
        select(Indicator.code, Indicator.kind, DataValue.period, OrgUnit.code,
               DataValue.numerator, DataValue.denominator, DataValue.value, DataValue.comment,
               User.username, first.changed_at, DataValue.updated_at, DataValue.unit_id,
               DataValue.indicator_id)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
        .outerjoin(User, User.id == DataValue.updated_by_id)
        .outerjoin(first, (first.data_value_id == DataValue.id) & (first.version == 1))
        .where(DataValue.deleted.is_(False), DataValue.indicator_id.in_(indicator_ids),
               DataValue.period.in_([parse_period(p).id for p in periods]))
        .order_by(DataValue.period, OrgUnit.code, Indicator.code))
    if unit_ids is not None:
        query = query.where(DataValue.unit_id.in_(unit_ids))
    flagged = _followups(session)
    values: list[dict[str, Any]] = []
    for row in session.execute(query):
        values += _data_values(row, (row[11], row[12], row[2]) in flagged)
    document: dict[str, Any] = {"dataSet": data_set.code, "dataValues": values}
    if len(periods) == 1 and unit_ids is not None and len(unit_ids) == 1:
        document["period"] = parse_period(periods[0]).id
        unit = session.get(OrgUnit, unit_ids[0])
        document["orgUnit"] = unit.code if unit else ""
        submission = service.submission_for(session, data_set, unit_ids[0], periods[0])
        if submission.submitted_at is not None:
            document["completeDate"] = submission.submitted_at.date().isoformat()
    return document


def _followups(session: Session) -> set[tuple[int, int, str]]:
    return set(session.execute(select(ValueFlag.unit_id, ValueFlag.indicator_id,
                                      ValueFlag.period).where(ValueFlag.status == "open")))


def _data_values(row: Any, followup: bool) -> list[dict[str, Any]]:
    (code, kind, period, unit, numerator, denominator, value, comment, user, created,
     updated, _unit_id, _indicator_id) = row
    base = {"dataElement": code, "period": period, "orgUnit": unit,
            "attributeOptionCombo": DEFAULT, "storedBy": user or "chiso",
            "created": _stamp(created or updated), "lastUpdated": _stamp(updated),
            "followup": followup}
    if kind == "ratio" and numerator is not None and denominator is not None:
        return [{**base, "categoryOptionCombo": NUMERATOR, "value": _text(numerator),
                 "comment": comment or ""},
                {**base, "categoryOptionCombo": DENOMINATOR, "value": _text(denominator),
                 "comment": ""}]
    return [{**base, "categoryOptionCombo": DEFAULT, "value": _text(value),
             "comment": comment or ""}]


def _stamp(moment: Any) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") if moment else ""


def _text(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def to_csv(document: dict[str, Any]) -> str:
    """DHIS2's CSV data value format (one header row, lower-case field names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for value in document["dataValues"]:
        writer.writerow([_csv_cell(value.get(JSON_FIELD.get(name, name))) for name in
                         CSV_FIELDS])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# ------------------------------------------------------------------ import


@dataclass
class Dhis2Import:
    result: ImportResult
    data_set: str = ""
    completed: list[str] = field(default_factory=list)
    followups: int = 0

    def as_dict(self, limit: int = 500) -> dict[str, Any]:
        return {**self.result.as_dict(limit), "dataSet": self.data_set,
                "completed": self.completed, "followups": self.followups}


def read_document(path: Path) -> dict[str, Any]:
    """A dataValueSets document from a .json or DHIS2 .csv file."""
    raw = path.read_bytes()
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Dhis2Error(f"tệp JSON không hợp lệ ({exc})", f"invalid JSON ({exc})") from None
        if not isinstance(document, dict) or not isinstance(document.get("dataValues"), list):
            raise Dhis2Error("thiếu mục 'dataValues'", "'dataValues' is missing")
        return document
    text = raw.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = [CSV_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in next(reader, [])]
    if "dataelement" not in header:
        raise Dhis2Error("dòng tiêu đề CSV thiếu cột 'dataelement'",
                         "the CSV header has no 'dataelement' column")
    values = []
    for cells in reader:
        if any(c.strip() for c in cells):
            record = dict(zip(header, cells, strict=False))
            values.append({JSON_FIELD.get(k, k): v for k, v in record.items()})
    return {"dataValues": values}


def _check_schemes(options: dict[str, str]) -> None:
    for key in ("idScheme", "dataElementIdScheme", "orgUnitIdScheme"):
        scheme = (options.get(key) or "CODE").upper()
        if scheme != "CODE":
            raise Dhis2Error(f"{key}={scheme}: chiso chỉ dùng mã (CODE)",
                             f"{key}={scheme}: chiso identifies objects by CODE only")


def import_document(session: Session, document: dict[str, Any], *, file_name: str,
                    sha256: str = "", dry_run: bool = True, actor: Any = None,
                    access: Access | None = None, options: dict[str, str] | None = None
                    ) -> Dhis2Import:
    """Validate a dataValueSets document, then store all of it or nothing."""
    _check_schemes(options or {})
    result = ImportResult(file_name, sha256, dry_run)
    outcome = Dhis2Import(result, str(document.get("dataSet") or ""))
    records, shape_issues = _records(document, file_name)
    table = SheetTable("dataValues", 1, {}, records.drop("followup"))
    frame, errors = validate_tables(session, [table], access)
    result.rows = frame.height
    issues = shape_issues + [ImportIssue(
        file_name, "dataValues", _line(frame, e["_row"]), ISSUE_COLUMN.get(e["column"],
                                                                            e["column"]),
        e["rule"], e["message_vi"], e["message_en"]) for e in errors.iter_rows(named=True)]
    data_set = _data_set(session, outcome.data_set, file_name, issues)
    if not issues:
        keys = frame.select("unit_id", "indicator_id", "period")
        locked = service.locked_for(session, keys, actor)
        issues += [ImportIssue(file_name, "dataValues", None, "value", "approved_locked",
                               f"đơn vị #{u} kỳ {p} đã được duyệt và khóa",
                               f"unit #{u} period {p} is approved and locked")
                   for u, _i, p in sorted(locked)]
    if issues:
        result.errors = issues
        return outcome
    plan = plan_changes(session, frame)
    result.inserts, result.updates, result.unchanged = (
        plan.inserts.select("unit_code", "indicator_code", "period", "numerator",
                            "denominator", "value"),
        plan.updates.select("unit_code", "indicator_code", "period", "numerator",
                            "denominator", "value", "value_old"),
        plan.unchanged.select("unit_code", "indicator_code", "period", "value"))
    if dry_run:
        return outcome
    _store(session, plan, outcome, actor)
    outcome.followups = _store_followups(session, frame, records)
    if data_set is not None and document.get("completeDate"):
        outcome.completed = _complete(session, data_set, frame, actor)
    return outcome


def _records(document: dict[str, Any], file_name: str
             ) -> tuple[pl.DataFrame, list[ImportIssue]]:
    """Data values grouped by element × period × org unit, combos pivoted into
    numerator / denominator / value; `_line` is the first data value's position (1-based)."""
    top_period, top_unit = document.get("period"), document.get("orgUnit")
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    issues = []
    for index, value in enumerate(document["dataValues"], start=1):
        if not isinstance(value, dict):
            continue
        key = (str(value.get("dataElement") or "").strip(),
               str(value.get("period") or top_period or "").strip(),
               str(value.get("orgUnit") or top_unit or "").strip())
        combo = str(value.get("categoryOptionCombo") or DEFAULT).strip()
        target = {NUMERATOR: "numerator", DENOMINATOR: "denominator"}.get(combo.upper(),
                                                                         "value")
        if combo.upper() not in (NUMERATOR, DENOMINATOR) and combo.lower() != DEFAULT:
            issues.append(ImportIssue(file_name, "dataValues", index, "categoryOptionCombo",
                                      "dhis2_combo", f"nhóm phân tổ '{combo}' không dùng "
                                      "được (NUMERATOR, DENOMINATOR hoặc default)",
                                      f"category option combo '{combo}' is not NUMERATOR, "
                                      "DENOMINATOR or default"))
        _check_period(key[1], index, file_name, issues)
        record = grouped.setdefault(key, {"_line": index, "indicator_code": key[0],
                                          "period": key[1], "unit_code": key[2],
                                          "numerator": None, "denominator": None,
                                          "value": None, "comment": None, "source": "dhis2",
                                          "followup": False})
        record[target] = cell_text(value.get("value"))
        record["comment"] = record["comment"] or (str(value.get("comment") or "") or None)
        record["followup"] |= str(value.get("followup")).lower() == "true"
    schema = {"_line": pl.Int64, **dict.fromkeys(
        ("unit_code", "indicator_code", "period", "numerator", "denominator", "value",
         "source", "comment"), pl.String), "followup": pl.Boolean}
    return pl.DataFrame(list(grouped.values()), schema=schema), issues


def _check_period(text: str, index: int, file_name: str, issues: list[ImportIssue]) -> None:
    try:
        if parse_period(text).id != text.upper():
            raise PeriodError(text)
    except PeriodError:
        issues.append(ImportIssue(file_name, "dataValues", index, "period", "dhis2_period",
                                  f"kỳ '{text}' không theo định dạng DHIS2 (2025, 2025S1, "
                                  "2025Q3, 202509)", f"period '{text}' is not a DHIS2 "
                                  "period (2025, 2025S1, 2025Q3, 202509)"))


def _line(frame: pl.DataFrame, row_id: int) -> int | None:
    hit = frame.filter(pl.col("_row") == row_id)
    return hit.item(0, "_line") if hit.height else None


def _data_set(session: Session, code: str, file_name: str, issues: list[ImportIssue]
              ) -> DataSet | None:
    if not code:
        return None
    try:
        return service.data_set_by_code(session, code)
    except service.WorkflowError as exc:
        issues.append(ImportIssue(file_name, "", None, "dataSet", "dhis2_data_set",
                                  exc.message_vi, exc.message_en))
        return None


def _store(session: Session, plan: Any, outcome: Dhis2Import, actor: Any) -> None:
    result = outcome.result
    changed = pl.concat([plan.inserts.select("unit_id", "indicator_id", "period"),
                         plan.updates.select("unit_id", "indicator_id", "period")])
    if changed.is_empty():
        return
    service.guard_if_unhooked(session, changed, actor)
    batch = ImportBatch(kind="dhis2", file_name=result.file_name[:400], sha256=result.sha256,
                        user_id=getattr(actor, "id", None))
    session.add(batch)
    session.flush()
    summary = apply_changes(session, plan, source="dhis2", actor=actor,
                            import_batch_id=batch.id, audit=False)
    batch.inserted, batch.updated, batch.unchanged = summary
    batch.finished_at, batch.status = utcnow(), "done"
    result.batch_id = batch.id
    record_event(session, action="collection.dhis2_import", object_type="import_batch",
                 object_id=batch.id, actor=actor, note=result.file_name,
                 after={"dataSet": outcome.data_set, **summary._asdict()})


def _store_followups(session: Session, frame: pl.DataFrame, records: pl.DataFrame) -> int:
    marked = frame.join(records.select("_line", "followup"), on="_line").filter("followup")
    created = 0
    for row in marked.iter_rows(named=True):
        exists = session.scalar(select(ValueFlag.id).where(
            ValueFlag.unit_id == row["unit_id"], ValueFlag.indicator_id == row["indicator_id"],
            ValueFlag.period == row["period"], ValueFlag.kind == "followup"))
        if exists is None:
            session.add(ValueFlag(unit_id=row["unit_id"], indicator_id=row["indicator_id"],
                                  period=row["period"], kind="followup",
                                  note="DHIS2 followup"))
            created += 1
    return created


def _complete(session: Session, data_set: DataSet, frame: pl.DataFrame, actor: Any
              ) -> list[str]:
    """completeDate given: the (unit, period) reports still in draft become submitted."""
    done = []
    for unit_id, period in frame.select("unit_id", "period").unique().sort(
            "unit_id", "period").iter_rows():
        try:
            submission = service.submission_for(session, data_set, unit_id, period)
        except service.WorkflowError:
            continue
        if submission.status in (service.DRAFT, service.RETURNED):
            service.submit(session, submission, actor=actor)
            done.append(f"{unit_id}:{period}")
    return done


def import_file(session: Session, path: Path, **kwargs: Any) -> Dhis2Import:
    name = kwargs.pop("display_name", None) or path.name
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        document = read_document(path)
    except Dhis2Error as exc:
        result = ImportResult(name, sha, kwargs.get("dry_run", True))
        result.errors = [ImportIssue(name, "", None, "", "file_unreadable", exc.message_vi,
                                     exc.message_en)]
        return Dhis2Import(result)
    return import_document(session, document, file_name=name, sha256=sha, **kwargs)

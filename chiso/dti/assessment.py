"""The self-assessment workspace: criteria assigned to a lead unit and an owner, self scores
with evidence, the appraisal council's scores, a lock on submission, full history, and the
common spreadsheet layout in and out (the round trip loses nothing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.access import Access, Action, Actor, PermissionDenied
from chiso.audit.service import record_event
from chiso.db.base import utcnow
from chiso.dti.framework import Framework
from chiso.dti.models import DtiAssessment, DtiCriterion, DtiCriterionVersion, DtiEvidence
from chiso.dti.service import (
    ImportRejected,
    _overflow_message,
    _overflows,
    read_table,
    table_number,
)
from chiso.errors import Conflict, UserError
from chiso.text import accent_free_key, nfc, parse_date, spreadsheet_safe

STATUSES: dict[str, tuple[str, str]] = {
    "not_started": ("Chưa thực hiện", "Not started"),
    "in_progress": ("Đang thực hiện", "In progress"),
    "needs_evidence": ("Cần bổ sung minh chứng", "Needs more evidence"),
    "done": ("Hoàn thành", "Done"),
}
# The spreadsheet layout: (field, Vietnamese header, English header).
COLUMNS: list[tuple[str, str, str]] = [
    ("code", "Mã", "Code"),
    ("name", "Tiêu chí", "Criterion"),
    ("group_name", "Nhóm", "Group"),
    ("max_points", "Điểm tối đa", "Max points"),
    ("self_score", "Điểm tự đánh giá", "Self score"),
    ("appraised_score", "Điểm thẩm định", "Appraised score"),
    ("difference", "Chênh lệch", "Difference"),
    ("status", "Trạng thái", "Status"),
    ("owner", "Người phụ trách", "Owner"),
    ("deadline", "Hạn hoàn thành", "Deadline"),
    ("evidence", "Minh chứng", "Evidence"),
    ("lead_unit_code", "Đơn vị chủ trì", "Lead unit"),
    ("notes", "Ghi chú", "Notes"),
]
HEADER_ALIASES = {accent_free_key(vi): f for f, vi, _ in COLUMNS} | {
    accent_free_key(en): f for f, _, en in COLUMNS} | {
    "han": "deadline", "thoi han": "deadline", "diem tu cham": "self_score",
    "diem hoi dong": "appraised_score", "chenh lech diem": "difference",
    "don vi phu trach": "lead_unit_code", "ma tieu chi": "code", "ten tieu chi": "name"}
EVIDENCE_SEPARATOR = "; "
DEMO_ACTOR = "system:demo"  # who the demo builder writes as (Access.system(..., "demo"))
EDITABLE_BY_LEAD = {"self_score", "status", "notes", "evidence_refs"}
EDITABLE_BY_COUNCIL = {"appraised_score"}
ASSIGNMENT = {"name", "group_name", "max_points", "lead_unit_code", "owner", "deadline"}


class AssessmentError(UserError):
    """A rule of the workspace was broken (422); Vietnamese and English."""


class AssessmentLocked(AssessmentError):
    """The round is submitted: only the council's score may still change (423 Locked)."""

    status = 423


class StaleCriterion(AssessmentError, Conflict):
    """Someone else changed the criterion since the form was loaded (409)."""

    status = 409


# ------------------------------------------------------------------ rounds and criteria


def get_assessment(session: Session, framework_code: str, year: int, unit_code: str
                   ) -> DtiAssessment | None:
    return session.scalar(select(DtiAssessment).where(
        DtiAssessment.framework_code == framework_code, DtiAssessment.year == year,
        DtiAssessment.unit_code == unit_code))


def open_assessment(session: Session, framework: Framework, year: int, unit_code: str, *,
                    access: Access, seed: bool = True) -> DtiAssessment:
    """The round for (framework, year, unit), created with one criterion per leaf (MANAGE
    on the unit; one audit event for the round, the criteria's first versions in their
    history)."""
    access.require(Action.MANAGE, _unit_id(session, unit_code))
    found = get_assessment(session, framework.code, year, unit_code)
    if found is not None:
        return found
    assessment = DtiAssessment(framework_code=framework.code, year=year, unit_code=unit_code)
    session.add(assessment)
    session.flush()
    actor = access.actor
    criteria = []
    if seed:
        for position, leaf in enumerate(framework.leaves):
            if not leaf.weight:
                continue
            parent = framework.nodes[leaf.parent] if leaf.parent else None
            criteria.append(_create_criterion(
                session, assessment, actor, position=position, code=leaf.code,
                name=leaf.name_vi, max_points=float(leaf.weight),
                group_name=parent.name_vi if parent and parent.parent else "").code)
    record_event(session, action="dti.assessment.open", object_type="dti_assessment",
                 object_id=assessment.id, actor=actor,
                 after={"framework": framework.code, "year": year, "unit": unit_code,
                        "criteria": criteria})
    return assessment


def _create_criterion(session: Session, assessment: DtiAssessment, actor: Actor | None,
                      **values: Any) -> DtiCriterion:
    """A new criterion and its first version; the caller writes the audit event."""
    criterion = DtiCriterion(version=1, updated_by=_actor_name(actor), **values)
    assessment.criteria.append(criterion)  # keeps the loaded list in step with the table
    session.flush()
    _snapshot(session, criterion, actor)
    return criterion


def _actor_name(actor: Actor | None) -> str:
    return getattr(actor, "username", None) or "system"


def _state(criterion: DtiCriterion) -> dict[str, Any]:
    return {"code": criterion.code, "name": criterion.name, "group_name": criterion.group_name,
            "max_points": criterion.max_points, "lead_unit_code": criterion.lead_unit_code,
            "owner": criterion.owner,
            "deadline": criterion.deadline.isoformat() if criterion.deadline else None,
            "self_score": criterion.self_score, "appraised_score": criterion.appraised_score,
            "status": criterion.status, "notes": criterion.notes,
            "evidence_refs": criterion.evidence_refs,
            "evidence": [e.sha256 for e in criterion.evidence if not e.is_deleted]}


def _snapshot(session: Session, criterion: DtiCriterion, actor: Actor | None) -> None:
    session.add(DtiCriterionVersion(criterion_id=criterion.id, version=criterion.version,
                                    snapshot=_state(criterion), changed_by=_actor_name(actor)))


def history(session: Session, criterion_id: int) -> list[DtiCriterionVersion]:
    return list(session.scalars(select(DtiCriterionVersion).where(
        DtiCriterionVersion.criterion_id == criterion_id).order_by(DtiCriterionVersion.version)))


def _unit_id(session: Session, code: str) -> int | None:
    from chiso.units.models import OrgUnit

    if not code:
        return None
    return session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)
                          .order_by(OrgUnit.valid_to.is_(None).desc(),
                                    OrgUnit.valid_from.desc()).limit(1))


def may_edit(access: Access, session: Session, criterion: DtiCriterion,
             fields: set[str]) -> bool:
    """MANAGE on the assessed unit may change anything; CAPTURE on the criterion's lead
    unit may enter the self score, status, notes and evidence."""
    owner_unit = _unit_id(session, criterion.assessment.unit_code)
    if access.can(Action.MANAGE, owner_unit):
        return True
    lead = _unit_id(session, criterion.lead_unit_code)
    return fields <= EDITABLE_BY_LEAD and lead is not None and access.can(Action.CAPTURE, lead)


def update_criterion(session: Session, criterion: DtiCriterion, *, access: Access,
                     expected_version: int | None = None, audit: bool = True,
                     **changes: Any) -> bool:
    """Change fields of a criterion; returns False when nothing changed. Writes a history
    row and (unless the caller audits the whole batch, as the import does) an audit event.
    After submission only the council's score may change."""
    if expected_version is not None and expected_version != criterion.version:
        raise StaleCriterion(f"Tiêu chí {criterion.code} đã được người khác sửa (phiên bản "
                             f"{criterion.version}) — hãy tải lại / criterion {criterion.code} "
                             "was changed by someone else — reload")
    changes = {k: v for k, v in _clean(criterion, changes).items()
               if getattr(criterion, k) != v}
    if not changes:
        return False
    if criterion.assessment.status == "submitted" and set(changes) - EDITABLE_BY_COUNCIL:
        raise AssessmentLocked(f"Bản tự đánh giá đã nộp, không sửa được tiêu chí "
                               f"{criterion.code} / the assessment is submitted, criterion "
                               f"{criterion.code} is locked")
    if not may_edit(access, session, criterion, set(changes)):
        raise PermissionDenied(Action.MANAGE if set(changes) - EDITABLE_BY_LEAD else
                               Action.CAPTURE, _unit_id(session, criterion.lead_unit_code))
    before = _state(criterion)
    for key, value in changes.items():
        setattr(criterion, key, value)
    _bump(session, criterion, access.actor, before, audit=audit)
    return True


def _bump(session: Session, criterion: DtiCriterion, actor: Actor | None, before: dict[str, Any],
          *, audit: bool = True) -> None:
    criterion.version += 1
    criterion.updated_at = utcnow()
    criterion.updated_by = _actor_name(actor)
    session.flush()
    _snapshot(session, criterion, actor)
    if audit:
        record_event(session, action="dti.criterion.update", object_type="dti_criterion",
                     object_id=criterion.id, actor=actor, before=before,
                     after=_state(criterion))


def _clean(criterion: DtiCriterion, changes: dict[str, Any]) -> dict[str, Any]:
    allowed = EDITABLE_BY_LEAD | EDITABLE_BY_COUNCIL | ASSIGNMENT
    unknown = set(changes) - allowed
    if unknown:
        raise AssessmentError(f"Trường không sửa được: {sorted(unknown)} / fields that cannot "
                              f"be changed: {sorted(unknown)}")
    cleaned = dict(changes)
    maximum = float(cleaned.get("max_points", criterion.max_points))
    for key in ("self_score", "appraised_score"):
        value = cleaned.get(key)
        if value is not None and not 0 <= float(value) <= maximum:
            raise AssessmentError(f"Tiêu chí {criterion.code}: điểm {value} ngoài khoảng 0–"
                                  f"{maximum:g} / score {value} outside 0–{maximum:g}")
    if "status" in cleaned and cleaned["status"] not in STATUSES:
        raise AssessmentError(f"Trạng thái '{cleaned['status']}' không hợp lệ / status "
                              f"'{cleaned['status']}' is not valid")
    for key in ("name", "group_name", "owner", "notes", "evidence_refs", "lead_unit_code"):
        if key in cleaned:
            cleaned[key] = nfc(cleaned[key] or "").strip()
    return cleaned


def submit(session: Session, assessment: DtiAssessment, *, access: Access) -> None:
    """Lock the self scores (MANAGE on the assessed unit)."""
    access.require(Action.MANAGE, _unit_id(session, assessment.unit_code))
    if assessment.status == "submitted":
        return
    assessment.status = "submitted"
    assessment.submitted_at = utcnow()
    assessment.submitted_by = _actor_name(access.actor)
    record_event(session, action="dti.assessment.submit", object_type="dti_assessment",
                 object_id=assessment.id, actor=access.actor, after={"status": "submitted"})


# ------------------------------------------------------------------ evidence


def add_evidence(session: Session, criterion: DtiCriterion, file_name: str, content: bytes,
                 *, access: Access) -> DtiEvidence:
    """Keep a file in chiso.storage (it checks size and kind) and attach it."""
    if criterion.assessment.status == "submitted":
        raise AssessmentLocked(f"Bản tự đánh giá đã nộp / the assessment is submitted "
                               f"({criterion.code})")
    if not may_edit(access, session, criterion, {"evidence_refs"}):
        raise PermissionDenied(Action.CAPTURE, _unit_id(session, criterion.lead_unit_code))
    name = nfc(Path(file_name).name).strip() or "minh-chung"
    digest = storage.save(session, content, file_name=name).sha256
    actor = access.actor
    before = _state(criterion)
    evidence = DtiEvidence(criterion_id=criterion.id, file_name=name, size=len(content),
                           sha256=digest, stored_path=storage.store_path(digest),
                           uploaded_by=_actor_name(actor))
    session.add(evidence)
    session.flush()
    session.refresh(criterion)
    _bump(session, criterion, actor, before)
    return evidence


def remove_evidence(session: Session, evidence: DtiEvidence, *, access: Access) -> None:
    """Detach a file (soft delete: the row and the stored file stay for the history)."""
    criterion = evidence.criterion
    if criterion.assessment.status == "submitted":
        raise AssessmentLocked(f"Bản tự đánh giá đã nộp / the assessment is submitted "
                               f"({criterion.code})")
    if not may_edit(access, session, criterion, {"evidence_refs"}):
        raise PermissionDenied(Action.CAPTURE, _unit_id(session, criterion.lead_unit_code))
    before = _state(criterion)
    evidence.is_deleted = True
    session.flush()
    _bump(session, criterion, access.actor, before)


# ------------------------------------------------------------------ spreadsheet layout


def _evidence_cell(criterion: DtiCriterion) -> str:
    names = [e.file_name for e in criterion.evidence if not e.is_deleted]
    refs = [r for r in criterion.evidence_refs.split("\n") if r]
    return EVIDENCE_SEPARATOR.join(names + refs)


def export_rows(assessment: DtiAssessment, locale: str = "vi") -> list[dict[str, Any]]:
    rows = []
    for c in assessment.criteria:
        difference = (None if c.self_score is None or c.appraised_score is None
                      else round(c.appraised_score - c.self_score, 6))
        rows.append({"code": c.code, "name": c.name, "group_name": c.group_name,
                     "max_points": c.max_points, "self_score": c.self_score,
                     "appraised_score": c.appraised_score, "difference": difference,
                     "status": STATUSES[c.status][0 if locale == "vi" else 1],
                     "owner": c.owner, "deadline": c.deadline, "evidence": _evidence_cell(c),
                     "lead_unit_code": c.lead_unit_code, "notes": c.notes})
    return rows


def export_xlsx(assessment: DtiAssessment, path: Path) -> Path:
    """The common layout, one criterion a row, Vietnamese headers, dates as dd/mm/yyyy.
    Text typed by people (names, notes, evidence) is written so that it cannot run as a
    formula (`spreadsheet_safe`); the import reads it back as typed."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Tu danh gia"
    sheet.append([vi for _, vi, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF2F6")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in export_rows(assessment):
        sheet.append([spreadsheet_safe(row[f]) for f, _, _ in COLUMNS])
        sheet.cell(sheet.max_row, 10).number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCDEFGHIJKLM", (10, 48, 28, 10, 12, 12, 10, 20, 20, 13, 40, 12, 40),
                             strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


@dataclass
class AssessmentImport:
    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    changed_codes: list[str] = field(default_factory=list)


def import_spreadsheet(session: Session, assessment: DtiAssessment, path: Path, *,
                       access: Access, dry_run: bool = False) -> AssessmentImport:
    """Read the common layout; all rows are checked before anything is written. MANAGE on
    the assessed unit; one audit event for the whole file (each criterion's versions keep
    the detail)."""
    access.require(Action.MANAGE, _unit_id(session, assessment.unit_code))
    actor = access.actor
    sheet, rows, first_row = read_table(path)
    where = path.name + (f", sheet '{sheet}'" if sheet else "")
    parsed, errors = _parse_rows(rows, first_row, where)
    if errors:
        raise ImportRejected(errors)
    summary = AssessmentImport(path.name, dry_run=dry_run)
    existing = {c.code: c for c in assessment.criteria}
    for position, values in enumerate(parsed):
        evidence_names = values.pop("evidence")
        criterion = existing.get(values["code"])
        if criterion is None:
            summary.created += 1
            if not dry_run:
                refs = "\n".join(evidence_names)
                _create_criterion(session, assessment, actor, position=position,
                                  evidence_refs=refs, **values)
                summary.changed_codes.append(values["code"])
            continue
        attached = {e.file_name for e in criterion.evidence if not e.is_deleted}
        values["evidence_refs"] = "\n".join(n for n in evidence_names if n not in attached)
        code = values.pop("code")
        changed = {k: v for k, v in _clean(criterion, values).items()
                   if getattr(criterion, k) != v}
        if not changed:
            summary.unchanged += 1
            continue
        summary.updated += 1
        if not dry_run:
            update_criterion(session, criterion, access=access, audit=False, **changed)
            summary.changed_codes.append(code)
        values["code"] = code
    if not dry_run and (summary.created or summary.updated):
        record_event(session, action="dti.assessment.import", object_type="dti_assessment",
                     object_id=assessment.id, actor=actor,
                     after={"file": path.name, "created": summary.created,
                            "updated": summary.updated, "criteria": summary.changed_codes})
    return summary


def _parse_rows(rows: list[list[Any]], first_row: int, where: str
                ) -> tuple[list[dict[str, Any]], list[str]]:
    if not rows:
        return [], [f"{where}: tệp rỗng / the file is empty"]
    columns: dict[str, int] = {}
    for index, raw in enumerate(rows[0]):
        key = accent_free_key(nfc(str(raw or ""))).strip()
        if key in HEADER_ALIASES:
            columns[HEADER_ALIASES[key]] = index
    missing = [vi for f, vi, _ in COLUMNS[:4] if f not in columns]
    if missing:
        return [], [f"{where}, dòng {first_row}: thiếu cột {missing} / row {first_row}: "
                     f"missing columns {missing}"]
    parsed, errors, seen = [], [], set()
    for offset, row in enumerate(rows[1:], start=1):
        line = first_row + offset
        if not any(str(c or "").strip() for c in row):
            continue
        if _overflows(row, rows[0]):
            errors.append(_overflow_message(where, line, len(rows[0]), len(row)))
            continue
        values = _parse_row(row, columns, where, line, errors)
        if values is None:
            continue
        if values["code"] in seen:
            errors.append(f"{where}, dòng {line}, cột 'Mã': mã '{values['code']}' bị trùng / "
                          f"row {line}, column 'Code': duplicate code '{values['code']}'")
        seen.add(values["code"])
        parsed.append(values)
    return parsed, errors


def _parse_row(row: list[Any], columns: dict[str, int], where: str, line: int,
               errors: list[str]) -> dict[str, Any] | None:
    def cell(name: str) -> Any:
        index = columns.get(name)
        value = row[index] if index is not None and index < len(row) else None
        return None if value is None or str(value).strip() == "" else value

    def fail(column: str, vi: str, en: str) -> None:
        header = next(h for f, h, _ in COLUMNS if f == column)
        errors.append(f"{where}, dòng {line}, cột '{header}': {vi} / row {line}, column "
                      f"'{header}': {en}")

    code = nfc(str(cell("code") or "")).strip()
    if not code:
        fail("code", "thiếu mã tiêu chí (quy tắc: bắt buộc)", "criterion code missing (rule: "
             "required)")
        return None
    values: dict[str, Any] = {"code": code, "name": nfc(str(cell("name") or "")).strip(),
                              "group_name": nfc(str(cell("group_name") or "")).strip(),
                              "owner": nfc(str(cell("owner") or "")).strip(),
                              "lead_unit_code": nfc(str(cell("lead_unit_code") or "")).strip(),
                              "notes": nfc(str(cell("notes") or "")).strip()}
    for name in ("max_points", "self_score", "appraised_score"):
        values[name] = _number(cell(name), name, fail)
    if values["max_points"] is None:
        fail("max_points", "thiếu điểm tối đa (quy tắc: bắt buộc)", "max points missing "
             "(rule: required)")
        return None
    for name in ("self_score", "appraised_score"):
        if values[name] is not None and not 0 <= values[name] <= values["max_points"]:
            fail(name, f"{values[name]:g} vượt khoảng 0–{values['max_points']:g} (quy tắc: "
                 "không quá điểm tối đa)", f"{values[name]:g} outside 0–"
                 f"{values['max_points']:g} (rule: at most the max points)")
    values["status"] = _status(cell("status"), fail)
    values["deadline"] = _deadline(cell("deadline"), fail)
    evidence = str(cell("evidence") or "")
    values["evidence"] = [nfc(p).strip() for p in evidence.split(";") if p.strip()]
    return values


def _number(raw: Any, column: str, fail: Any) -> float | None:
    if raw is None:
        return None
    try:
        return table_number(raw)
    except (ValueError, ArithmeticError):
        fail(column, f"'{raw}' không phải số (quy tắc: số)", f"'{raw}' is not a number")
        return None


def _status(raw: Any, fail: Any) -> str:
    if raw is None:
        return "not_started"
    key = accent_free_key(nfc(str(raw))).strip()
    for status, (vi, en) in STATUSES.items():
        if key in (status.replace("_", " "), status, accent_free_key(vi), accent_free_key(en)):
            return status
    labels = ", ".join(vi for vi, _ in STATUSES.values())
    fail("status", f"'{raw}' không phải trạng thái hợp lệ ({labels})",
         f"'{raw}' is not a valid status")
    return "not_started"


def _deadline(raw: Any, fail: Any) -> dt.date | None:
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        fail("deadline", f"'{raw}' không phải ngày dd/mm/yyyy", f"'{raw}' is not a date "
             "dd/mm/yyyy")
        return None


def is_illustrative(assessment: DtiAssessment) -> bool:
    """A round whose scores the demo invented (and nobody has since edited): the pages mark
    it 'Số liệu minh họa'. A person's edit makes a criterion theirs."""
    return any(c.updated_by == DEMO_ACTOR and (c.self_score is not None
                                               or c.appraised_score is not None)
               for c in assessment.criteria)


def totals(assessment: DtiAssessment) -> dict[str, float | None]:
    criteria = assessment.criteria
    maximum = sum(c.max_points for c in criteria)
    own = [c.self_score for c in criteria if c.self_score is not None]
    council = [c.appraised_score for c in criteria if c.appraised_score is not None]
    done = sum(1 for c in criteria if c.status == "done")
    return {"max_points": maximum, "self_score": sum(own) if own else None,
            "appraised_score": sum(council) if council else None,
            "difference": (sum(council) - sum(own)) if own and council else None,
            "done": done, "count": len(criteria)}


def overdue(assessment: DtiAssessment, today: dt.date) -> list[DtiCriterion]:
    return [c for c in assessment.criteria if c.deadline and c.deadline < today
            and c.status != "done"]


def status_label(status: str, locale: str) -> str:
    vi, en = STATUSES.get(status, (status, status))
    return vi if locale == "vi" else en




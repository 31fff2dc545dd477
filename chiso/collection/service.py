"""Data sets, expected submissions, and the submission workflow with its lock on values.

Workflow per unit × period × data set: draft → submitted → returned (with a reason) →
submitted … → approved. Approval locks the unit's figures for that period: a user without
APPROVE on the unit can no longer change them (on every write path, through the values
service's write guards); an approver's later edit is allowed, counted on the submission,
recorded, and sends it back to `submitted` so that it is approved again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.collection.models import (
    DataSet,
    DataSetIndicator,
    DataSetUnit,
    Submission,
    SubmissionEvent,
)
from chiso.db.base import utcnow
from chiso.indicators.models import Indicator
from chiso.periods import Calendar, Period, PeriodType, parse_period
from chiso.text import nfc
from chiso.units.models import OrgUnit
from chiso.units.service import descendant_ids, get_unit

DATA_DIR = Path(__file__).parent / "data"
DRAFT, SUBMITTED, RETURNED, APPROVED = "draft", "submitted", "returned", "approved"
STATUSES = (DRAFT, SUBMITTED, RETURNED, APPROVED)
STATUS_LABELS = {DRAFT: ("Đang nhập", "Draft"), SUBMITTED: ("Đã gửi", "Submitted"),
                 RETURNED: ("Bị trả lại", "Returned"), APPROVED: ("Đã duyệt", "Approved")}

ACTION_LABELS = {"save": ("Lưu số liệu", "Saved figures"), "submit": ("Gửi", "Submitted"),
                 "return": ("Trả lại", "Returned"), "approve": ("Duyệt", "Approved"),
                 "edit_after_approval": ("Sửa sau khi duyệt", "Edited after approval")}


class WorkflowError(ValueError):
    """A step that is not allowed from the current status; bilingual."""

    def __init__(self, vi: str, en: str) -> None:
        self.message_vi, self.message_en = vi, en
        super().__init__(f"{vi} / {en}")


# ------------------------------------------------------------------ data sets


def define_data_set(session: Session, spec: dict[str, Any], *, actor: Any = None) -> DataSet:
    """Create or update a data set from a spec (the YAML shape in docs/collection.md).
    Idempotent: the same spec twice changes nothing the second time."""
    code = nfc(spec["code"]).upper()
    data_set = session.scalar(select(DataSet).where(DataSet.code == code))
    parent = spec.get("parent_unit")
    fields = {
        "name_vi": nfc(spec["name_vi"]), "name_en": nfc(spec.get("name_en", "")),
        "period_type": PeriodType(str(spec.get("period_type", "Q"))).value,
        "calendar": Calendar(spec.get("calendar", "standard")).value,
        "due_days": int(spec.get("due_days", 10)),
        "reminder_offsets": [int(x) for x in spec.get("reminder_offsets", [-3, 0, 3, 7])],
        "unit_kind": nfc(spec.get("unit_kind", "")),
        "parent_unit_id": get_unit(session, str(parent)).id if parent else None,
    }
    created = data_set is None
    if created:
        data_set = DataSet(code=code, **fields)
        session.add(data_set)
        session.flush()
    else:
        assert data_set is not None
        for name, value in fields.items():
            setattr(data_set, name, value)
    _set_indicators(session, data_set, spec.get("indicators", []))
    _set_units(session, data_set, spec.get("units", []))
    record_event(session, action="dataset.create" if created else "dataset.update",
                 object_type="data_set", object_id=data_set.id, actor=actor,
                 after={"code": code, **{k: v for k, v in fields.items()
                                         if k != "reminder_offsets"}})
    session.flush()
    return data_set


def _set_indicators(session: Session, data_set: DataSet, codes: list[str]) -> None:
    wanted = []
    for code in codes:
        indicator = session.scalar(select(Indicator).where(Indicator.code == nfc(code).upper()))
        if indicator is None:
            raise WorkflowError(f"không có chỉ tiêu '{code}'", f"no indicator '{code}'")
        wanted.append(indicator.id)
    existing = {row.indicator_id: row for row in session.scalars(
        select(DataSetIndicator).where(DataSetIndicator.data_set_id == data_set.id))}
    for order, indicator_id in enumerate(wanted):
        row = existing.pop(indicator_id, None)
        if row is None:
            session.add(DataSetIndicator(data_set_id=data_set.id, indicator_id=indicator_id,
                                         sort_order=order))
        else:
            row.sort_order = order
    for row in existing.values():
        session.delete(row)


def _set_units(session: Session, data_set: DataSet, codes: list[str]) -> None:
    wanted = {get_unit(session, str(code)).id for code in codes}
    existing = {row.unit_id: row for row in session.scalars(
        select(DataSetUnit).where(DataSetUnit.data_set_id == data_set.id))}
    for unit_id in wanted - existing.keys():
        session.add(DataSetUnit(data_set_id=data_set.id, unit_id=unit_id))
    for unit_id in existing.keys() - wanted:
        session.delete(existing[unit_id])


def load_shipped_data_sets(session: Session) -> int:
    """The data sets shipped in data/datasets.yaml whose indicators and units exist."""
    specs = yaml.safe_load((DATA_DIR / "datasets.yaml").read_text("utf-8")) or []
    loaded = 0
    for spec in specs:
        try:
            with session.begin_nested():
                define_data_set(session, spec)
            loaded += 1
        except (WorkflowError, LookupError, ValueError):
            continue  # its catalogue or units are not loaded on this install
    return loaded


def load_shipped(session: Session) -> None:
    """Reference loader: the shipped validation rules and data sets (idempotent)."""
    from chiso.collection.rules import load_rules

    load_rules(session)
    load_shipped_data_sets(session)


def data_set_by_code(session: Session, code: str) -> DataSet:
    data_set = session.scalar(select(DataSet).where(DataSet.code == nfc(code).upper()))
    if data_set is None:
        raise WorkflowError(f"không có biểu mẫu '{code}'", f"no data set '{code}'")
    return data_set


def indicators_of(session: Session, data_set: DataSet) -> list[Indicator]:
    return list(session.scalars(
        select(Indicator).join(DataSetIndicator, DataSetIndicator.indicator_id == Indicator.id)
        .where(DataSetIndicator.data_set_id == data_set.id)
        .order_by(DataSetIndicator.sort_order)))


def reporting_units(session: Session, data_set: DataSet, period: Period) -> list[OrgUnit]:
    """Explicit units if listed, else every unit of the kind under the parent, valid in
    the period."""
    explicit = list(session.scalars(select(DataSetUnit.unit_id).where(
        DataSetUnit.data_set_id == data_set.id)))
    if explicit:
        ids = explicit
    elif data_set.parent_unit_id is not None:
        ids = descendant_ids(session, data_set.parent_unit_id, on=period.end())
    else:
        ids = list(session.scalars(select(OrgUnit.id)))
    query = select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.code)
    kinds = [k.strip() for k in data_set.unit_kind.split(",") if k.strip()]
    if kinds and not explicit:
        query = query.where(OrgUnit.kind.in_(kinds))
    return [u for u in session.scalars(query) if u.is_valid_on(period.end())]


def due_date(data_set: DataSet, period: Period | str) -> dt.date:
    """N days after the period ends, under the data set's calendar (NĐ 09/2019 ends on the
    14th)."""
    period = parse_period(period) if isinstance(period, str) else period
    return period.end(Calendar(data_set.calendar)) + dt.timedelta(days=data_set.due_days)


def check_period(data_set: DataSet, period: str) -> Period:
    parsed = parse_period(period)
    if parsed.type.value != data_set.period_type:
        raise WorkflowError(
            f"biểu mẫu {data_set.code} báo cáo theo kỳ loại {data_set.period_type}, "
            f"không nhận kỳ {period}",
            f"data set {data_set.code} reports per period type {data_set.period_type}, "
            f"not {period}")
    return parsed


def expected_submissions(session: Session, data_set: DataSet, period: str) -> list[Submission]:
    """One submission row per reporting unit for the period (created as drafts once)."""
    parsed = check_period(data_set, period)
    units = reporting_units(session, data_set, parsed)
    existing = {s.unit_id: s for s in session.scalars(select(Submission).where(
        Submission.data_set_id == data_set.id, Submission.period == parsed.id))}
    due = due_date(data_set, parsed)
    for unit in units:
        if unit.id not in existing:
            existing[unit.id] = Submission(data_set_id=data_set.id, unit_id=unit.id,
                                           period=parsed.id, status=DRAFT, due_date=due)
            session.add(existing[unit.id])
    session.flush()
    wanted = {u.id for u in units}
    return sorted((s for s in existing.values() if s.unit_id in wanted), key=lambda s: s.id)


def submission_for(session: Session, data_set: DataSet, unit_id: int, period: str
                   ) -> Submission:
    parsed = check_period(data_set, period)
    found = session.scalar(select(Submission).where(
        Submission.data_set_id == data_set.id, Submission.unit_id == unit_id,
        Submission.period == parsed.id))
    if found is None:
        found = Submission(data_set_id=data_set.id, unit_id=unit_id, period=parsed.id,
                           status=DRAFT, due_date=due_date(data_set, parsed))
        session.add(found)
        session.flush()
    return found


# ------------------------------------------------------------------ workflow


def _move(session: Session, submission: Submission, action: str, to_status: str, actor: Any,
          note: str = "") -> Submission:
    before = submission.status
    submission.status = to_status
    submission.updated_at = utcnow()
    session.add(SubmissionEvent(submission_id=submission.id, action=action, from_status=before,
                                to_status=to_status, actor_id=getattr(actor, "id", None),
                                note=note))
    record_event(session, action=f"submission.{action}", object_type="submission",
                 object_id=submission.id, actor=actor, unit_id=submission.unit_id,
                 before={"status": before}, after={"status": to_status}, note=note)
    session.flush()
    return submission


def submit(session: Session, submission: Submission, *, actor: Any = None,
           access: Access | None = None) -> Submission:
    if access is not None:
        access.require(Action.CAPTURE, submission.unit_id)
    if submission.status not in (DRAFT, RETURNED):
        raise WorkflowError(f"báo cáo đang ở trạng thái '{_vi(submission.status)}', không gửi "
                            "được", f"the report is {submission.status} and cannot be "
                            "submitted")
    now = utcnow()
    submission.submitted_at = now
    submission.first_submitted_at = submission.first_submitted_at or now
    submission.return_reason = ""
    return _move(session, submission, "submit", SUBMITTED, actor)


def return_submission(session: Session, submission: Submission, *, reason: str,
                      actor: Any = None, access: Access | None = None) -> Submission:
    if access is not None:
        access.require(Action.APPROVE, submission.unit_id)
    reason = nfc(reason)
    if not reason:
        raise WorkflowError("hãy ghi lý do trả lại", "give the reason for returning it")
    if submission.status not in (SUBMITTED, APPROVED):
        raise WorkflowError("chỉ trả lại được báo cáo đã gửi",
                            "only a submitted report can be returned")
    submission.return_reason = reason
    submission.approved_at, submission.approved_by_id = None, None
    return _move(session, submission, "return", RETURNED, actor, reason)


def approve(session: Session, submission: Submission, *, actor: Any = None,
            access: Access | None = None) -> Submission:
    if access is not None:
        access.require(Action.APPROVE, submission.unit_id)
    if submission.status != SUBMITTED:
        raise WorkflowError("chỉ duyệt được báo cáo đã gửi",
                            "only a submitted report can be approved")
    submission.approved_at = utcnow()
    submission.approved_by_id = getattr(actor, "id", None)
    return _move(session, submission, "approve", APPROVED, actor)


def history(session: Session, submission: Submission) -> list[SubmissionEvent]:
    return list(session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission.id).order_by(SubmissionEvent.id)))


def _vi(status: str) -> str:
    return STATUS_LABELS.get(status, (status, status))[0]


# ------------------------------------------------------------------ the lock


@dataclass(frozen=True)
class LockedCell:
    unit_id: int
    indicator_id: int
    period: str
    submission_id: int


def approved_cells(session: Session, rows: pl.DataFrame) -> list[LockedCell]:
    """Rows (unit_id, indicator_id, period) that fall in an approved submission. One query
    by period (a write touches a handful), the match done in polars: a million-row import
    costs one small query when nothing is approved."""
    if rows.is_empty():
        return []
    periods = rows.get_column("period").unique().to_list()
    found = session.execute(
        select(Submission.unit_id, DataSetIndicator.indicator_id, Submission.period,
               Submission.id)
        .join(DataSetIndicator, DataSetIndicator.data_set_id == Submission.data_set_id)
        .where(Submission.status == APPROVED, Submission.period.in_(periods))).all()
    if not found:
        return []
    approved = pl.DataFrame([tuple(r) for r in found], orient="row", schema={
        "unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.String,
        "submission_id": pl.Int64})
    keys = rows.select(pl.col("unit_id").cast(pl.Int64), pl.col("indicator_id")
                       .cast(pl.Int64), pl.col("period").cast(pl.String)).unique()
    hits = keys.join(approved, on=["unit_id", "indicator_id", "period"])
    return [LockedCell(*row) for row in hits.sort("submission_id").iter_rows()]


def guard_value_writes(session: Session, rows: pl.DataFrame, actor: Any) -> None:
    """Registered with `chiso.values.service.WRITE_GUARDS`: called with the rows about to
    change on every write path. A locked (approved) cell refuses a writer without APPROVE
    on its unit; an approver's edit is counted and re-opens approval."""
    from chiso.values.service import ValueRejected

    locked = approved_cells(session, rows)
    if not locked:
        return
    access = Access(session, actor) if actor is not None else None
    refused = [c for c in locked if access is not None and not access.can(Action.APPROVE,
                                                                            c.unit_id)]
    if refused:
        raise ValueRejected([_locked_issue(session, cell) for cell in refused])
    for submission_id in sorted({c.submission_id for c in locked}):
        submission = session.get(Submission, submission_id)
        assert submission is not None
        submission.edits_after_approval += 1
        _move(session, submission, "edit_after_approval", SUBMITTED, actor,
              "sửa sau khi duyệt / edited after approval")


def _locked_issue(session: Session, cell: LockedCell) -> dict[str, str]:
    unit = session.get(OrgUnit, cell.unit_id)
    code = unit.code if unit else cell.unit_id
    return {"column": "value", "rule": "approved_locked",
            "message_vi": f"số liệu của đơn vị {code} kỳ {cell.period} đã được duyệt và "
                          "khóa; đề nghị cơ quan thường trực trả lại để sửa",
            "message_en": f"the figures of unit {code} for {cell.period} are approved and "
                          "locked; ask the standing office to return the report to edit it"}


def locked_for(session: Session, rows: pl.DataFrame, actor: Any
               ) -> set[tuple[int, int, str]]:
    """Cells among `rows` that this actor may not change (approved, and no APPROVE)."""
    access = Access(session, actor) if actor is not None else None
    return {(c.unit_id, c.indicator_id, c.period) for c in approved_cells(session, rows)
            if access is not None and not access.can(Action.APPROVE, c.unit_id)}


def guard_if_unhooked(session: Session, rows: pl.DataFrame, actor: Any) -> None:
    """For this domain's own write paths: run the guard here unless the values service
    runs it itself (then it would count an edit twice)."""
    if not register_write_guard():
        guard_value_writes(session, rows, actor)


def note_saved(session: Session, submission: Submission, actor: Any, note: str) -> None:
    """A save into a draft or returned report is kept in its history (status unchanged)."""
    session.add(SubmissionEvent(submission_id=submission.id, action="save",
                                from_status=submission.status, to_status=submission.status,
                                actor_id=getattr(actor, "id", None), note=note))
    submission.updated_at = utcnow()
    session.flush()


def register_write_guard() -> bool:
    """Hook the lock into the values service (idempotent). False when the values service
    has no extension point (then only this domain's own write paths check the lock)."""
    from chiso.values import service as values_service

    guards = getattr(values_service, "WRITE_GUARDS", None)
    if guards is None:
        return False
    if guard_value_writes not in guards:
        guards.append(guard_value_writes)
    return True


register_write_guard()

"""Data sets, expected submissions, and the submission workflow with its lock on values.

Workflow per unit × period × data set: draft → submitted → returned (with a reason) →
submitted … → approved. Sending locks the unit's figures for that period: a writer without
APPROVE on the unit can no longer change them until the report is returned (on every write
path, through the values service's write guards, with the writer's real `Access`, token
scope included). An approver's edit of an approved report is allowed, counted on the
submission, recorded, and sends it back to `submitted` so that it is approved again. Nobody
approves a report they sent themselves (four eyes, docs/collection.md).

Every write here takes a required `access` (a person's, with its token scope, or
`Access.system(session, "job")`), checks it on every unit touched and writes one audit event.
The lock is installed by `chiso.boot.boot()` (never by importing this module).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, SystemActor
from chiso.accounts.models import Membership, Role, User
from chiso.audit.service import record_event
from chiso.collection.models import (
    DataSet,
    DataSetIndicator,
    DataSetUnit,
    Submission,
    SubmissionEvent,
)
from chiso.db import session_scope
from chiso.db.base import utcnow
from chiso.errors import Conflict, Forbidden, NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.notify.service import notify, send_pending
from chiso.periods import (
    Calendar,
    Period,
    PeriodError,
    PeriodType,
    parse_period,
    period_label,
)
from chiso.text import nfc, to_vn, vn_zone
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, descendant_ids, get_unit
from chiso.values import service as values_service
from chiso.values.service import ValueRejected

DATA_DIR = Path(__file__).parent / "data"
DRAFT, SUBMITTED, RETURNED, APPROVED = "draft", "submitted", "returned", "approved"
STATUSES = (DRAFT, SUBMITTED, RETURNED, APPROVED)
STATUS_LABELS = {DRAFT: ("Đang nhập", "Draft"), SUBMITTED: ("Đã gửi", "Submitted"),
                 RETURNED: ("Bị trả lại", "Returned"), APPROVED: ("Đã duyệt", "Approved")}

ACTION_LABELS = {"save": ("Lưu số liệu", "Saved figures"), "submit": ("Gửi", "Submitted"),
                 "return": ("Trả lại", "Returned"), "approve": ("Duyệt", "Approved"),
                 "edit_after_approval": ("Sửa sau khi duyệt", "Edited after approval")}


class WorkflowError(Conflict):
    """A step that is not allowed from the current status (409)."""


class SpecError(UserError):
    """A data set spec that cannot be applied: unknown indicator or unit, bad field (422)."""


class DataSetNotFound(NotFound):
    """No data set with that code (404)."""


class SelfApproval(Forbidden):
    """The person who sent a report may not approve it (403): a second person approves."""


# ------------------------------------------------------------------ data sets


def define_data_set(session: Session, spec: dict[str, Any], *, access: Access) -> DataSet:
    """Create or update a data set from a spec (the YAML shape in docs/collection.md).
    Idempotent: the same spec twice changes nothing the second time.

    MANAGE is needed on every unit the data set covers, before and after the change: its
    current owner (parent unit) and listed units when it exists, and the spec's parent
    and units (a commune office may not redefine the province's form by naming itself)."""
    code = nfc(str(spec.get("code", ""))).upper()
    if not code:
        raise SpecError("biểu mẫu cần có mã (code)", "a data set needs a code")
    data_set = session.scalar(select(DataSet).where(DataSet.code == code))
    fields = _spec_fields(session, spec)
    unit_ids = _unit_ids(session, spec.get("units", []))
    _require_manage(access, _covered_units(session, data_set) if data_set else [])
    _require_manage(access, _spec_cover(fields["parent_unit_id"], unit_ids))
    created = data_set is None
    before = _data_set_state(session, data_set) if data_set else None
    if data_set is None:
        data_set = DataSet(code=code, **fields)
        session.add(data_set)
        session.flush()
    else:
        for name, value in fields.items():
            setattr(data_set, name, value)
    _set_indicators(session, data_set, spec.get("indicators", []))
    _set_units(session, data_set, unit_ids)
    session.flush()
    after = _data_set_state(session, data_set)
    if before != after:
        record_event(session, action="dataset.create" if created else "dataset.update",
                     object_type="data_set", object_id=data_set.id, actor=access.actor,
                     unit_id=data_set.parent_unit_id, before=before, after=after)
    return data_set


def _spec_fields(session: Session, spec: dict[str, Any]) -> dict[str, Any]:
    parent = spec.get("parent_unit")
    try:
        return {
            "name_vi": nfc(str(spec["name_vi"])), "name_en": nfc(spec.get("name_en", "")),
            "period_type": PeriodType(str(spec.get("period_type", "Q"))).value,
            "calendar": Calendar(spec.get("calendar", "standard")).value,
            "due_days": int(spec.get("due_days", 10)),
            "reminder_offsets": [int(x) for x in spec.get("reminder_offsets", [-3, 0, 3, 7])],
            "unit_kind": nfc(spec.get("unit_kind", "")),
            "parent_unit_id": _unit_ids(session, [parent])[0] if parent else None,
        }
    except KeyError as exc:
        raise SpecError(f"biểu mẫu thiếu trường {exc}", f"the data set lacks field {exc}"
                        ) from None
    except (TypeError, ValueError) as exc:
        raise SpecError(f"biểu mẫu có trường không hợp lệ: {exc}",
                        f"the data set has an invalid field: {exc}") from None


def _unit_ids(session: Session, codes: list[Any]) -> list[int]:
    ids = []
    for code in codes:
        try:
            ids.append(get_unit(session, str(code)).id)
        except UnitNotFound:
            raise SpecError(f"không có đơn vị mã '{code}'", f"no unit with code '{code}'"
                            ) from None
    return ids


def _covered_units(session: Session, data_set: DataSet) -> list[int | None]:
    explicit = list(session.scalars(select(DataSetUnit.unit_id).where(
        DataSetUnit.data_set_id == data_set.id)))
    return _spec_cover(data_set.parent_unit_id, explicit)


def _spec_cover(parent_id: int | None, unit_ids: list[int]) -> list[int | None]:
    """Units whose MANAGE a definition needs; None = the whole install (no parent, no
    list: every unit reports, so only a system-wide manager may define it)."""
    if parent_id is None and not unit_ids:
        return [None]
    return [u for u in (parent_id, *unit_ids) if u is not None] or [None]


def _require_manage(access: Access, unit_ids: list[int | None]) -> None:
    for unit_id in dict.fromkeys(unit_ids):
        access.require(Action.MANAGE, unit_id)


def _data_set_state(session: Session, data_set: DataSet) -> dict[str, Any]:
    return {"code": data_set.code, "name_vi": data_set.name_vi, "name_en": data_set.name_en,
            "period_type": data_set.period_type, "calendar": data_set.calendar,
            "due_days": data_set.due_days, "unit_kind": data_set.unit_kind,
            "reminder_offsets": list(data_set.reminder_offsets or []),
            "parent_unit_id": data_set.parent_unit_id,
            "indicators": [i.code for i in indicators_of(session, data_set)],
            "units": sorted(session.scalars(select(DataSetUnit.unit_id).where(
                DataSetUnit.data_set_id == data_set.id)))}


def _set_indicators(session: Session, data_set: DataSet, codes: list[str]) -> None:
    wanted = []
    for code in codes:
        indicator = session.scalar(select(Indicator).where(Indicator.code == nfc(code).upper()))
        if indicator is None:
            raise SpecError(f"không có chỉ tiêu '{code}'", f"no indicator '{code}'")
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


def _set_units(session: Session, data_set: DataSet, unit_ids: list[int]) -> None:
    wanted = set(unit_ids)
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
    access = Access.system(session, "setup")
    for spec in specs:
        try:
            with session.begin_nested():
                define_data_set(session, spec, access=access)
            loaded += 1
        except SpecError:
            continue  # its catalogue or units are not loaded on this install
    return loaded


def load_shipped(session: Session) -> None:
    """Reference loader: the shipped validation rules and data sets (idempotent)."""
    from chiso.collection.rules import load_rules  # rules imports nothing of this module

    load_rules(session, access=Access.system(session, "setup"))
    load_shipped_data_sets(session)


def data_set_by_code(session: Session, code: str) -> DataSet:
    data_set = session.scalar(select(DataSet).where(DataSet.code == nfc(code).upper()))
    if data_set is None:
        raise DataSetNotFound(f"không có biểu mẫu '{code}'", f"no data set '{code}'")
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


PERIOD_TYPE_WORDS = {"Y": ("năm", "yearly"), "S": ("6 tháng", "half-yearly"),
                     "Q": ("quý", "quarterly"), "M": ("tháng", "monthly")}


class PeriodRefused(UserError):
    """A period that is not one of the data set's (422)."""


def check_period(data_set: DataSet, period: str) -> Period:
    """The period, parsed, if it is of the data set's type (every spelling chiso.periods
    reads)."""
    try:
        parsed = parse_period(period)
    except PeriodError as exc:
        raise PeriodRefused(str(exc)) from None
    if parsed.type.value != data_set.period_type:
        vi, en = PERIOD_TYPE_WORDS.get(data_set.period_type, (data_set.period_type,) * 2)
        raise PeriodRefused(
            f"biểu mẫu «{data_set.name_vi}» báo cáo theo {vi}, không nhận kỳ "
            f"{period_label(parsed, 'vi')}",
            f"the data set “{data_set.name_en or data_set.name_vi}” is {en}, not "
            f"{period_label(parsed, 'en')}")
    return parsed


def expected_submissions(session: Session, data_set: DataSet, period: str) -> list[Submission]:
    """One submission row per reporting unit for the period (created as drafts once)."""
    parsed = check_period(data_set, period)
    units = reporting_units(session, data_set, parsed)
    existing = {s.unit_id: s for s in session.scalars(select(Submission).where(
        Submission.data_set_id == data_set.id, Submission.period == parsed.id))}
    due = due_date(data_set, parsed)
    missing = [Submission(data_set_id=data_set.id, unit_id=unit.id, period=parsed.id,
                          status=DRAFT, due_date=due) for unit in units
               if unit.id not in existing]
    if not insert_drafts(session, missing):
        existing = {s.unit_id: s for s in session.scalars(select(Submission).where(
            Submission.data_set_id == data_set.id, Submission.period == parsed.id))}
    else:
        existing.update({s.unit_id: s for s in missing})
    wanted = {u.id for u in units}
    return sorted((s for s in existing.values() if s.unit_id in wanted), key=lambda s: s.id)


def insert_drafts(session: Session, drafts: list[Submission]) -> bool:
    """Create the expected report rows. Two people opening a new quarter's list at the
    same moment both try: the unique key lets one win, and the other reads its rows (False)
    instead of answering with an error."""
    if not drafts:
        return True
    try:
        with session.begin_nested():
            session.add_all(drafts)
            session.flush()
    except IntegrityError:
        return False
    return True


def submission_for(session: Session, data_set: DataSet, unit_id: int, period: str
                   ) -> Submission:
    parsed = check_period(data_set, period)
    found = session.scalar(select(Submission).where(
        Submission.data_set_id == data_set.id, Submission.unit_id == unit_id,
        Submission.period == parsed.id))
    if found is None:
        draft = Submission(data_set_id=data_set.id, unit_id=unit_id, period=parsed.id,
                           status=DRAFT, due_date=due_date(data_set, parsed))
        found = draft if insert_drafts(session, [draft]) else session.scalar(
            select(Submission).where(Submission.data_set_id == data_set.id,
                                     Submission.unit_id == unit_id,
                                     Submission.period == parsed.id))
    assert found is not None
    return found


# ------------------------------------------------------------------ workflow


def _move(session: Session, submission: Submission, action: str, to_status: str,
          access: Access, note: str = "") -> Submission:
    before = submission.status
    submission.status = to_status
    submission.updated_at = utcnow()
    actor = access.actor
    session.add(SubmissionEvent(submission_id=submission.id, action=action, from_status=before,
                                to_status=to_status, actor_id=getattr(actor, "id", None),
                                note=note))
    record_event(session, action=f"submission.{action}", object_type="submission",
                 object_id=submission.id, actor=actor, unit_id=submission.unit_id,
                 before={"status": before}, after={"status": to_status}, note=note)
    session.flush()
    return submission


def submit(session: Session, submission: Submission, *, access: Access) -> Submission:
    """Send a draft or returned report (CAPTURE on its unit). From now on its figures are
    locked for those without APPROVE until it is returned; a report sent after its due
    date is marked late (nộp muộn) for good."""
    access.require(Action.CAPTURE, submission.unit_id)
    if submission.status not in (DRAFT, RETURNED):
        raise WorkflowError(f"báo cáo đang ở trạng thái '{_vi(submission.status)}', không gửi "
                            "được", f"the report is {_en(submission.status)} and cannot be "
                            "submitted")
    now = utcnow()
    submission.submitted_at = now
    submission.first_submitted_at = submission.first_submitted_at or now
    submission.return_reason = ""
    return _move(session, submission, "submit", SUBMITTED, access)


def return_submission(session: Session, submission: Submission, *, reason: str,
                      access: Access, tell: bool = True) -> Submission:
    """Send a report back to its unit with the reason (APPROVE on its unit); its figures
    open again for the unit's officers, who are told (unless `tell` is off: the demo's
    history of past quarters is not news)."""
    access.require(Action.APPROVE, submission.unit_id)
    reason = nfc(reason).strip()
    if not reason:
        raise SpecError("hãy ghi lý do trả lại", "give the reason for returning it")
    if submission.status not in (SUBMITTED, APPROVED):
        raise WorkflowError("chỉ trả lại được báo cáo đã gửi",
                            "only a submitted report can be returned")
    submission.return_reason = reason
    submission.approved_at, submission.approved_by_id = None, None
    _move(session, submission, "return", RETURNED, access, reason)
    if tell:
        tell_outcome(session, submission, "return", reason)
    return submission


def approve(session: Session, submission: Submission, *, access: Access, tell: bool = True
            ) -> Submission:
    """Approve a sent report (APPROVE on its unit), never by the person who sent it; the
    unit is told (unless `tell` is off)."""
    access.require(Action.APPROVE, submission.unit_id)
    if submission.status != SUBMITTED:
        raise WorkflowError("chỉ duyệt được báo cáo đã gửi",
                            "only a submitted report can be approved")
    sender = last_sender_id(session, submission)
    if access.user is not None and not access.system_name and sender == access.user.id:
        raise SelfApproval("người gửi báo cáo không tự duyệt được; đề nghị một cán bộ khác "
                           "có quyền phê duyệt xem và duyệt",
                           "the person who sent a report cannot approve it; another officer "
                           "with approval rights must review it")
    submission.approved_at = utcnow()
    submission.approved_by_id = getattr(access.actor, "id", None)
    _move(session, submission, "approve", APPROVED, access)
    if tell:
        tell_outcome(session, submission, "approve")
    return submission


def tell_outcome(session: Session, submission: Submission, action: str, reason: str = ""
                 ) -> int:
    """Tell the unit (whoever sent the report and its focal officers) that it was approved
    or returned: in-app and by e-mail, once per event. Returns e-mails sent."""
    data_set = session.get(DataSet, submission.data_set_id)
    unit = session.get(OrgUnit, submission.unit_id)
    assert data_set is not None and unit is not None
    sender = last_sender_id(session, submission)
    recipients = list(session.scalars(select(User).join(
        Membership, Membership.user_id == User.id).where(
        Membership.unit_id == unit.id, Membership.role == Role.FOCAL_OFFICER)))
    if sender is not None and (user := session.get(User, sender)) is not None:
        recipients.insert(0, user)
    count = session.scalar(select(func.count()).select_from(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission.id)) or 0
    subject, body = outcome_texts(data_set, submission, unit, action, reason)
    return notify(session, recipients=recipients, subject=subject, body=body,
                  event_key=f"collection:{action}:{submission.id}:{count}",
                  link=form_link(data_set, submission.period, unit.code), email_now=False)


def deliver_notices() -> int:
    """Send the e-mails the workflow left pending, in a session of its own: run after a
    request has answered (FastAPI background task) and by the daily reminder run."""
    with session_scope() as session:
        return send_pending(session)


def outcome_texts(data_set: DataSet, submission: Submission, unit: OrgUnit, action: str,
                  reason: str) -> tuple[str, str]:
    vi_p, en_p = period_label(submission.period, "vi"), period_label(submission.period, "en")
    name_en = data_set.name_en or data_set.name_vi
    if action == "approve":
        return (f"[chiso] Đã duyệt: {data_set.name_vi} {vi_p} — {unit.name}",
                f"Báo cáo «{data_set.name_vi}» {vi_p} của {unit.name} đã được duyệt.\n\n"
                f"The report “{name_en}” for {en_p} of {unit.name} has been approved.")
    return (f"[chiso] Bị trả lại: {data_set.name_vi} {vi_p} — {unit.name}",
            f"Báo cáo «{data_set.name_vi}» {vi_p} của {unit.name} bị trả lại. Lý do: {reason}"
            f"\nĐề nghị sửa và gửi lại.\n\nThe report “{name_en}” for {en_p} of "
            f"{unit.name} was returned. Reason: {reason}\nPlease correct it and send it "
            "again.")


def form_link(data_set: DataSet, period: str, unit_code: str) -> str:
    return f"/collection/{data_set.code}/{period}/{unit_code}"


def mark_sent_on(submission: Submission, day: dt.date) -> None:
    """Record the day a report was completed elsewhere (DHIS2's completeDate), at noon in
    Vietnam, unless that is later than now: the late mark follows the real date."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=vn_zone()).astimezone(dt.UTC)
    if moment < utcnow():
        submission.submitted_at = submission.first_submitted_at = moment


def last_sender_id(session: Session, submission: Submission) -> int | None:
    """Who sent the report the last time (None: the system or never sent). An approver's
    correction after approval is not a sending: they may approve it again."""
    return session.scalar(select(SubmissionEvent.actor_id).where(
        SubmissionEvent.submission_id == submission.id, SubmissionEvent.action == "submit")
        .order_by(SubmissionEvent.id.desc()).limit(1))


def apply_step(session: Session, submission: Submission, step: str, *, access: Access,
               reason: str = "") -> Submission:
    """One named step ("submit", "approve", "return") — the routes' and CLI's one way in."""
    if step == "submit":
        return submit(session, submission, access=access)
    if step == "approve":
        return approve(session, submission, access=access)
    if step == "return":
        return return_submission(session, submission, reason=reason, access=access)
    raise NotFound(f"không có bước '{step}' (submit, approve, return)",
                   f"no step '{step}' (submit, approve, return)")


def history(session: Session, submission: Submission) -> list[SubmissionEvent]:
    return list(session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission.id).order_by(SubmissionEvent.id)))


def _vi(status: str) -> str:
    return STATUS_LABELS.get(status, (status, status))[0]


def _en(status: str) -> str:
    return STATUS_LABELS.get(status, (status, status))[1].lower()


# ------------------------------------------------------------------ the lock

LOCKED_STATUSES = (SUBMITTED, APPROVED)


@dataclass(frozen=True)
class LockedCell:
    unit_id: int
    indicator_id: int
    period: str
    submission_id: int
    status: str


def locked_cells(session: Session, rows: pl.DataFrame) -> list[LockedCell]:
    """Rows (unit_id, indicator_id, period) that fall in a sent or approved submission. One
    query by period (a write touches a handful), the match done in polars: a million-row
    import costs one small query when nothing is sent."""
    if rows.is_empty():
        return []
    periods = rows.get_column("period").unique().to_list()
    found = session.execute(
        select(Submission.unit_id, DataSetIndicator.indicator_id, Submission.period,
               Submission.id, Submission.status)
        .join(DataSetIndicator, DataSetIndicator.data_set_id == Submission.data_set_id)
        .where(Submission.status.in_(LOCKED_STATUSES), Submission.period.in_(periods))).all()
    if not found:
        return []
    locked = pl.DataFrame([tuple(r) for r in found], orient="row", schema={
        "unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.String,
        "submission_id": pl.Int64, "status": pl.String})
    keys = rows.select(pl.col("unit_id").cast(pl.Int64), pl.col("indicator_id")
                       .cast(pl.Int64), pl.col("period").cast(pl.String)).unique()
    hits = keys.join(locked, on=["unit_id", "indicator_id", "period"])
    return [LockedCell(*row) for row in hits.sort("submission_id").iter_rows()]


def writer_access(session: Session, writer: Access | User | SystemActor | None
                  ) -> Access | None:
    """The Access a write guard judges by. The values service passes the writer's own
    Access (token scope included); a bare User is judged with its full rights and a
    SystemActor as the system job it names; nobody (None) has no rights at all."""
    if isinstance(writer, Access):
        return writer
    if isinstance(writer, SystemActor):
        return Access.system(session, writer.name)
    if isinstance(writer, User):
        return Access(session, writer)
    return None


def guard_value_writes(session: Session, rows: pl.DataFrame,
                       writer: Access | User | SystemActor | None) -> None:
    """Installed in `chiso.values.service.WRITE_GUARDS` by `chiso.boot.boot()`: called with
    the rows about to change on every write path. A sent or approved cell refuses a writer
    without APPROVE on its unit; an approver's edit of an approved report is counted and
    re-opens approval."""
    locked = locked_cells(session, rows)
    access = writer_access(session, writer)
    if access is not None:
        note_open_reports(session, rows, access)
    if not locked:
        return
    refused = [c for c in locked if access is None or not access.can(Action.APPROVE,
                                                                     c.unit_id)]
    if refused:
        raise ValueRejected([_locked_issue(session, cell) for cell in refused])
    assert access is not None
    for submission_id in sorted({c.submission_id for c in locked if c.status == APPROVED}):
        submission = session.get(Submission, submission_id)
        assert submission is not None
        submission.edits_after_approval += 1
        _move(session, submission, "edit_after_approval", SUBMITTED, access,
              "sửa sau khi duyệt / edited after approval")


def _locked_issue(session: Session, cell: LockedCell) -> dict[str, str]:
    unit = session.get(OrgUnit, cell.unit_id)
    name = unit.name if unit else f"#{cell.unit_id}"
    vi_period, en_period = period_label(cell.period, "vi"), period_label(cell.period, "en")
    if cell.status == APPROVED:
        return {"column": "value", "rule": "approved_locked",
                "message_vi": f"số liệu của {name} kỳ {vi_period} đã được duyệt và khóa; đề "
                              "nghị cơ quan thường trực trả lại để sửa",
                "message_en": f"the figures of {name} for {en_period} are approved and "
                              "locked; ask the standing office to return the report to edit "
                              "it"}
    return {"column": "value", "rule": "submitted_locked",
            "message_vi": f"báo cáo của {name} kỳ {vi_period} đã gửi, đang chờ duyệt; số "
                          "liệu chỉ sửa được khi báo cáo được trả lại",
            "message_en": f"the report of {name} for {en_period} has been sent and awaits "
                          "approval; its figures can be changed only once it is returned"}


def locked_for(session: Session, rows: pl.DataFrame, access: Access
               ) -> set[tuple[int, int, str]]:
    """Cells among `rows` that this writer may not change (sent or approved, and no
    APPROVE on the unit)."""
    return {(c.unit_id, c.indicator_id, c.period) for c in locked_cells(session, rows)
            if not access.can(Action.APPROVE, c.unit_id)}


OPEN_STATUSES = (DRAFT, RETURNED)
NOTED = "collection_saved_reports"  # session.info: report id → its "save" event, this transaction
SAVED_NOTE = "cập nhật số liệu / figures updated"


def note_open_reports(session: Session, rows: pl.DataFrame, access: Access) -> None:
    """Any write into a report still in progress (the form, a template, a DHIS2 file, the
    raw values import, the API) is kept in that report's history: one "save" event per
    report and transaction, whatever the path."""
    if rows.is_empty():
        return
    periods = rows.get_column("period").unique().to_list()
    found = session.execute(
        select(Submission.unit_id, DataSetIndicator.indicator_id, Submission.period,
               Submission.id)
        .join(DataSetIndicator, DataSetIndicator.data_set_id == Submission.data_set_id)
        .where(Submission.status.in_(OPEN_STATUSES), Submission.period.in_(periods))).all()
    keys = set(rows.select(pl.col("unit_id").cast(pl.Int64), pl.col("indicator_id")
                           .cast(pl.Int64), pl.col("period").cast(pl.String)).iter_rows())
    for submission_id in sorted({r[3] for r in found if (r[0], r[1], r[2]) in keys}):
        submission = session.get(Submission, submission_id)
        assert submission is not None
        note_saved(session, submission, access, SAVED_NOTE)


def note_saved(session: Session, submission: Submission, access: Access, note: str) -> None:
    """A save into a report is kept in its history (status unchanged): once per report
    and transaction; a later, more precise note (the form's, the file's) replaces the
    generic one."""
    noted: dict[int, SubmissionEvent] = session.info.setdefault(NOTED, {})
    event = noted.get(submission.id)
    if event is not None:
        if note != SAVED_NOTE:
            event.note = note
        return
    event = SubmissionEvent(submission_id=submission.id, action="save",
                            from_status=submission.status, to_status=submission.status,
                            actor_id=getattr(access.actor, "id", None), note=note)
    session.add(event)
    noted[submission.id] = event
    submission.updated_at = utcnow()
    session.flush()


def _forget_noted(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended
        session.info.pop(NOTED, None)


def register_write_guard() -> None:
    """Install the lock in the values service (idempotent). Called by `chiso.boot.boot()`."""
    guards = values_service.WRITE_GUARDS
    if guard_value_writes not in guards:
        guards.append(guard_value_writes)
    if not event.contains(Session, "after_transaction_end", _forget_noted):
        event.listen(Session, "after_transaction_end", _forget_noted)


# ------------------------------------------------------------------ permission in bulk


def units_allowed(session: Session, access: Access, action: Action,
                  unit_ids: Iterable[int]) -> set[int]:
    """The units among `unit_ids` on which `access` may do `action`, with one query for
    the hierarchy: `Access.can` walks each unit's ancestors with one query per level,
    which made the scorecard of 14,145 units take 6–14 s for a standing office."""
    wanted = set(unit_ids)
    if not wanted:
        return set()
    if access.system_name:
        return wanted
    parents: dict[int, int | None] = {
        unit_id: parent for unit_id, parent in session.execute(
            select(OrgUnit.id, OrgUnit.parent_id))}
    for unit_id in wanted:
        access.prime_chain(unit_id, _chain(parents, unit_id))
    return {u for u in wanted if access.can(action, u)}


def _chain(parents: dict[int, int | None], unit_id: int) -> list[int]:
    chain: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain



def vn_date(moment: dt.datetime) -> dt.date:
    """The day in Vietnam on which a stored (UTC) moment fell: a report sent at 06:00 on
    the day after its due date is late, though it is still the due date in UTC."""
    return to_vn(moment).date()

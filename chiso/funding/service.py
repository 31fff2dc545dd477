"""The one way funding data changes: programmes, budget lines, their figures and approvals.

Every write takes an `Access` (a person's, or `Access.system(session, "job")` for internal
jobs), checks it, and writes in the caller's transaction with an audit event. A figure is
never overwritten in place: each change — a new amount, an approval, a return — appends a
`FigureVersion`.

Who may do what (issue 16 item 5):
- capture (create lines, save figures): whoever may capture for the line's owner unit (the
  project owner), or for the province's finance department (setting `funding_finance_unit`,
  Sở Tài chính), which sends the table for every unit;
- approve or return figures: whoever may approve for the line's owner unit (the standing
  office);
- read: whoever may read the unit (leaders read everything).

Reading for pages and reports is in `chiso.funding.summary`; `report_section` and
`roadmap_table` below are the report engineer's entry points.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import Integer, Table, insert, literal, select, update
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, PermissionDenied
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.db.base import utcnow
from chiso.errors import Conflict, NotFound, UserError
from chiso.funding.compute import DISBURSEMENT, SHARE
from chiso.funding.indicators import derived_access, refresh_indicators
from chiso.funding.models import BudgetLine, Figure, FigureVersion, Programme, ProgrammeLink
from chiso.funding.paths import default_path
from chiso.funding.vocab import (
    AREAS,
    SOURCES,
    SPEND_TYPES,
    Area,
    FigureStatus,
    LineKind,
    ProgrammeKind,
    Source,
    SpendType,
    Stage,
)
from chiso.indicators.models import Indicator
from chiso.plans import service as plans
from chiso.plans.models import Target
from chiso.settings import get_settings
from chiso.text import name_key, nfc
from chiso.units.models import OrgUnit
from chiso.units.tree import ancestor_ids

SOURCE_MAX = 32
FIGURES = cast(Table, Figure.__table__)
VERSIONS = cast(Table, FigureVersion.__table__)


class FundingRejected(UserError):
    """Input that breaks a funding rule; `issues` lists each problem in both languages."""

    status = 422


class ProgrammeNotFound(NotFound):
    def __init__(self, key: object) -> None:
        super().__init__(f"Không có chương trình, dự án '{key}'",
                         f"no programme or project '{key}'")


class FigureNotFound(NotFound):
    def __init__(self, figure_id: object) -> None:
        super().__init__(f"Không có số liệu kinh phí #{figure_id}",
                         f"no funding figure #{figure_id}")


class StaleFigure(Conflict):
    """Someone changed the figure after it was read: reload and apply the change again."""

    def __init__(self) -> None:
        super().__init__("Số liệu kinh phí vừa được người khác cập nhật; hãy tải lại và nhập "
                         "lại thay đổi",
                         "the funding figure was changed by someone else; reload it and "
                         "apply your change again")


def issue(column: str, rule: str, vi: str, en: str, **where: Any) -> dict[str, Any]:
    """One problem in the shape every chiso error list uses."""
    return {"column": column, "rule": rule, "message_vi": vi, "message_en": en, **where}


def rejected(problems: Sequence[dict[str, Any]]) -> FundingRejected:
    head = problems[0]
    more = len(problems) - 1
    suffix_vi = f" (và {more} lỗi khác)" if more else ""
    suffix_en = f" (and {more} more)" if more else ""
    return FundingRejected(head["message_vi"] + suffix_vi, head["message_en"] + suffix_en,
                           issues=problems)


# ------------------------------------------------------------------ who may do what


def finance_unit_id(session: Session, on: dt.date | None = None) -> int | None:
    """The finance department (Sở Tài chính) whose officers capture for every unit."""
    code = get_settings().funding_finance_unit
    if not code:
        return None
    day = on or get_settings().current_date()
    units = session.scalars(select(OrgUnit).where(OrgUnit.code == code)).all()
    valid = [u for u in units if u.is_valid_on(day)] or list(units)
    return valid[0].id if valid else None


def is_finance_officer(access: Access) -> bool:
    """A member of the finance department who may capture for it: whose work is the
    province's budget (the front door sends them to the province's funding page)."""
    finance = finance_unit_id(access.session)
    return finance is not None and access.user is not None and any(
        m.unit_id == finance for m in access.user.memberships) and access.can(
        Action.CAPTURE, finance)


def may_capture(access: Access, unit_id: int) -> bool:
    """The project owner (capture on the unit) or the finance department of the province
    the unit belongs to."""
    if access.can(Action.CAPTURE, unit_id):
        return True
    finance = finance_unit_id(access.session)
    if finance is None or not access.can(Action.CAPTURE, finance):
        return False
    # The finance department captures within its own province only.
    finance_chain = ancestor_ids(access.session, finance)
    province = finance_chain[-1]
    return province in ancestor_ids(access.session, unit_id)


def require_capture(access: Access, unit_id: int) -> None:
    if not may_capture(access, unit_id):
        unit = access.session.get(OrgUnit, unit_id)
        raise PermissionDenied(Action.CAPTURE, unit_id,
                               f"{unit.name} ({unit.code})" if unit else None)


def may_capture_somewhere(access: Access) -> bool:
    """For pages: show the import form to whoever could capture for some unit."""
    if access.system_name:
        return True
    finance = finance_unit_id(access.session)
    return bool(access.user) and (
        (finance is not None and access.can(Action.CAPTURE, finance))
        or any(access.can(Action.CAPTURE, m.unit_id) for m in access.user.memberships  # type: ignore[union-attr]
               if m.unit_id is not None)
        or access.can(Action.CAPTURE))


def _actor_label(access: Access) -> str:
    actor = access.actor
    return (getattr(actor, "username", "") or "system")[:80]


# ------------------------------------------------------------------ programmes


@dataclass
class ProgrammeInput:
    """A programme or project as a person or a file gives it; amounts in đồng."""

    code: str
    name: str
    owner_unit_id: int
    scope_unit_id: int
    year_from: int
    year_to: int
    kind: str = ProgrammeKind.PROJECT
    name_en: str = ""
    decision_number: str = ""
    decision_date: dt.date | None = None
    total_investment: int | None = None
    plan_id: int | None = None
    parent_id: int | None = None
    note: str = ""
    illustrative: bool = False
    target_ids: list[int] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": nfc(self.name), "name_en": nfc(self.name_en),
                "decision_number": nfc(self.decision_number),
                "decision_date": self.decision_date, "owner_unit_id": self.owner_unit_id,
                "scope_unit_id": self.scope_unit_id, "year_from": self.year_from,
                "year_to": self.year_to, "total_investment": self.total_investment,
                "plan_id": self.plan_id, "parent_id": self.parent_id, "note": nfc(self.note),
                "illustrative": self.illustrative}


def _programme_problems(data: ProgrammeInput) -> list[dict[str, Any]]:
    problems = []
    if not nfc(data.code):
        problems.append(issue("code", "required", "thiếu mã chương trình, dự án",
                              "the programme code is missing"))
    if not nfc(data.name):
        problems.append(issue("name", "required", "thiếu tên chương trình, dự án",
                              "the programme name is missing"))
    if data.kind not in set(ProgrammeKind):
        problems.append(issue("kind", "choice", f"loại '{data.kind}' không hợp lệ "
                              "(programme hoặc project)",
                              f"kind '{data.kind}' is not programme or project"))
    if not 2000 <= data.year_from <= data.year_to <= 2100:
        problems.append(issue("year_to", "period", f"giai đoạn {data.year_from}–{data.year_to}"
                              " không hợp lệ", f"period {data.year_from}–{data.year_to} is "
                              "not valid"))
    if data.total_investment is not None and data.total_investment < 0:
        problems.append(issue("total_investment", "negative", "tổng mức đầu tư không được âm",
                              "the total investment cannot be negative"))
    return problems


def save_programme(session: Session, data: ProgrammeInput, *, access: Access) -> Programme:
    """Create a programme or project, or update the one with this code (a new version,
    the audit event keeping the old fields); its target and task links are set to the
    given ones when any are given."""
    require_booted()
    problems = _programme_problems(data)
    if problems:
        raise rejected(problems)
    require_capture(access, data.owner_unit_id)
    code = nfc(data.code)
    current = session.scalar(select(Programme).where(Programme.code == code))
    if current is None:
        programme = Programme(code=code, **data.fields())
        session.add(programme)
        session.flush()
        record_event(session, action="funding.programme.create", object_type="funding_programme",
                     object_id=programme.id, actor=access.actor, unit_id=data.owner_unit_id,
                     after={"code": code, **data.fields()})
    else:
        programme = current
        _update_programme(session, programme, data, access)
    if data.target_ids or data.task_ids:
        _set_links(session, programme, data.target_ids, data.task_ids, access)
    return programme


def _update_programme(session: Session, programme: Programme, data: ProgrammeInput,
                      access: Access) -> None:
    require_capture(access, programme.owner_unit_id)
    before = {k: getattr(programme, k) for k in data.fields()}
    after = {k: v for k, v in data.fields().items() if before[k] != v}
    if not after:
        return
    for name, value in after.items():
        setattr(programme, name, value)
    programme.version += 1
    session.flush()
    record_event(session, action="funding.programme.update", object_type="funding_programme",
                 object_id=programme.id, actor=access.actor, unit_id=programme.owner_unit_id,
                 before={k: before[k] for k in after}, after=after)


def _set_links(session: Session, programme: Programme, target_ids: Iterable[int],
               task_ids: Iterable[int], access: Access) -> None:
    wanted = {(t, None) for t in target_ids} | {(None, t) for t in task_ids}
    rows = session.scalars(select(ProgrammeLink).where(
        ProgrammeLink.programme_id == programme.id)).all()
    existing = {(r.target_id, r.task_id): r for r in rows}
    added = sorted(wanted - set(existing), key=str)
    removed = [existing[k] for k in set(existing) - wanted]
    if not added and not removed:
        return
    for target_id, task_id in added:
        session.add(ProgrammeLink(programme_id=programme.id, target_id=target_id,
                                  task_id=task_id))
    for row in removed:
        session.delete(row)
    session.flush()
    record_event(session, action="funding.programme.links", object_type="funding_programme",
                 object_id=programme.id, actor=access.actor, unit_id=programme.owner_unit_id,
                 before={"links": str(sorted(existing, key=str))},
                 after={"links": str(sorted(wanted, key=str))})


def get_programme(session: Session, key: int | str) -> Programme:
    """By id or by code."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        found = session.get(Programme, int(key)) if 0 < int(key) < 2**31 else None
    else:
        found = session.scalar(select(Programme).where(Programme.code == nfc(key)))
    if found is None:
        raise ProgrammeNotFound(key)
    return found


def programme_links(session: Session, programme_id: int) -> tuple[list[int], list[int]]:
    """(target ids, task ids) the programme pays for."""
    rows = session.execute(select(ProgrammeLink.target_id, ProgrammeLink.task_id).where(
        ProgrammeLink.programme_id == programme_id)).all()
    return ([t for t, _ in rows if t is not None], [k for _, k in rows if k is not None])


# ------------------------------------------------------------------ budget lines


@dataclass(frozen=True)
class LineSpec:
    """What identifies a budget line. `kind = total` is the province's total spending."""

    scope_unit_id: int
    unit_id: int
    year: int
    name: str
    kind: str = LineKind.LINE
    source: str = ""
    spend_type: str = ""
    area: str = ""
    programme_id: int | None = None
    illustrative: bool = False

    def key(self) -> str:
        """Stable across imports: the same row of next month's table is the same line."""
        # The province has one total spending a year, whatever the row calls it.
        name = "" if self.kind == LineKind.TOTAL else name_key(self.name)
        parts = [self.kind, self.year, self.scope_unit_id, self.unit_id, self.source,
                 self.spend_type, self.area, self.programme_id or "", name]
        text = "|".join(str(p) for p in parts)
        return text if len(text) <= 200 else text[:150] + "#" + hashlib.sha256(
            text.encode()).hexdigest()[:40]

    def problems(self) -> list[dict[str, Any]]:
        if self.kind == LineKind.TOTAL:
            return []
        found = []
        for column, value, terms in (("source", self.source, SOURCES),
                                     ("spend_type", self.spend_type, SPEND_TYPES),
                                     ("area", self.area, AREAS)):
            if value not in terms:
                words = ", ".join(t.name_vi for t in terms.values())
                found.append(issue(column, "choice", f"'{value}' không phải một trong: {words}",
                                   f"'{value}' is not one of: {', '.join(terms)}"))
        return found


def find_lines(session: Session, specs: Iterable[LineSpec]) -> dict[str, BudgetLine]:
    keys = sorted({s.key() for s in specs})
    found: dict[str, BudgetLine] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start:start + 400]
        found.update({line.key: line for line in session.scalars(
            select(BudgetLine).where(BudgetLine.key.in_(chunk)))})
    return found


def ensure_lines(session: Session, specs: Sequence[LineSpec], *, access: Access
                 ) -> dict[str, BudgetLine]:
    """The lines for `specs`, creating those that do not exist yet (audited)."""
    require_booted()
    problems = [p for s in specs for p in s.problems()]
    if problems:
        raise rejected(problems)
    lines = find_lines(session, specs)
    for spec in specs:
        if spec.key() in lines:
            continue
        require_capture(access, spec.unit_id)
        line = BudgetLine(key=spec.key(), kind=spec.kind, scope_unit_id=spec.scope_unit_id,
                          unit_id=spec.unit_id, programme_id=spec.programme_id, year=spec.year,
                          source=spec.source, spend_type=spec.spend_type, area=spec.area,
                          name=nfc(spec.name), illustrative=spec.illustrative)
        session.add(line)
        session.flush()
        lines[line.key] = line
        record_event(session, action="funding.line.create", object_type="funding_line",
                     object_id=line.id, actor=access.actor, unit_id=spec.unit_id,
                     after={"key": line.key, "name": line.name, "year": spec.year})
    return lines


# ------------------------------------------------------------------ figures


@dataclass(frozen=True)
class FigureInput:
    """An amount (đồng) of a line at a stage and period; `row` locates it in a file."""

    line: LineSpec
    stage: str
    period: str
    amount: int
    comment: str = ""
    row: dict[str, Any] | None = None


@dataclass
class FigureChange:
    """One planned change, for the dry-run diff and the write."""

    input: FigureInput
    figure_id: int | None
    old_amount: int | None
    old_status: str | None
    old_version: int

    @property
    def kind(self) -> str:
        return "insert" if self.figure_id is None else "update"

    def as_dict(self) -> dict[str, Any]:
        line = self.input.line
        return {"kind": self.kind, "line": line.name, "unit_id": line.unit_id,
                "year": line.year, "stage": self.input.stage, "period": self.input.period,
                "amount": self.input.amount, "old_amount": self.old_amount,
                "reopens": self.old_status == FigureStatus.APPROVED,
                **(self.input.row or {})}


@dataclass
class FigurePlan:
    changes: list[FigureChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def inserts(self) -> list[FigureChange]:
        return [c for c in self.changes if c.kind == "insert"]

    @property
    def updates(self) -> list[FigureChange]:
        return [c for c in self.changes if c.kind == "update"]

    @property
    def reopened(self) -> int:
        return sum(1 for c in self.updates if c.old_status == FigureStatus.APPROVED)

    def counts(self) -> dict[str, int]:
        return {"inserted": len(self.inserts), "updated": len(self.updates),
                "unchanged": self.unchanged, "reopened": self.reopened}


def figure_problems(figures: Sequence[FigureInput], today: dt.date) -> list[dict[str, Any]]:
    """Rules every figure obeys, wherever it comes from."""
    found = []
    for figure in figures:
        where = figure.row or {}
        problem = _figure_problem(figure, today)
        if problem is not None:
            found.append({**problem, **where})
    return found


def _figure_problem(figure: FigureInput, today: dt.date) -> dict[str, Any] | None:
    year = figure.line.year
    if figure.stage not in set(Stage):
        return issue("stage", "choice", f"giai đoạn '{figure.stage}' không hợp lệ",
                     f"stage '{figure.stage}' is not valid")
    if figure.amount < 0:
        return issue(figure.stage, "negative", "số tiền không được âm",
                     "an amount cannot be negative")
    if figure.stage == Stage.DISBURSED:
        if len(figure.period) != 6 or figure.period[:4] != str(year):
            return issue(figure.stage, "period", f"tháng {figure.period} không thuộc năm {year}",
                         f"month {figure.period} is not in year {year}")
        month_start = dt.date(year, int(figure.period[4:]), 1)
        if month_start > today:
            return issue(figure.stage, "future_month",
                         f"giải ngân tháng {int(figure.period[4:])}/{year} chưa thể có "
                         f"(hôm nay {today:%d/%m/%Y})",
                         f"disbursement for {figure.period[4:]}/{year} cannot exist yet "
                         f"(today is {today.isoformat()})")
    elif figure.period != str(year):
        return issue(figure.stage, "period", f"kỳ {figure.period} khác năm {year} của dòng",
                     f"period {figure.period} differs from the line's year {year}")
    return None


def plan_figures(session: Session, figures: Sequence[FigureInput],
                 lines: dict[str, BudgetLine]) -> FigurePlan:
    """Compare with what is stored: insert, update, or leave unchanged."""
    ids = [line.id for line in lines.values()]
    stored: dict[tuple[int, str, str], Figure] = {}
    for start in range(0, len(ids), 400):
        stored.update({(f.line_id, f.stage, f.period): f for f in session.scalars(
            select(Figure).where(Figure.line_id.in_(ids[start:start + 400])))})
    plan = FigurePlan()
    for figure in figures:
        line = lines.get(figure.line.key())
        current = stored.get((line.id, figure.stage, figure.period)) if line else None
        if current is not None and current.amount == figure.amount and not current.deleted:
            plan.unchanged += 1
            continue
        plan.changes.append(FigureChange(
            figure, current.id if current else None, current.amount if current else None,
            current.status if current else None, current.version if current else 0))
    return plan


def cumulative_problems(session: Session, figures: Sequence[FigureInput],
                        lines: dict[str, BudgetLine]) -> list[dict[str, Any]]:
    """Giải ngân is cumulative: within a year a month's figure cannot be below an earlier
    month's (checked on the stored months merged with the incoming ones)."""
    incoming: dict[str, dict[str, FigureInput]] = {}
    for figure in figures:
        if figure.stage == Stage.DISBURSED:
            incoming.setdefault(figure.line.key(), {})[figure.period] = figure
    found = []
    for key, months in incoming.items():
        line = lines.get(key)
        merged: dict[str, tuple[int, FigureInput | None]] = {}
        if line is not None:
            for f in session.scalars(select(Figure).where(
                    Figure.line_id == line.id, Figure.stage == Stage.DISBURSED,
                    Figure.deleted.is_(False))):
                merged[f.period] = (f.amount, None)
        merged.update({p: (f.amount, f) for p, f in months.items()})
        found += _decreasing(merged)
    return found


def _decreasing(merged: dict[str, tuple[int, FigureInput | None]]) -> list[dict[str, Any]]:
    found = []
    highest, highest_period = -1, ""
    for period in sorted(merged):
        amount, figure = merged[period]
        if amount < highest and figure is not None:
            found.append({**issue(
                Stage.DISBURSED, "cumulative_decreasing",
                f"giải ngân lũy kế tháng {int(period[4:])} ({amount:,} đồng) thấp hơn tháng "
                f"{int(highest_period[4:])} ({highest:,} đồng)".replace(",", "."),
                f"cumulative disbursement for month {int(period[4:])} ({amount:,} VND) is "
                f"below month {int(highest_period[4:])} ({highest:,} VND)"),
                **(figure.row or {})})
        if amount >= highest:
            highest, highest_period = amount, period
    return found


def save_figures(session: Session, figures: Sequence[FigureInput], *, access: Access,
                 source: str = "manual", import_batch_id: int | None = None,
                 dry_run: bool = False, at: dt.datetime | None = None) -> FigurePlan:
    """The one write path of funding figures. Validates every figure and the capture right
    on every line first (raising FundingRejected / PermissionDenied, nothing written), then
    creates missing lines and writes each change as a new version awaiting approval. An
    approved figure whose amount changes is re-opened (counted in `reopened`). `at` dates
    the versions (the demo's history; default now)."""
    require_booted()
    problems = figure_problems(figures, get_settings().current_date())
    problems += [p for s in {f.line for f in figures} for p in s.problems()]
    if problems:
        raise rejected(problems)
    for unit_id in sorted({f.line.unit_id for f in figures}):
        require_capture(access, unit_id)
    lines = find_lines(session, [f.line for f in figures])
    cumulative = cumulative_problems(session, figures, lines)
    if cumulative:
        raise rejected(cumulative)
    plan = plan_figures(session, figures, lines)
    if dry_run or not plan.changes:
        return plan
    lines = ensure_lines(session, [c.input.line for c in plan.changes], access=access)
    _write_changes(session, plan, lines, access, nfc(source)[:SOURCE_MAX] or "manual",
                   import_batch_id, at or utcnow())
    record_event(session, action="funding.figures.save", object_type="funding_figure",
                 object_id=import_batch_id or "", actor=access.actor,
                 after={**plan.counts(), "source": source})
    return plan


def _write_changes(session: Session, plan: FigurePlan, lines: dict[str, BudgetLine],
                   access: Access, source: str, batch_id: int | None, now: dt.datetime
                   ) -> None:
    """Set-based: one executemany for the new figures, a guarded update per changed one,
    one executemany for all their version rows."""
    user_id, label = getattr(access.actor, "id", None), _actor_label(access)
    stamp = {"source": source, "now": now, "user_id": user_id, "label": label,
             "batch_id": batch_id}
    versions = _insert_new(session, plan.inserts, lines, stamp)
    for change in plan.updates:
        assert change.figure_id is not None
        reopen = 1 if change.old_status == FigureStatus.APPROVED else 0
        comment = nfc(change.input.comment)
        _update_figure(session, change.figure_id, change.old_version,
                       amount=change.input.amount, status=FigureStatus.SUBMITTED,
                       source=source, comment=comment, deleted=False,
                       reopened=FIGURES.c.reopened + reopen, updated_at=now,
                       updated_by_id=user_id)
        versions.append(_version_row(change.figure_id, change.old_version + 1,
                                     change.input.amount, FigureStatus.SUBMITTED, "update",
                                     comment, stamp))
    if versions:
        session.execute(insert(FigureVersion), versions)
    session.expire_all()


def _insert_new(session: Session, inserts: list[FigureChange], lines: dict[str, BudgetLine],
                stamp: dict[str, Any]) -> list[dict[str, Any]]:
    if not inserts:
        return []
    rows = [{"line_id": lines[c.input.line.key()].id, "stage": c.input.stage,
             "period": c.input.period, "amount": c.input.amount,
             "status": FigureStatus.SUBMITTED.value, "approved_amount": None,
             "approved_version": None, "reopened": 0, "source": stamp["source"],
             "comment": nfc(c.input.comment), "version": 1, "deleted": False,
             "updated_at": stamp["now"], "updated_by_id": stamp["user_id"]} for c in inserts]
    session.execute(insert(FIGURES), rows)
    wanted = {(r["line_id"], r["stage"], r["period"]): r for r in rows}
    line_ids = sorted({r["line_id"] for r in rows})
    versions = []
    for start in range(0, len(line_ids), 400):
        for figure_id, line_id, stage, period in session.execute(select(
                Figure.id, Figure.line_id, Figure.stage, Figure.period).where(
                Figure.line_id.in_(line_ids[start:start + 400]), Figure.version == 1)):
            row = wanted.get((line_id, stage, period))
            if row is not None:
                versions.append(_version_row(figure_id, 1, row["amount"],
                                             FigureStatus.SUBMITTED, "insert", row["comment"],
                                             stamp))
    return versions


def _update_figure(session: Session, figure_id: int, version: int, **values: Any) -> None:
    """One guarded update: the version predicate makes a concurrent change fail instead of
    silently winning."""
    result = session.execute(update(FIGURES).where(
        FIGURES.c.id == figure_id, FIGURES.c.version == version)
        .values(version=version + 1, **values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleFigure


def _version_row(figure_id: int, version: int, amount: int, status: str, change: str,
                 comment: str, stamp: dict[str, Any]) -> dict[str, Any]:
    return {"figure_id": figure_id, "version": version, "amount": amount, "status": status,
            "change": change, "source": stamp["source"], "comment": comment,
            "changed_at": stamp["now"], "changed_by_id": stamp["user_id"],
            "changed_by": stamp["label"], "import_batch_id": stamp["batch_id"]}


def figure_history(session: Session, figure_id: int) -> list[FigureVersion]:
    """Every state of one figure, oldest first."""
    return list(session.scalars(select(FigureVersion).where(
        FigureVersion.figure_id == figure_id).order_by(FigureVersion.version)))


# ------------------------------------------------------------------ approval


@dataclass
class ApprovalResult:
    approved: int = 0
    returned: int = 0
    years: set[tuple[int, int]] = field(default_factory=set)  # (scope unit, year) touched


def pending_figures(session: Session, *, scope_unit_id: int, year: int | None = None,
                    unit_ids: Iterable[int] | None = None) -> list[tuple[Figure, BudgetLine]]:
    """Figures awaiting approval (submitted), oldest line first."""
    query = (select(Figure, BudgetLine).join(BudgetLine, BudgetLine.id == Figure.line_id)
             .where(BudgetLine.scope_unit_id == scope_unit_id,
                    Figure.status == FigureStatus.SUBMITTED, Figure.deleted.is_(False))
             .order_by(BudgetLine.year, BudgetLine.unit_id, BudgetLine.id, Figure.stage,
                       Figure.period))
    if year is not None:
        query = query.where(BudgetLine.year == year)
    if unit_ids is not None:
        query = query.where(BudgetLine.unit_id.in_(list(unit_ids)))
    return [(f, line) for f, line in session.execute(query)]


def approve_figures(session: Session, *, access: Access, figure_ids: Sequence[int] | None = None,
                    scope_unit_id: int | None = None, year: int | None = None,
                    comment: str = "", refresh: bool = True,
                    at: dt.datetime | None = None) -> ApprovalResult:
    """Approve the given submitted figures, or every submitted figure of a province (and
    year). Needs APPROVE on each line's unit (the standing office); then the indicators of
    the years touched are computed again from the approved amounts."""
    require_booted()
    chosen = [(f, line) for f, line in _chosen(session, figure_ids, scope_unit_id, year)
              if f.status != FigureStatus.APPROVED and not f.deleted]
    for unit_id in sorted({line.unit_id for _f, line in chosen}):
        access.require(Action.APPROVE, unit_id)
    result = ApprovalResult(years={(line.scope_unit_id, line.year) for _f, line in chosen})
    result.approved = _set_status(session, [f.id for f, _line in chosen],
                                  FigureStatus.APPROVED, "approve", comment, access,
                                  at or utcnow())
    if result.approved:
        record_event(session, action="funding.figures.approve", object_type="funding_figure",
                     actor=access.actor, unit_id=scope_unit_id,
                     after={"approved": result.approved, "comment": nfc(comment)})
    if refresh:
        for scope, touched_year in sorted(result.years):
            refresh_indicators(session, scope_unit_id=scope, year=touched_year,
                               access=derived_access(session))
    return result


def return_figures(session: Session, *, access: Access, figure_ids: Sequence[int],
                   comment: str) -> ApprovalResult:
    """Send submitted figures back to whoever captured them, with the reason."""
    require_booted()
    if not nfc(comment):
        raise rejected([issue("comment", "required", "cần ghi lý do trả lại",
                              "say why the figures are returned")])
    chosen = [(f, line) for f, line in _chosen(session, figure_ids, None, None)
              if f.status == FigureStatus.SUBMITTED]
    for unit_id in sorted({line.unit_id for _f, line in chosen}):
        access.require(Action.APPROVE, unit_id)
    result = ApprovalResult()
    result.returned = _set_status(session, [f.id for f, _line in chosen],
                                  FigureStatus.RETURNED, "return", comment, access, utcnow())
    if result.returned:
        record_event(session, action="funding.figures.return", object_type="funding_figure",
                     actor=access.actor, after={"returned": result.returned,
                                                "comment": nfc(comment)})
    return result


def _chosen(session: Session, figure_ids: Sequence[int] | None, scope_unit_id: int | None,
            year: int | None) -> list[tuple[Figure, BudgetLine]]:
    if figure_ids is not None:
        ids = [i for i in figure_ids if 0 < i < 2**31]
        chosen: list[tuple[Figure, BudgetLine]] = []
        for start in range(0, len(ids), 400):
            chosen += list(session.execute(select(Figure, BudgetLine).join(
                BudgetLine, BudgetLine.id == Figure.line_id).where(
                Figure.id.in_(ids[start:start + 400]))))
        missing = set(figure_ids) - {f.id for f, _ in chosen}
        if missing:
            raise FigureNotFound(min(missing))
        return chosen
    if scope_unit_id is None:
        raise rejected([issue("unit", "required", "cần chọn số liệu hoặc đơn vị và năm",
                              "choose figures, or a unit and a year")])
    return pending_figures(session, scope_unit_id=scope_unit_id, year=year)


def _set_status(session: Session, ids: list[int], status: str, change: str, comment: str,
                access: Access, now: dt.datetime) -> int:
    """Set-based: one update per chunk (guarded by the status it expects, so a figure
    approved meanwhile by someone else fails the batch) and one INSERT … SELECT of version
    rows. An approval also records the approved amount, which the indicators use."""
    user_id = getattr(access.actor, "id", None)
    values: dict[str, Any] = {"status": status, "version": FIGURES.c.version + 1,
                              "updated_at": now, "updated_by_id": user_id}
    if status == FigureStatus.APPROVED:
        values |= {"approved_amount": FIGURES.c.amount,
                   "approved_version": FIGURES.c.version + 1}
    done = 0
    for start in range(0, len(ids), 400):
        chunk = ids[start:start + 400]
        result = session.execute(update(FIGURES).where(
            FIGURES.c.id.in_(chunk), FIGURES.c.status != status).values(**values))
        if result.rowcount != len(chunk):  # type: ignore[attr-defined]
            raise StaleFigure
        session.execute(insert(VERSIONS).from_select(
            ["figure_id", "version", "amount", "status", "change", "source", "comment",
             "changed_at", "changed_by_id", "changed_by"],
            select(FIGURES.c.id, FIGURES.c.version, FIGURES.c.amount, FIGURES.c.status,
                   literal(change), FIGURES.c.source, literal(nfc(comment)), literal(now),
                   literal(user_id, Integer), literal(_actor_label(access)))
            .where(FIGURES.c.id.in_(chunk))))
        done += len(chunk)
    session.expire_all()
    return done


# ------------------------------------------------------------------ amounts


def to_dong(amount: Any, factor: int) -> int:
    """An amount in the file's unit (Decimal from `parse_number`) as whole đồng."""
    return int((Decimal(str(amount)) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


ALL_SOURCES = tuple(Source)
ALL_TYPES = tuple(SpendType)
ALL_AREAS = tuple(Area)


# ------------------------------------------------------------------ targets


def set_funding_targets(session: Session, *, plan_code: str, unit_code: str, year: int,
                        access: Access, share: float = 3.0, disbursement: float = 100.0
                        ) -> list[int]:
    """Put the funding targets of a year in a plan, through the plans service (MANAGE, the
    standing office): the share of budget spending (≥ `share` %, Nghị quyết 57's 3 % by
    default) and disbursement (≥ `disbursement` % by 31/12, from 0 % on 1 January along the
    default quarterly path, which the standing office may then edit like any target).
    Returns the target ids; running it again updates them."""
    path = default_path(year)
    wanted = [
        {"indicator": SHARE, "unit": unit_code, "year": year, "comparator": ">=",
         "value": share},
        {"indicator": DISBURSEMENT, "unit": unit_code, "year": year, "comparator": ">=",
         "value": disbursement, "baseline_value": 0, "baseline_date": f"31/12/{year - 1}",
         "trajectory": "milestones",
         "milestones": [{"date": day.strftime("%d/%m/%Y"), "value": value}
                        for day, value in path.milestones]},
    ]
    plan = plans.get_plan(session, plan_code)
    ids = []
    for values in wanted:
        existing = session.scalar(
            select(Target.id).join(Indicator, Indicator.id == Target.indicator_id)
            .join(OrgUnit, OrgUnit.id == Target.unit_id)
            .where(Target.plan_id == plan.id, Indicator.code == values["indicator"],
                   OrgUnit.code == unit_code, Target.year == year))
        if existing is None:
            target = plans.create_target(session, plan_code, values, access=access)
        else:
            target = plans.update_target(session, existing, values, access=access)
        ids.append(target.id)
    return ids


# ------------------------------------------------------------------ for the reports


def report_section(session: Session, *, unit_code: str, period_start: dt.date,
                   period_end: dt.date, known_at: dt.datetime | dt.date | None
                   ) -> dict[str, Any]:
    """The budget section of a quarterly or annual report, as plain data (paragraph in
    Vietnamese and English, table columns and rows, the facts behind them), from the
    figures approved by `known_at`. See `chiso.funding.report.report_section`."""
    # Imported here: the report module reads through chiso.funding.summary, which uses
    # this module's reading helpers.
    from chiso.funding import report

    return report.report_section(session, unit_code=unit_code, period_start=period_start,
                                 period_end=period_end, known_at=known_at)


def roadmap_table(session: Session, *, unit_code: str, year_from: int, year_to: int,
                  known_at: dt.datetime | dt.date | None = None) -> dict[str, Any]:
    """The funding roadmap by source and type, year by year: the annual plan's appendix."""
    from chiso.funding import report  # see report_section

    return report.roadmap_table(session, unit_code=unit_code, year_from=year_from,
                                year_to=year_to, known_at=known_at)

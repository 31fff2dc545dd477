"""Plan chains and revisions in plan files (docs/plan-format.md).

Plans come in chains — Party action programme → committee plan → People's Committee plan
→ annual DX plan — and one plan often implements several documents. A plan file names them
under `plan.parents` (a list; the older `plan.parent` may hold several số hiệu separated by
`;`): each is a loaded plan, linked, or a document cited by số hiệu, title and date.

A plan file may also list `revisions:` of its targets, each with its effective date and the
document it rests on; loading adds those not yet recorded (`chiso.plans.revisions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Actor
from chiso.audit.service import record_event
from chiso.indicators.models import Indicator
from chiso.indicators.problems import Problem
from chiso.plans import revisions
from chiso.plans.files import RawRow
from chiso.plans.models import Plan, PlanParent, Target, TargetVersion
from chiso.text import nfc, parse_date, parse_number
from chiso.text.dates import DateError
from chiso.text.numbers import NumberError
from chiso.units.models import OrgUnit

if TYPE_CHECKING:
    from chiso.plans.rows import PlanDraft, PlanValidator

PARENT_KEYS = frozenset({"code", "title", "issued_on", "issuer", "note", "article"})
REVISION_KEYS = frozenset({"indicator", "unit", "year", "comparator", "value", "value_high",
                           "effective_from", "basis", "basis_date", "basis_title", "note"})


@dataclass(frozen=True)
class ParentDraft:
    code: str
    title: str
    issued_on: dt.date | None
    note: str
    plan_id: int | None  # the parent's id when it is a loaded plan


@dataclass(frozen=True)
class RevisionDraft:
    row: int
    indicator_code: str
    unit_code: str
    year: int
    comparator: str | None
    value: float
    value_high: float | None
    effective_from: dt.date
    basis_code: str
    basis_date: dt.date | None
    basis_title: str
    note: str


# ---------------------------------------------------------------- reading


def read_parents(validator: PlanValidator, values: dict[str, Any]) -> list[ParentDraft]:
    """`plan.parents` (strings or mappings) or `plan.parent` ('57-NQ/TW; 03/NQ-CP')."""
    raw = values.get("parents")
    if raw is None:
        raw = [code for code in nfc(values.get("parent")).split(";") if code.strip()]
    if not isinstance(raw, list):
        validator.plan_problem("parents", "'parents' phải là một danh sách văn bản",
                               "'parents' must be a list of documents")
        return []
    parents: list[ParentDraft] = []
    for index, entry in enumerate(raw, start=1):
        parent = _parent(validator, index, entry)
        if parent is not None and parent.code not in {p.code for p in parents}:
            parents.append(parent)
    return parents


def _parent(validator: PlanValidator, index: int, entry: Any) -> ParentDraft | None:
    fields = entry if isinstance(entry, dict) else {"code": entry}
    for key in sorted(set(fields) - PARENT_KEYS):
        validator.plan_problem("parents", f"văn bản căn cứ thứ {index}: trường '{key}' không "
                               "được hỗ trợ", f"parent {index}: unknown field '{key}'")
    code = nfc(fields.get("code")).strip()
    if not code:
        validator.plan_problem("parents", f"văn bản căn cứ thứ {index}: thiếu số hiệu",
                               f"parent {index}: missing its number (số hiệu)")
        return None
    issued_on = None
    if fields.get("issued_on") not in (None, ""):
        try:
            issued_on = parse_date(fields["issued_on"])
        except DateError as exc:
            validator.plan_problem("parents", f"văn bản căn cứ '{code}': {exc.message_vi}",
                                   f"parent '{code}': {exc.message_en}")
    plan_id = validator.session.scalar(select(Plan.id).where(Plan.code == code))
    note = " ".join(nfc(fields.get(k)) for k in ("article", "note") if fields.get(k))
    return ParentDraft(code, nfc(fields.get("title")), issued_on, note, plan_id)


def read_revisions(validator: PlanValidator, plan: PlanDraft, rows: list[RawRow]
                   ) -> list[RevisionDraft]:
    drafts = []
    for raw in rows:
        draft = _RevisionRow(validator, plan, raw).run()
        if draft is not None:
            drafts.append(draft)
    return drafts


class _RevisionRow:
    def __init__(self, validator: PlanValidator, plan: PlanDraft, raw: RawRow) -> None:
        self.validator, self.plan, self.raw, self.values = validator, plan, raw, raw.values
        self.failed = False

    def problem(self, column: str, vi: str, en: str) -> None:
        self.failed = True
        self.validator.problems.append(Problem(
            self.validator.raw.file, vi, en, sheet="revisions", row=self.raw.row,
            column=column, key=nfc(self.values.get("indicator"))))

    def run(self) -> RevisionDraft | None:
        if not isinstance(self.values, dict) or "__not_a_mapping__" in self.values:
            self.problem("", "mục phải là bảng khóa: giá trị", "entry must be a mapping")
            return None
        for key in sorted(set(self.values) - REVISION_KEYS):
            self.problem(key, "trường không được hỗ trợ", "unknown field")
        target = self._target()
        value = self._number("value", required=True)
        value_high = self._number("value_high")
        effective_from = self._date("effective_from", required=True)
        basis_date = self._date("basis_date")
        basis = nfc(self.values.get("basis")).strip()
        if not basis:
            self.problem("basis", "thiếu số hiệu văn bản làm căn cứ điều chỉnh",
                         "missing the number of the document the revision rests on")
        if self.failed or target is None or value is None or effective_from is None:
            return None
        comparator = nfc(self.values.get("comparator")) or None
        return RevisionDraft(self.raw.row or 0, target.indicator_code, target.unit_code,
                             target.year, comparator, value, value_high, effective_from,
                             basis, basis_date, nfc(self.values.get("basis_title")),
                             nfc(self.values.get("note")))

    def _target(self) -> Any:
        code = nfc(self.values.get("indicator")).upper()
        unit = nfc(self.values.get("unit")) or self.plan.scope_unit_code
        year = self.values.get("year")
        found = [t for t in self.plan.targets if t.indicator_code == code
                 and t.unit_code == unit and (year in (None, "") or str(t.year) == str(year))]
        if len(found) != 1:
            self.problem("indicator", f"không xác định được một chỉ tiêu '{code}' của đơn vị "
                         f"'{unit}'{f' năm {year}' if year else ''} trong tệp (ghi rõ năm)",
                         f"no single target '{code}' of unit '{unit}'"
                         f"{f' for {year}' if year else ''} in the file (give the year)")
            return None
        return found[0]

    def _number(self, name: str, required: bool = False) -> float | None:
        raw = self.values.get(name)
        if raw in (None, ""):
            if required:
                self.problem(name, "thiếu giá trị", "missing value")
            return None
        try:
            return float(parse_number(raw).value)
        except NumberError as exc:
            self.problem(name, exc.message_vi, exc.message_en)
            return None

    def _date(self, name: str, required: bool = False) -> dt.date | None:
        raw = self.values.get(name)
        if raw in (None, ""):
            if required:
                self.problem(name, "thiếu ngày", "missing date")
            return None
        try:
            return parse_date(raw)
        except DateError as exc:
            self.problem(name, exc.message_vi, exc.message_en)
            return None


# ---------------------------------------------------------------- applying


def apply_parents(session: Session, plan: Plan, parents: list[ParentDraft], actor: Actor | None,
                  note: str) -> list[str]:
    """Record the documents the plan implements (added or changed; none removed: a file
    that leaves one out keeps it). Returns the codes added or changed."""
    stored = {p.parent_code: p for p in session.scalars(select(PlanParent).where(
        PlanParent.plan_id == plan.id))}
    changed = []
    for position, draft in enumerate(parents):
        fields = {"position": position, "parent_plan_id": draft.plan_id, "title": draft.title,
                  "issued_on": draft.issued_on, "note": draft.note}
        row = stored.get(draft.code)
        if row is None:
            session.add(PlanParent(plan_id=plan.id, parent_code=draft.code, **fields))
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(row, key, value)
        else:
            continue
        changed.append(draft.code)
    if changed:
        record_event(session, action="plan.parents", object_type="plan", object_id=plan.id,
                     actor=actor, unit_id=plan.scope_unit_id,
                     after={"parents": [p.code for p in parents]}, note=note)
    return changed


def apply_revisions(session: Session, plan: Plan, drafts: list[RevisionDraft],
                    access: Access) -> list[str]:
    """Add the file's revisions not yet recorded (same target, date and value: already
    there). Returns them as 'indicator @ unit dd/mm/yyyy'."""
    added = []
    for draft in drafts:
        target = _target(session, plan, draft)
        known = session.scalar(select(TargetVersion.id).where(
            TargetVersion.target_id == target.id,
            TargetVersion.effective_from == draft.effective_from,
            TargetVersion.value == draft.value))
        if known is not None:
            continue
        revisions.revise_target(
            session, target.id, value=draft.value, value_high=draft.value_high,
            comparator=draft.comparator, effective_from=draft.effective_from,
            basis_code=draft.basis_code, basis_date=draft.basis_date,
            basis_title=draft.basis_title, note=draft.note, access=access)
        added.append(f"{draft.indicator_code} @ {draft.unit_code} "
                     f"{draft.effective_from.strftime('%d/%m/%Y')}")
    return added


def _target(session: Session, plan: Plan, draft: RevisionDraft) -> Target:
    target = session.scalar(
        select(Target).join(Indicator, Indicator.id == Target.indicator_id)
        .join(OrgUnit, OrgUnit.id == Target.unit_id)
        .where(Target.plan_id == plan.id, Indicator.code == draft.indicator_code,
               OrgUnit.code == draft.unit_code, Target.year == draft.year))
    assert target is not None  # validated against the file's targets, just stored
    return target

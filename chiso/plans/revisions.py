"""Target revisions (điều chỉnh chỉ tiêu) with effective dates, and the value in force.

A plan's target keeps every value it had: version 1 is the value the plan set (in force
from the start); a revision is a new version that takes effect on its date and rests on a
document (số hiệu, date), e.g. "a 2025 target lowered from 3 % to 1 % on the central
committee's request". Effective dates only move forward, so the version in force on a day
is the latest one whose date has come. The target row carries the latest version (what a
plan page lists); status and reports use the version in force at their date
(`targets_in_force`, and `chiso.analytics.frames.load_targets(on=…)` through
`in_force_subquery`); a report says when a target was revised (`target_revisions`).

**As known at an instant** (`known_at`, reports must be reproducible): a revision recorded
after `known_at` does not exist yet, even when its effective date lies before it — the Q1
report closed on 15/04 keeps judging a target by its old value when a revision effective
from 15/02 is entered in May. The plan's own value (version 1) is always known.

**Corrections** (a typo fixed on the plan page, a plan file whose value was put right) are
versions too, never edits in place: a correction names the version it corrects
(`corrects`), takes its effective date and basis, and replaces it from the moment it is
recorded. So the version in force on a day is the one with the latest effective date not
after it, and of that date's versions the last recorded; a report known at an instant
before the correction keeps the value it was made with. A correction is not a revision:
reports do not list it as one ("điều chỉnh"), and a revision's "from … to …" reads the
values in force, corrections included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Subquery, and_, func, or_, select, true
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, Actor
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.errors import NotFound
from chiso.indicators.models import Indicator
from chiso.indicators.problems import InputRejected, Problem
from chiso.plans import details
from chiso.plans.models import Comparator, Plan, Target, TargetVersion
from chiso.text import format_date, nfc, parse_number
from chiso.text.numbers import NumberError
from chiso.units.models import OrgUnit


class RevisionTargetNotFound(NotFound):
    def __init__(self, target_id: object) -> None:
        super().__init__(f"Không có chỉ tiêu số {target_id}", f"no target {target_id}")


@dataclass(frozen=True)
class TargetInForce:
    """A target as it stands on a day: the version in force and what it rests on."""

    target_id: int
    plan_code: str
    indicator_code: str
    unit_code: str
    year: int
    target_date: dt.date
    comparator: str
    value: float
    value_high: float | None
    version: int
    effective_from: dt.date | None  # null: the plan's own value, from the start
    basis_code: str
    basis_date: dt.date | None

    @property
    def revised(self) -> bool:
        """In force by a revision (or a correction of one), not by the plan's own value."""
        return self.effective_from is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("target_date", "effective_from", "basis_date"):
            data[key] = data[key].isoformat() if data[key] else None
        return {**data, "revised": self.revised}


@dataclass(frozen=True)
class TargetRevision:
    """One revision: the value before and after, when it took effect, on what basis."""

    target_id: int
    version: int
    plan_code: str
    indicator_code: str
    indicator_name_vi: str
    indicator_name_en: str
    unit_code: str
    year: int
    effective_from: dt.date
    comparator: str
    old_value: float
    new_value: float
    old_value_high: float | None
    new_value_high: float | None
    basis_code: str
    basis_date: dt.date | None
    basis_title: str
    note: str

    def sentence(self, locale: str = "vi") -> str:
        """'Chỉ tiêu … điều chỉnh từ 3 xuống 1 từ ngày 15/06/2025 (Công văn số …)'."""
        basis = self.basis_code + (f" ngày {format_date(self.basis_date)}"
                                   if self.basis_date and locale == "vi" else "")
        if locale == "en":
            when = self.effective_from.isoformat()
            return (f"{self.indicator_name_en}: target revised from {self.old_value:g} to "
                    f"{self.new_value:g} from {when} ({basis})")
        way = "xuống" if self.new_value < self.old_value else "lên"
        return (f"{self.indicator_name_vi}: chỉ tiêu điều chỉnh từ {self.old_value:g} {way} "
                f"{self.new_value:g} từ ngày {format_date(self.effective_from)} ({basis})")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("effective_from", "basis_date"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


# ---------------------------------------------------------------- writing


def record_original(session: Session, target: Target, plan: Plan, actor: Actor | None) -> None:
    """Version 1 of a new target: the plan's own value, in force from the start."""
    session.add(TargetVersion(
        target_id=target.id, version=1, effective_from=None, comparator=target.comparator,
        value=target.value, value_high=target.value_high, basis_code=plan.code,
        basis_date=plan.issued_on, basis_title=plan.title,
        recorded_by_id=getattr(actor, "id", None)))


def correct(session: Session, target: Target, corrected: TargetVersion, *, comparator: str,
            value: float, value_high: float | None, actor: Actor | None,
            note: str = "") -> TargetVersion:
    """Put `corrected` right with a new version of the same effective date and basis (the
    plans service calls this for an edit of a target's value; the audit event of the edit
    says who and why). The corrected version stays: what was known before is not lost."""
    last = versions_of(session, target.id)[-1]
    version = TargetVersion(
        target_id=target.id, version=last.version + 1, effective_from=corrected.effective_from,
        comparator=comparator, value=value, value_high=value_high,
        basis_code=corrected.basis_code, basis_date=corrected.basis_date,
        basis_title=corrected.basis_title, note=nfc(note),
        corrects=corrected.corrects or corrected.version,
        recorded_by_id=getattr(actor, "id", None))
    session.add(version)
    session.flush()
    return version


def ensure_original(session: Session, target: Target, actor: Actor | None
                    ) -> list[TargetVersion]:
    """The target's versions, creating version 1 from the row for a target made before
    versions were kept (or directly, without the plan service). Call it before the row
    changes: version 1 is the value the row holds."""
    versions = versions_of(session, target.id)
    if versions:
        return versions
    plan = session.get(Plan, target.plan_id)
    assert plan is not None
    record_original(session, target, plan, actor)
    session.flush()
    return versions_of(session, target.id)


def governing(versions: Sequence[Any], day: dt.date | None = None) -> Any | None:
    """The version in force on `day` (None: the one in force last, as the target stands),
    of `TargetVersion` rows (or anything with their `effective_from` and `version`):
    the latest effective date not after it — the plan's own value from the start — and of
    that date's versions the last recorded, so a correction replaces what it corrects."""
    candidates = [v for v in versions
                  if day is None or v.effective_from is None or v.effective_from <= day]
    return max(candidates, key=_rank, default=None)


def as_planned(versions: Sequence[TargetVersion]) -> Any | None:
    """The plan's own value as it stands (version 1, or its latest correction)."""
    return governing([v for v in versions if v.effective_from is None])


def _rank(version: Any) -> tuple[dt.date, int]:
    return (version.effective_from or dt.date.min, version.version)


def revision_badge(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """For a plan page, from `target_versions`: the revision in force now (corrections
    included) with the value in force the day before it; None when the plan's own value is
    in force."""
    versions = [SimpleNamespace(**v) for v in history]
    now = governing(versions)
    if now is None or now.effective_from is None:
        return None
    before = governing(versions, now.effective_from - dt.timedelta(days=1))
    assert before is not None
    return {"effective_from": now.effective_from, "before": before.value, "after": now.value,
            "basis_code": now.basis_code}


def revise_target(session: Session, target_id: int, *, value: object, effective_from: dt.date,
                  basis_code: str, access: Access, basis_date: dt.date | None = None,
                  basis_title: str = "", comparator: str | None = None,
                  value_high: object = None, note: str = "") -> TargetVersion:
    """Revise a target from `effective_from` on, on the document `basis_code`, as `access`
    (MANAGE on the target's unit). The earlier versions stay; the target row takes the new
    value. Raises InputRejected (bilingual, naming the field) for a missing basis, a
    number that is not one, or a date not after the previous version's."""
    require_booted()
    target = session.get(Target, target_id) if 0 < target_id <= 2_147_483_647 else None
    if target is None:
        raise RevisionTargetNotFound(target_id)
    access.require(Action.MANAGE, target.unit_id)
    versions = ensure_original(session, target, access.actor)
    current = governing(versions)
    assert current is not None
    new = _checked(target, current, value=value, value_high=value_high,
                   comparator=comparator, effective_from=effective_from, basis_code=basis_code)
    version = TargetVersion(
        target_id=target.id, version=versions[-1].version + 1, effective_from=effective_from,
        basis_code=nfc(basis_code).strip(), basis_date=basis_date, basis_title=nfc(basis_title),
        note=nfc(note), recorded_by_id=getattr(access.actor, "id", None), **new)
    session.add(version)
    before = {"comparator": target.comparator, "value": target.value,
              "value_high": target.value_high}
    target.comparator, target.value, target.value_high = (
        new["comparator"], new["value"], new["value_high"])
    session.flush()
    record_event(session, action="target.revise", object_type="target", object_id=target.id,
                 actor=access.actor, unit_id=target.unit_id, before=before,
                 after={**new, "version": version.version,
                        "effective_from": effective_from.isoformat(),
                        "basis_code": version.basis_code,
                        "basis_date": basis_date.isoformat() if basis_date else None},
                 note=version.basis_code)
    return version


def versions_of(session: Session, target_id: int) -> list[TargetVersion]:
    """Every version of one target, oldest first (the original included)."""
    return list(session.scalars(select(TargetVersion).where(
        TargetVersion.target_id == target_id).order_by(TargetVersion.version)))


def _checked(target: Target, previous: TargetVersion, *, value: object, value_high: object,
             comparator: str | None, effective_from: dt.date, basis_code: str
             ) -> dict[str, Any]:
    problems: list[Problem] = []

    def problem(column: str, vi: str, en: str) -> None:
        problems.append(Problem("", vi, en, column=column))

    if not nfc(basis_code).strip():
        problem("basis_code", "thiếu số hiệu văn bản làm căn cứ điều chỉnh (ví dụ "
                "123/BCĐ-VP)", "missing the number of the document the revision rests on")
    if previous.effective_from is not None and effective_from <= previous.effective_from:
        problem("effective_from", f"ngày hiệu lực phải sau lần điều chỉnh trước "
                f"({format_date(previous.effective_from)})", "the effective date must be "
                f"after the previous revision's ({previous.effective_from.isoformat()})")
    if target.target_date is not None and effective_from > target.target_date:
        # A target is judged on its own date in the version in force then: a revision from
        # a later day would never apply (and must not rewrite how a closed year ended).
        problem("effective_from", f"ngày hiệu lực ({format_date(effective_from)}) sau ngày "
                f"đích của chỉ tiêu ({format_date(target.target_date)}): điều chỉnh không "
                "còn tác dụng", f"the effective date ({effective_from.isoformat()}) is after "
                f"the target's date ({target.target_date.isoformat()}): the revision could "
                "never apply")
    comparator = comparator or target.comparator
    if comparator not in {c.value for c in Comparator}:
        problem("comparator", f"phép so sánh '{comparator}' không hợp lệ",
                f"unknown comparator '{comparator}'")
    number = _number(value, "value", problem)
    high = _number(value_high, "value_high", problem) if value_high not in (None, "") else (
        target.value_high if comparator == Comparator.BETWEEN else None)
    if comparator == Comparator.BETWEEN and high is None:
        problem("value_high", "chỉ tiêu trong khoảng cần cận trên",
                "a band target needs an upper bound")
    if problems:
        raise InputRejected(problems)
    return {"comparator": comparator, "value": number, "value_high": high}


def _number(raw: object, column: str, problem: Any) -> float | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    try:
        return float(parse_number(raw).value)
    except NumberError:
        problem(column, f"'{raw}' không phải là số", f"'{raw}' is not a number")
        return None


# ---------------------------------------------------------------- reading


def known_by(known_at: dt.datetime | None) -> Any:
    """The versions recorded by `known_at` (a naive datetime is UTC): the plan's own value
    always, a revision or a correction only once it was recorded; every version when
    `known_at` is None."""
    if known_at is None:
        return true()
    moment = (known_at.replace(tzinfo=dt.UTC) if known_at.tzinfo is None
              else known_at.astimezone(dt.UTC))
    return or_(and_(TargetVersion.effective_from.is_(None), TargetVersion.corrects.is_(None)),
               TargetVersion.recorded_at <= moment)


def in_force_subquery(on: dt.date, known_at: dt.datetime | None = None) -> Subquery:
    """target_id, version, comparator, value, value_high, effective_from of each target's
    version in force on `on` (`governing`), among those recorded by `known_at` (targets
    without versions have no row: their row is it)."""
    v = TargetVersion
    ranked = (select(v.target_id, v.version, v.comparator, v.value, v.value_high,
                     v.effective_from, v.basis_code, v.basis_date,
                     func.row_number().over(
                         partition_by=v.target_id,
                         order_by=(v.effective_from.desc().nulls_last(), v.version.desc()),
                     ).label("rank"))
              .where(or_(v.effective_from.is_(None), v.effective_from <= on),
                     known_by(known_at))
              .subquery())
    return (select(*[ranked.c[name] for name in (
        "target_id", "version", "comparator", "value", "value_high", "effective_from",
        "basis_code", "basis_date")]).where(ranked.c.rank == 1).subquery())


def targets_in_force(session: Session, *, on: dt.date, unit_ids: Iterable[int] | None = None,
                     year: int | None = None, plan_code: str | None = None,
                     known_at: dt.datetime | None = None) -> list[TargetInForce]:
    """Every target (of these units, this year, this plan) as it stands on `on`, as
    recorded by `known_at` (default: now): the report for Q1 gets the old value of a target
    revised in June, the report for Q3 the new one; its indicator, unit, year and date as
    recorded by `known_at` (`chiso.plans.details`)."""
    force = in_force_subquery(on, known_at)
    known = details.as_known(known_at)
    query = known.join(
        select(Target.id, Plan.code, Indicator.code, OrgUnit.code, known.column("year"),
               known.column("target_date"), func.coalesce(force.c.comparator, Target.comparator),
               func.coalesce(force.c.value, Target.value),
               func.coalesce(force.c.value_high, Target.value_high),
               func.coalesce(force.c.version, 1), force.c.effective_from,
               func.coalesce(force.c.basis_code, Plan.code),
               func.coalesce(force.c.basis_date, Plan.issued_on))
        .join(Plan, Plan.id == Target.plan_id)
        .outerjoin(force, force.c.target_id == Target.id))
    query = known.where(query.join(Indicator, Indicator.id == known.column("indicator_id"))
                        .join(OrgUnit, OrgUnit.id == known.column("unit_id")),
                        unit_ids=unit_ids, year=year).order_by(Target.id)
    if plan_code:
        query = query.where(Plan.code == nfc(plan_code))
    return [TargetInForce(*row) for row in session.execute(query)]


def target_revisions(session: Session, *, first_day: dt.date | None = None,
                     last_day: dt.date | None = None, unit_ids: Iterable[int] | None = None,
                     target_ids: Iterable[int] | None = None, year: int | None = None,
                     known_at: dt.datetime | None = None) -> list[TargetRevision]:
    """Revisions that took effect between the two days (inclusive) and were recorded by
    `known_at` (default: now), oldest first, each with the value in force the day before
    and from its date (corrections known by then included): what a report for a period
    says about revised targets. Corrections are not revisions and are not listed."""
    new = TargetVersion
    # The target's indicator, unit and year as recorded by `known_at` (chiso.plans.details).
    as_known = details.as_known(known_at)
    query = as_known.join(
        select(new.target_id, new.version, Plan.code, Indicator.code, Indicator.name_vi,
               Indicator.name_en, OrgUnit.code, as_known.column("year"), new.effective_from,
               new.basis_code, new.basis_date, new.basis_title, new.note)
        .join(Target, Target.id == new.target_id).join(Plan, Plan.id == Target.plan_id))
    query = (query.join(Indicator, Indicator.id == as_known.column("indicator_id"))
             .join(OrgUnit, OrgUnit.id == as_known.column("unit_id")))
    query = (as_known.where(query, unit_ids=unit_ids, year=year)
             .where(new.effective_from.is_not(None), new.corrects.is_(None), known_by(known_at))
             .order_by(new.effective_from, new.target_id, new.version))
    if first_day is not None:
        query = query.where(new.effective_from >= first_day)
    if last_day is not None:
        query = query.where(new.effective_from <= last_day)
    if target_ids is not None:
        query = query.where(new.target_id.in_(sorted(set(target_ids))))
    rows = session.execute(query).all()
    known: dict[int, list[TargetVersion]] = {}
    if rows:
        for version in session.scalars(select(TargetVersion).where(
                TargetVersion.target_id.in_(sorted({row.target_id for row in rows})),
                known_by(known_at))):
            known.setdefault(version.target_id, []).append(version)
    found = []
    for (target_id, number, plan_code, indicator_code, name_vi, name_en, unit_code, year_,
         effective_from, basis_code, basis_date, basis_title, note) in rows:
        assert effective_from is not None  # a revision's (the query asks for one)
        after = governing(known[target_id], effective_from)
        before = governing(known[target_id], effective_from - dt.timedelta(days=1))
        if after is None or before is None:
            continue
        found.append(TargetRevision(
            target_id=target_id, version=number, plan_code=plan_code,
            indicator_code=indicator_code, indicator_name_vi=name_vi,
            indicator_name_en=name_en, unit_code=unit_code, year=year_,
            effective_from=effective_from, comparator=after.comparator,
            old_value=before.value, new_value=after.value, old_value_high=before.value_high,
            new_value_high=after.value_high, basis_code=basis_code, basis_date=basis_date,
            basis_title=basis_title, note=note))
    return found


def is_revised(versions: Sequence[TargetVersion]) -> bool:
    """Whether these versions hold a revision from a date (corrections are not revisions)."""
    return any(v.effective_from is not None and v.corrects is None for v in versions)


def target_versions(session: Session, target_id: int) -> list[dict[str, Any]]:
    """Every version of one target, oldest first (the original included)."""
    return [{"version": v.version, "effective_from": v.effective_from,
             "comparator": v.comparator, "value": v.value, "value_high": v.value_high,
             "basis_code": v.basis_code, "basis_date": v.basis_date,
             "basis_title": v.basis_title, "note": v.note, "corrects": v.corrects,
             "recorded_at": v.recorded_at}
            for v in versions_of(session, target_id)]

"""Validating a raw plan (from YAML, XLSX or the API) into clean plan and target fields.

Every problem names file, sheet, row, column and the rule; all problems of a file are
collected before the file is refused, so a user fixes them in one pass.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator
from chiso.indicators.problems import InputRejected, Problem
from chiso.plans.chain import ParentDraft, RevisionDraft, read_parents, read_revisions
from chiso.plans.files import RawPlan, RawRow
from chiso.plans.models import Comparator, Trajectory
from chiso.text import format_date, nfc, parse_date, parse_number
from chiso.text.dates import DateError
from chiso.text.numbers import NumberError, ParsedNumber
from chiso.units.models import OrgUnit

COMPARATOR_ALIASES = {">=": ">=", "≥": ">=", "=>": ">=", "<=": "<=", "≤": "<=", "=<": "<=",
                      "=": "=", "==": "=", "between": "between", "trong khoảng": "between"}
TARGET_KEYS = frozenset({"indicator", "unit", "year", "target_date", "comparator", "value",
                         "value_high", "baseline_value", "baseline_date", "trajectory",
                         "milestones", "note", "pillar", "indicator_name", "measure"})
_MILESTONE = re.compile(r"^\s*(?P<date>[^:=]+?)\s*[:=]\s*(?P<value>\S+)\s*$")


@dataclass
class TargetDraft:
    """A valid target row, with ids resolved."""

    row: int | None
    indicator_id: int
    indicator_code: str
    unit_id: int
    unit_code: str
    year: int
    target_date: dt.date
    comparator: str
    value: float
    value_high: float | None
    baseline_value: float | None
    baseline_date: dt.date | None
    trajectory: str
    milestones: list[dict[str, Any]] | None
    pillar_code: str | None
    note: str

    def key(self) -> tuple[int, int, dt.date]:
        return (self.indicator_id, self.unit_id, self.target_date)

    def fields(self) -> dict[str, Any]:
        """The Target model's columns this draft sets."""
        return {name: getattr(self, name) for name in TARGET_MODEL_FIELDS}


TARGET_MODEL_FIELDS = ("indicator_id", "unit_id", "year", "target_date", "comparator", "value",
                       "value_high", "baseline_value", "baseline_date", "trajectory",
                       "milestones", "pillar_code", "note")


@dataclass
class PlanDraft:
    code: str
    title: str
    document_kind: str
    issuer: str
    issued_on: dt.date | None
    year_from: int
    year_to: int
    scope_unit_id: int | None
    scope_unit_code: str
    parent_id: int | None
    note: str
    default_target_date: dt.date | None
    targets: list[TargetDraft] = field(default_factory=list)
    parents: list[ParentDraft] = field(default_factory=list)
    revisions: list[RevisionDraft] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PLAN_MODEL_FIELDS}


PLAN_MODEL_FIELDS = ("title", "document_kind", "issuer", "issued_on", "year_from", "year_to",
                     "scope_unit_id", "parent_id", "note")


def unit_on(session: Session, code: str, day: dt.date) -> OrgUnit | None:
    """The unit carrying `code` on `day` (codes are re-used across reforms)."""
    return session.scalar(select(OrgUnit).where(
        OrgUnit.code == code, OrgUnit.valid_from <= day,
        or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= day)))


class PlanValidator:
    def __init__(self, session: Session, raw: RawPlan) -> None:
        self.session = session
        self.raw = raw
        self.problems: list[Problem] = []
        self._indicators: dict[str, Indicator | None] = {}

    def run(self) -> PlanDraft:
        plan = self._plan()
        if plan is not None:
            plan.targets = self._targets(plan)
            plan.revisions = read_revisions(self, plan, self.raw.revisions)
        if self.problems or plan is None:
            raise InputRejected(self.problems)
        return plan

    # -- problems

    def plan_problem(self, name: str, vi: str, en: str) -> None:
        self.problems.append(Problem(
            self.raw.file, vi, en, sheet=self.raw.plan_sheet,
            row=self.raw.plan_rows.get(name), spreadsheet=self.raw.spreadsheet,
            column=self.raw.plan_columns.get(name, name)))

    # -- the plan document

    def _plan(self) -> PlanDraft | None:
        values = self.raw.plan
        code = nfc(values.get("code"))
        title = nfc(values.get("title"))
        if not code:
            self.plan_problem("code", "thiếu số hiệu văn bản (ví dụ 72-KH/BCĐ)",
                              "missing document code (e.g. 72-KH/BCĐ)")
        if not title:
            self.plan_problem("title", "thiếu trích yếu văn bản", "missing document title")
        issued_on = self._plan_date("issued_on")
        year_from = self._plan_year("year_from")
        year_to = self._plan_year("year_to") if values.get("year_to") is not None else year_from
        if year_from and year_to and year_to < year_from:
            self.plan_problem("year_to", f"năm kết thúc {year_to} trước năm bắt đầu {year_from}",
                              f"end year {year_to} is before start year {year_from}")
        if not (code and title and year_from and year_to):
            return None
        scope_code = nfc(values.get("scope_unit"))
        scope_day = issued_on or dt.date(year_from, 1, 1)
        parents = read_parents(self, values)
        loaded = [p.plan_id for p in parents if p.plan_id is not None]
        return PlanDraft(
            code=code, title=title, document_kind=nfc(values.get("document_kind")) or "KH",
            issuer=nfc(values.get("issuer")), issued_on=issued_on, year_from=year_from,
            year_to=year_to, scope_unit_code=scope_code,
            scope_unit_id=self._scope_unit(scope_code, scope_day),
            parent_id=loaded[0] if loaded else None, note=nfc(values.get("note")),
            default_target_date=self._plan_date("default_target_date"), parents=parents)

    def _plan_date(self, name: str) -> dt.date | None:
        raw = self.raw.plan.get(name)
        if raw in (None, ""):
            return None
        try:
            return parse_date(raw)
        except DateError as exc:
            self.plan_problem(name, *_bilingual(exc, raw))
            return None

    def _plan_year(self, name: str) -> int | None:
        year = _as_year(self.raw.plan.get(name))
        if year is None:
            self.plan_problem(name, f"năm '{self.raw.plan.get(name)}' không hợp lệ (ví dụ 2023)",
                              f"invalid year '{self.raw.plan.get(name)}' (e.g. 2023)")
        return year

    def _scope_unit(self, code: str, day: dt.date) -> int | None:
        if not code:
            return None
        unit = unit_on(self.session, code, day)
        if unit is None:
            self.plan_problem("scope_unit", f"không có đơn vị mã '{code}' vào ngày "
                              f"{format_date(day)}", f"no unit with code '{code}' on "
                              f"{day.isoformat()}")
            return None
        return unit.id

    # -- the targets

    def _targets(self, plan: PlanDraft) -> list[TargetDraft]:
        drafts: list[TargetDraft] = []
        seen: dict[tuple[int, int, dt.date], int | None] = {}
        for raw in self.raw.targets:
            draft = TargetRowValidator(self, plan, raw).run()
            if draft is None:
                continue
            if draft.key() in seen:
                TargetRowValidator(self, plan, raw).problem(
                    "indicator", f"trùng chỉ tiêu (chỉ số, đơn vị, ngày đích) với dòng "
                    f"{seen[draft.key()]}", f"duplicate target (indicator, unit, target date) "
                    f"of row {seen[draft.key()]}")
                continue
            seen[draft.key()] = draft.row
            drafts.append(draft)
        return drafts

    def indicator(self, code: str) -> Indicator | None:
        if code not in self._indicators:
            self._indicators[code] = self.session.scalar(
                select(Indicator).where(Indicator.code == code))
        return self._indicators[code]


class TargetRowValidator:
    """One target row → TargetDraft, or problems naming its sheet, row and column."""

    def __init__(self, owner: PlanValidator, plan: PlanDraft, raw: RawRow) -> None:
        self.owner = owner
        self.plan = plan
        self.raw = raw
        self.values = raw.values
        self.failed = False

    def problem(self, name: str, vi: str, en: str) -> None:
        self.failed = True
        # A YAML entry is easier to find by its indicator code; a sheet row has its number.
        yaml_file = self.owner.raw.file and not self.owner.raw.spreadsheet
        key = nfc(self.values.get("indicator")) if yaml_file else ""
        self.owner.problems.append(Problem(
            self.owner.raw.file, vi, en, sheet=self.owner.raw.target_sheet, row=self.raw.row,
            column=self.raw.column(name), key=key, spreadsheet=self.owner.raw.spreadsheet))

    def run(self) -> TargetDraft | None:
        if "__not_a_mapping__" in self.values:
            self.problem("", "mục phải là bảng khóa: giá trị", "entry must be a mapping")
            return None
        for name in sorted(set(self.values) - TARGET_KEYS):
            self.problem(name, "trường không được hỗ trợ", "unknown field")
        indicator = self._indicator()
        year, target_date = self._when()
        unit = self._unit(target_date)
        comparator = self._comparator()
        value = self._number("value", indicator, required=True)
        value_high = self._number("value_high", indicator)
        self._check_band(comparator, value, value_high)
        baseline_value = self._number("baseline_value", indicator)
        baseline_date = self._baseline_date(baseline_value, target_date)
        trajectory = self._trajectory()
        milestones = self._milestones(trajectory, indicator, baseline_date, target_date)
        if self.failed or indicator is None or unit is None or target_date is None:
            return None
        assert year is not None and value is not None
        return TargetDraft(
            row=self.raw.row, indicator_id=indicator.id, indicator_code=indicator.code,
            unit_id=unit.id, unit_code=unit.code, year=year, target_date=target_date,
            comparator=comparator, value=value, value_high=value_high,
            baseline_value=baseline_value, baseline_date=baseline_date, trajectory=trajectory,
            milestones=milestones, pillar_code=indicator.pillar_code,
            note=nfc(self.values.get("note")))

    def _indicator(self) -> Indicator | None:
        code = nfc(self.values.get("indicator")).upper()
        if not code:
            self.problem("indicator", "thiếu mã chỉ số", "missing indicator code")
            return None
        indicator = self.owner.indicator(code)
        if indicator is None:
            self.problem("indicator", f"chỉ số '{code}' không có trong danh mục "
                         "(xem chiso catalog list)", f"indicator '{code}' is not in the "
                         "catalogue (see chiso catalog list)")
        return indicator

    def _when(self) -> tuple[int | None, dt.date | None]:
        """Year and target date: 31/12 of the year, or the plan's campaign end date."""
        raw_year, raw_date = self.values.get("year"), self.values.get("target_date")
        target_date = self._date("target_date") if raw_date not in (None, "") else None
        year = _as_year(raw_year) if raw_year not in (None, "") else None
        if raw_year not in (None, "") and year is None:
            self.problem("year", f"năm '{raw_year}' không hợp lệ", f"invalid year '{raw_year}'")
            return None, None
        if target_date is None and raw_date in (None, ""):
            target_date = self.plan.default_target_date
        if year is None:
            year = target_date.year if target_date else (
                self.plan.year_from if self.plan.year_from == self.plan.year_to else None)
        if year is None:
            self.problem("year", "thiếu năm của chỉ tiêu (kế hoạch nhiều năm)",
                         "missing the target's year (the plan spans several years)")
            return None, None
        if not self.plan.year_from <= year <= self.plan.year_to:
            self.problem("year", f"năm {year} nằm ngoài thời gian của kế hoạch "
                         f"({self.plan.year_from}–{self.plan.year_to})",
                         f"year {year} is outside the plan's years "
                         f"({self.plan.year_from}–{self.plan.year_to})")
        if target_date is None and raw_date in (None, ""):
            target_date = dt.date(year, 12, 31)
        return year, target_date

    def _date(self, name: str) -> dt.date | None:
        raw = self.values.get(name)
        try:
            return parse_date(raw)
        except DateError as exc:
            self.problem(name, *_bilingual(exc, raw))
            return None

    def _unit(self, target_date: dt.date | None) -> OrgUnit | None:
        code = nfc(self.values.get("unit")) or self.plan.scope_unit_code
        if isinstance(self.values.get("unit"), int | float):
            # Excel turns '20' into 20 and '06187' into 6187: provinces have 2 digits,
            # communes 5 (QĐ 19/2025/QĐ-TTg).
            number = int(self.values["unit"])
            code = str(number).zfill(2 if number < 100 else 5)
        if not code:
            self.problem("unit", "thiếu mã đơn vị (và kế hoạch không có đơn vị phạm vi)",
                         "missing unit code (and the plan has no scope unit)")
            return None
        if target_date is None:
            return None
        unit = unit_on(self.owner.session, code, target_date)
        if unit is None:
            self.problem("unit", f"không có đơn vị mã '{code}' vào ngày đích "
                         f"{format_date(target_date)}", f"no unit with code '{code}' on the "
                         f"target date {target_date.isoformat()}")
        return unit

    def _comparator(self) -> str:
        raw = nfc(self.values.get("comparator")).lower() or ">="
        if raw not in COMPARATOR_ALIASES:
            self.problem("comparator", f"phép so sánh '{raw}' không hợp lệ (>=, <=, =, between)",
                         f"unknown comparator '{raw}' (>=, <=, =, between)")
            return Comparator.AT_LEAST.value
        return COMPARATOR_ALIASES[raw]

    def _number(self, name: str, indicator: Indicator | None, *, required: bool = False
                ) -> float | None:
        raw = self.values.get(name)
        if raw in (None, ""):
            if required:
                self.problem(name, "thiếu giá trị", "missing value")
            return None
        try:
            parsed = raw if isinstance(raw, ParsedNumber) else parse_number(raw)
        except NumberError as exc:
            self.problem(name, *_bilingual(exc, raw))
            return None
        if parsed.percent and indicator is not None and indicator.scale != 100:
            self.problem(name, f"'{raw}' là phần trăm nhưng chỉ số {indicator.code} không tính "
                         f"bằng % ({indicator.unit_vi})", f"'{raw}' is a percentage but "
                         f"{indicator.code} is not measured in % ({indicator.unit_en})")
        return float(parsed.value)

    def _check_band(self, comparator: str, value: float | None, high: float | None) -> None:
        if comparator == Comparator.BETWEEN:
            if high is None:
                self.problem("value_high", "so sánh 'between' cần cận trên",
                             "comparator 'between' needs value_high")
            elif value is not None and high < value:
                self.problem("value_high", f"cận trên {high:g} nhỏ hơn cận dưới {value:g}",
                             f"value_high {high:g} is below value {value:g}")
        elif high is not None:
            self.problem("value_high", "cận trên chỉ dùng với so sánh 'between'",
                         "value_high is only used with comparator 'between'")

    def _baseline_date(self, baseline_value: float | None, target_date: dt.date | None
                       ) -> dt.date | None:
        raw = self.values.get("baseline_date")
        if raw in (None, ""):
            # "so với năm trước": a baseline without a date is the end of the previous year.
            return dt.date(self.plan.year_from - 1, 12, 31) if baseline_value is not None else None
        day = self._date("baseline_date")
        if day and target_date and day >= target_date:
            self.problem("baseline_date", f"ngày xuất phát {format_date(day)} phải trước ngày "
                         f"đích {format_date(target_date)}", f"baseline date {day.isoformat()} "
                         f"must be before the target date {target_date.isoformat()}")
        return day

    def _trajectory(self) -> str:
        raw = nfc(self.values.get("trajectory")).lower() or Trajectory.LINEAR.value
        allowed = {t.value for t in Trajectory}
        if raw not in allowed:
            self.problem("trajectory", f"lộ trình '{raw}' không hợp lệ (linear, s_curve, "
                         "milestones)", f"unknown trajectory '{raw}' (linear, s_curve, "
                         "milestones)")
            return Trajectory.LINEAR.value
        return raw

    def _milestones(self, trajectory: str, indicator: Indicator | None,
                    baseline_date: dt.date | None, target_date: dt.date | None
                    ) -> list[dict[str, Any]] | None:
        raw = self.values.get("milestones")
        if raw in (None, "", []):
            if trajectory == Trajectory.MILESTONES:
                self.problem("milestones", "lộ trình 'milestones' cần ít nhất một mốc",
                             "trajectory 'milestones' needs at least one milestone")
            return None
        if trajectory != Trajectory.MILESTONES:
            self.problem("milestones", "chỉ khai báo mốc khi lộ trình là 'milestones'",
                         "milestones are only given with trajectory 'milestones'")
            return None
        pairs = self._milestone_pairs(raw)
        if pairs is None:
            return None
        return self._checked_milestones(pairs, baseline_date, target_date)

    def _milestone_pairs(self, raw: Any) -> list[tuple[Any, Any]] | None:
        if isinstance(raw, list):
            if all(isinstance(m, dict) and {"date", "value"} <= set(m) for m in raw):
                return [(m["date"], m["value"]) for m in raw]
        elif isinstance(raw, str):
            matches = [_MILESTONE.match(part) for part in raw.split(";") if part.strip()]
            if matches and all(matches):
                return [(m.group("date"), m.group("value")) for m in matches if m]
        self.problem("milestones", "mốc phải có dạng '30/06/2023: 60; 31/12/2023: 85' hoặc danh "
                     "sách {date, value}", "milestones must read '30/06/2023: 60; "
                     "31/12/2023: 85' or be a list of {date, value}")
        return None

    def _checked_milestones(self, pairs: list[tuple[Any, Any]], baseline_date: dt.date | None,
                            target_date: dt.date | None) -> list[dict[str, Any]] | None:
        result = []
        for raw_date, raw_value in pairs:
            try:
                day, value = parse_date(raw_date), float(parse_number(raw_value).value)
            except (DateError, NumberError) as exc:
                self.problem("milestones", *_bilingual(exc, f"{raw_date}: {raw_value}"))
                return None
            if (target_date and day > target_date) or (baseline_date and day <= baseline_date):
                self.problem("milestones", f"mốc {format_date(day)} nằm ngoài khoảng từ ngày "
                             "xuất phát đến ngày đích", f"milestone {day.isoformat()} is outside "
                             "the baseline-to-target period")
                return None
            result.append({"date": day.isoformat(), "value": value})
        return sorted(result, key=lambda m: m["date"])


def _bilingual(exc: Exception, raw: Any) -> tuple[str, str]:
    """Split a core parser's 'tiếng Việt / English' message; the English names the value too."""
    vi, _, en = str(exc).partition(" / ")
    text = str(raw)
    return vi, en if text in en else f"'{text}' {en}"


def _as_year(raw: Any) -> int | None:
    try:
        year = int(float(parse_number(raw).value)) if not isinstance(raw, int) else raw
    except (NumberError, ValueError, TypeError):
        return None
    return year if 1990 <= year <= 2100 else None

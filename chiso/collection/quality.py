"""The "đúng, đủ, sạch, sống" scorecard, read live from the database on every request.

Per unit for one data set and period, and rolled up over the units (province ← communes):
- đúng (correct): present values that pass every validation rule and carry no open flag,
  ÷ present values;
- đủ (complete): present values ÷ expected values (indicators × reporting units), also by
  indicator; and submitted reports ÷ expected reports;
- sạch (clean): present values without an unresolved cleanliness problem ÷ present values.
  Problems: conflicting sources (the value's history holds other figures from another
  source), unit inconsistencies (a share written as a fraction, 0.766 for 76.6%), and
  duplicates (a unit's whole report equal to another unit's, figure for figure); a
  problem is resolved once the report is approved after it;
- sống (live): reports submitted by the due date ÷ reports that are due or submitted (a
  report not yet due is not judged), and the age in days of each unit's latest figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.collection import service
from chiso.collection.models import DataSet, Submission, ValueFlag
from chiso.collection.rules import active_rules, evaluate
from chiso.indicators.models import Indicator
from chiso.periods import parse_period
from chiso.settings import get_settings
from chiso.text import iso_instant
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue, DataValueVersion

UNIT_FRACTION_LIMIT = 1.0  # a percentage at or below 1 while its parts say otherwise


@dataclass
class UnitScore:
    unit_id: int
    unit_code: str
    unit_name: str
    status: str
    due_date: dt.date
    submitted_at: dt.datetime | None
    on_time: bool | None  # None: not submitted and not yet due
    late_days: int
    edits_after_approval: int
    expected: int
    present: int
    correct: int
    clean: int
    problems: list[dict[str, Any]] = field(default_factory=list)
    latest_age_days: int | None = None

    def shares(self) -> dict[str, float | None]:
        return {"dung": _share(self.correct, self.present), "du": _share(self.present,
                                                                          self.expected),
                "sach": _share(self.clean, self.present),
                "song": None if self.on_time is None else float(self.on_time)}


@dataclass
class Scorecard:
    data_set: str
    period: str
    as_of: dt.date
    units: list[UnitScore]
    by_indicator: list[dict[str, Any]]

    def totals(self) -> dict[str, Any]:
        expected = sum(u.expected for u in self.units)
        present = sum(u.present for u in self.units)
        reports = len(self.units)
        submitted = sum(u.status in (service.SUBMITTED, service.APPROVED) for u in self.units)
        on_time = sum(u.on_time is True for u in self.units)
        judged = sum(u.on_time is not None for u in self.units)
        ages = [u.latest_age_days for u in self.units if u.latest_age_days is not None]
        return {
            "dung": _share(sum(u.correct for u in self.units), present),
            "du": _share(present, expected), "du_reports": _share(submitted, reports),
            "sach": _share(sum(u.clean for u in self.units), present),
            "song": _share(on_time, judged), "expected_values": expected,
            "present_values": present, "reports": reports, "submitted": submitted,
            "approved": sum(u.status == service.APPROVED for u in self.units),
            "on_time": on_time, "late": len(self.late_units()),
            "edits_after_approval": sum(u.edits_after_approval for u in self.units),
            "problems": sum(len(u.problems) for u in self.units),
            "median_age_days": sorted(ages)[len(ages) // 2] if ages else None,
        }

    def late_units(self) -> list[UnitScore]:
        return [u for u in self.units if u.late_days > 0 and u.status in
                (service.DRAFT, service.RETURNED)]

    def as_dict(self) -> dict[str, Any]:
        return {"data_set": self.data_set, "period": self.period,
                "as_of": self.as_of.isoformat(), "totals": self.totals(),
                "units": [{**_jsonable(asdict(u)), **u.shares()} for u in self.units],
                "late": [u.unit_code for u in self.late_units()],
                "by_indicator": self.by_indicator}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: iso_instant(v) if isinstance(v, dt.datetime)
            else v.isoformat() if isinstance(v, dt.date) else v
            for k, v in data.items()}


def scorecard(session: Session, data_set: DataSet, period: str, *,
              unit_ids: set[int] | None = None, as_of: dt.date | None = None) -> Scorecard:
    """The scorecard of a data set's period over its reporting units (optionally only
    those in `unit_ids`, e.g. the communes under one province)."""
    today = as_of or get_settings().current_date()
    submissions = service.expected_submissions(session, data_set, period)
    if unit_ids is not None:
        submissions = [s for s in submissions if s.unit_id in unit_ids]
    indicators = service.indicators_of(session, data_set)
    values = _values(session, [s.unit_id for s in submissions], [i.id for i in indicators],
                     parse_period(period).id)
    problems = _problems(session, values, submissions)
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_([s.unit_id for s in submissions])))}
    scores = [_unit_score(s, units[s.unit_id], values, problems, len(indicators), today)
              for s in submissions]
    return Scorecard(data_set.code, parse_period(period).id, today,
                     sorted(scores, key=lambda u: u.unit_code),
                     _by_indicator(indicators, values, len(submissions)))


VALUE_SCHEMA = pl.Schema({"id": pl.Int64(), "unit_id": pl.Int64(), "indicator_id": pl.Int64(),
                "indicator_code": pl.String(), "kind": pl.String(), "scale": pl.Float64(),
                "period": pl.String(), "numerator": pl.Float64(), "denominator": pl.Float64(),
                "value": pl.Float64(), "source": pl.String(), "updated_at": pl.Datetime("us")})


def _values(session: Session, unit_ids: list[int], indicator_ids: list[int], period: str
            ) -> pl.DataFrame:
    rows = session.execute(
        select(DataValue.id, DataValue.unit_id, DataValue.indicator_id, Indicator.code,
               Indicator.kind, Indicator.scale, DataValue.period, DataValue.numerator,
               DataValue.denominator, DataValue.value, DataValue.source, DataValue.updated_at)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.deleted.is_(False), DataValue.period == period,
               DataValue.unit_id.in_(unit_ids or [-1]),
               DataValue.indicator_id.in_(indicator_ids or [-1]))).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=VALUE_SCHEMA, orient="row")
    return frame.with_columns(pl.col("updated_at").dt.replace_time_zone(None))


def _problems(session: Session, values: pl.DataFrame, submissions: list[Submission]
              ) -> dict[int, list[dict[str, Any]]]:
    """Per data value id: rule violations, open flags, conflicting sources, unit slips."""
    found: dict[int, list[dict[str, Any]]] = {}
    if values.is_empty():
        return found

    def add(value_id: int, problem: dict[str, Any]) -> None:
        found.setdefault(value_id, []).append(problem)

    violations = evaluate(active_rules(session), values)
    for v in violations.iter_rows(named=True):
        hit = values.filter((pl.col("unit_id") == v["unit_id"])
                            & pl.col("indicator_code").is_in(v["indicators"]))
        for value_id in hit.get_column("id").to_list():
            add(value_id, {"type": "rule", "aspect": "dung", "code": v["rule"],
                           "message_vi": v["message_vi"], "message_en": v["message_en"]})
    flags = session.execute(select(ValueFlag.unit_id, ValueFlag.indicator_id, ValueFlag.kind,
                                   ValueFlag.score).where(
        ValueFlag.status == "open", ValueFlag.period == values.item(0, "period"))).all()
    keyed = {(u, i): vid for vid, u, i in values.select("id", "unit_id", "indicator_id")
             .iter_rows()}
    for unit_id, indicator_id, kind, score in flags:
        if (unit_id, indicator_id) in keyed:
            add(keyed[(unit_id, indicator_id)], {"type": kind, "aspect": "dung",
                                                 "score": score})
    approved_at = {s.unit_id: s.approved_at for s in submissions if s.status ==
                   service.APPROVED}
    for value_id, unit_id, sources in _source_conflicts(session, values):
        approval = approved_at.get(unit_id)
        add(value_id, {"type": "conflicting_sources", "aspect": "sach",
                       "sources": sources, "resolved": approval is not None})
    for value_id, unit_id, twins in _copied_reports(values):
        add(value_id, {"type": "duplicate", "aspect": "sach", "same_as": twins,
                       "resolved": unit_id in approved_at})
    slips = values.filter((pl.col("kind") == "ratio") & (pl.col("scale") == 100)
                          & pl.col("numerator").is_null() & (pl.col("value") > 0)
                          & (pl.col("value") <= UNIT_FRACTION_LIMIT))
    for value_id, unit_id in slips.select("id", "unit_id").iter_rows():
        add(value_id, {"type": "unit_inconsistency", "aspect": "sach",
                       "resolved": unit_id in approved_at})
    return found


def _copied_reports(values: pl.DataFrame) -> list[tuple[int, int, str]]:
    """Units whose every figure (at least two) equals another unit's: a report copied from
    a neighbour (or sent twice under two units) rather than counted."""
    figures = values.select(
        "id", "unit_id", pl.concat_str(
            "indicator_code", *[pl.col(c).round(6).cast(pl.String).fill_null("")
                                for c in ("numerator", "denominator", "value")],
            separator="|").alias("cell"))
    signatures = figures.group_by("unit_id").agg(
        pl.col("cell").sort().str.join(";").alias("signature"), pl.len().alias("n"))
    shared = signatures.filter(pl.col("n") >= 2).with_columns(
        twins=pl.col("unit_id").count().over("signature")).filter(pl.col("twins") > 1)
    if shared.is_empty():
        return []
    groups = shared.group_by("signature").agg(pl.col("unit_id").sort())
    twins_of = {u: ids for ids in groups.get_column("unit_id").to_list() for u in ids}
    hits = figures.filter(pl.col("unit_id").is_in(list(twins_of)))
    return [(value_id, unit_id, ",".join(str(t) for t in twins_of[unit_id] if t != unit_id))
            for value_id, unit_id in hits.select("id", "unit_id").iter_rows()]


def _source_conflicts(session: Session, values: pl.DataFrame) -> list[tuple[int, int, str]]:
    """Values whose history holds different figures from more than one source."""
    ids = values.get_column("id").to_list()
    rows = session.execute(
        select(DataValueVersion.data_value_id,
               func.count(func.distinct(DataValueVersion.source)),
               func.count(func.distinct(DataValueVersion.value)))
        .where(DataValueVersion.data_value_id.in_(ids))
        .group_by(DataValueVersion.data_value_id)).all()
    conflicted = {r[0] for r in rows if r[1] > 1 and r[2] > 1}
    units = dict(values.select("id", "unit_id").iter_rows())
    out = []
    for value_id in sorted(conflicted):
        sources = session.scalars(select(DataValueVersion.source).where(
            DataValueVersion.data_value_id == value_id).distinct()).all()
        out.append((value_id, units[value_id], ", ".join(sorted(sources))))
    return out


def _unit_score(submission: Submission, unit: OrgUnit, values: pl.DataFrame,
                problems: dict[int, list[dict[str, Any]]], indicator_count: int,
                today: dt.date) -> UnitScore:
    mine = values.filter(pl.col("unit_id") == submission.unit_id)
    ids = mine.get_column("id").to_list()
    wrong = {i for i in ids if any(p["aspect"] == "dung" for p in problems.get(i, []))}
    dirty = {i for i in ids if any(p["aspect"] == "sach" and not p.get("resolved")
                                   for p in problems.get(i, []))}
    submitted_on = service.vn_date(submission.first_submitted_at) \
        if submission.first_submitted_at else None
    if submitted_on is not None:
        on_time: bool | None = submitted_on <= submission.due_date
    else:
        on_time = False if today > submission.due_date else None
    reference = submitted_on or today
    late_days = max(0, (reference - submission.due_date).days)
    latest = mine.get_column("updated_at").max() if ids else None
    return UnitScore(
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, status=submission.status,
        due_date=submission.due_date, submitted_at=submission.first_submitted_at,
        on_time=on_time, late_days=late_days,
        edits_after_approval=submission.edits_after_approval, expected=indicator_count,
        present=len(ids), correct=len(ids) - len(wrong), clean=len(ids) - len(dirty),
        problems=[{"data_value_id": i, **p} for i in ids for p in problems.get(i, [])],
        latest_age_days=_age_in_days(latest, today) if isinstance(latest, dt.datetime)
        else None)


def _age_in_days(moment: dt.datetime, today: dt.date) -> int:
    """Days from the Vietnam day of a stored (UTC) moment to `today`; 0 for a moment after
    it (a pinned day, or a scorecard asked as of an earlier day)."""
    return max(0, (today - service.vn_date(moment)).days)


def _by_indicator(indicators: list[Indicator], values: pl.DataFrame, reports: int
                  ) -> list[dict[str, Any]]:
    counts = dict(values.group_by("indicator_id").len().iter_rows()) if values.height else {}
    return [{"indicator_code": i.code, "name_vi": i.name_vi, "name_en": i.name_en,
             "present": counts.get(i.id, 0), "expected": reports,
             "du": _share(counts.get(i.id, 0), reports)} for i in indicators]


def late_submissions(session: Session, *, as_of: dt.date | None = None,
                     unit_ids: set[int] | None = None) -> list[Submission]:
    """Reports past their due date and not yet submitted (draft or returned)."""
    today = as_of or get_settings().current_date()
    query = select(Submission).where(Submission.status.in_([service.DRAFT, service.RETURNED]),
                                     Submission.due_date < today).order_by(Submission.due_date)
    found = list(session.scalars(query))
    return [s for s in found if unit_ids is None or s.unit_id in unit_ids]

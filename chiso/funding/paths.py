"""The disbursement path (lộ trình giải ngân) and the status against it, by the same status
engine as every other target (`chiso.analytics.status`): expected on the path, then
achieved / on track / at risk / off track, and the year-end words once the year is over.

The path is the unit's KP.GIAI_NGAN target in its plan when there is one (its baseline and
milestones), else the shipped default (data/disbursement_path.yaml): 0 % on 1 January,
quarterly milestones, the target at 31 December.
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

from chiso.analytics import status as engine
from chiso.analytics.status import Status, YearEndResult
from chiso.funding.compute import DISBURSEMENT, SHARE
from chiso.indicators.models import Indicator
from chiso.plans.models import Plan, Target

DEFAULT_PATH = Path(__file__).parent / "data" / "disbursement_path.yaml"
# Nghị quyết 57-NQ/TW: at least 3 % of yearly budget spending, rising.
SHARE_FLOOR = 3.0


@dataclass(frozen=True)
class TargetPath:
    """A year's target (≥ `target` at 31/12) and its path: from `baseline` at 31/12 of the
    year before through the milestones; without a baseline the path is flat at the target
    (the rule for targets without one, DESIGN §5.3)."""

    year: int
    target: float
    milestones: tuple[tuple[dt.date, float], ...] = ()
    baseline: float | None = 0.0
    plan_code: str = ""  # the plan whose target gave it ("" = chiso's default)

    @property
    def target_date(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    def knots(self) -> list[dict[str, Any]]:
        return [{"date": d.isoformat(), "value": v} for d, v in self.milestones]


class StatusWords:
    """How a status reads: the engine's status while the year runs, the year-end result
    (đạt / không đạt) once it is over, with the colour class and the warning flag."""

    status: Status
    year_end: YearEndResult | None

    @property
    def behind(self) -> bool:
        """What the funding page warns about: behind the path, or a year missed."""
        return (self.year_end is None and self.status in (Status.AT_RISK, Status.OFF_TRACK)
                ) or self.year_end in (YearEndResult.MISSED, YearEndResult.NOT_IMPLEMENTED)

    def label(self, locale: str = "vi") -> str:
        return self.year_end.label(locale) if self.year_end else self.status.label(locale)

    @property
    def css(self) -> str:
        """The colour class: a closed year reads met or missed."""
        if self.year_end == YearEndResult.MET:
            return Status.ACHIEVED.value
        if self.year_end in (YearEndResult.MISSED, YearEndResult.NOT_IMPLEMENTED):
            return Status.OFF_TRACK.value
        return self.status.value


@dataclass(frozen=True)
class PathStatus(StatusWords):
    as_of: dt.date
    actual: float | None
    expected: float | None
    status: Status
    year_end: YearEndResult | None


def default_path(year: int) -> TargetPath:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    milestones = tuple((_month_end(year, int(m["month"])), float(m["value"]))
                       for m in data["milestones"])
    return TargetPath(year, float(data["target"]), milestones)


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _target(session: Session, code: str, unit_id: int, year: int) -> Target | None:
    return session.execute(
        select(Target).join(Indicator, Indicator.id == Target.indicator_id)
        .where(Indicator.code == code, Target.unit_id == unit_id,
               Target.year == year).order_by(Target.target_date.desc(), Target.id.desc())
        .limit(1)).scalar_one_or_none()


def share_path(session: Session, *, unit_id: int, year: int) -> TargetPath:
    """The unit's KP.TY_LE_CHI_NS target for the year, else Nghị quyết 57's 3 %."""
    row = _target(session, SHARE, unit_id, year)
    if row is None:
        return TargetPath(year, SHARE_FLOOR, baseline=None)
    plan = session.get(Plan, row.plan_id)
    return TargetPath(year, row.value, baseline=row.baseline_value,
                      plan_code=plan.code if plan else "")


def disbursement_path(session: Session, *, unit_id: int, year: int) -> TargetPath:
    """The unit's KP.GIAI_NGAN target for the year (ending 31/12), else the default."""
    row = _target(session, DISBURSEMENT, unit_id, year)
    if row is None:
        return default_path(year)
    milestones = tuple(sorted((dt.date.fromisoformat(str(m["date"])[:10]), float(m["value"]))
                              for m in (row.milestones or [])))
    plan = session.get(Plan, row.plan_id)
    return TargetPath(year, row.value, milestones, row.baseline_value or 0.0,
                      plan.code if plan else "")


def statuses(path: TargetPath, points: list[tuple[dt.date, float | None]],
             today: dt.date) -> list[PathStatus]:
    """Status of each (as-of date, cumulative % disbursed) on the path."""
    if not points:
        return []
    size = len(points)
    frame = pl.DataFrame({
        "target_id": list(range(size)),
        "as_of": [min(day, path.target_date) for day, _ in points],
        "target_date": [path.target_date] * size,
        "target_value": [path.target] * size,
        "value_high": [None] * size,
        "b_value": [path.baseline] * size,
        "b_date": [dt.date(path.year - 1, 12, 31)] * size,
        "trajectory": ["milestones" if path.milestones else "linear"] * size,
        "milestones": [path.knots() or None] * size,
        "comparator": [">="] * size,
        "direction": ["higher"] * size,
        "decimals": [1] * size,
        "actual": [value for _, value in points],
    }, schema_overrides={"value_high": pl.Float64, "actual": pl.Float64,
                         "b_value": pl.Float64})
    judged = engine.year_end_result(engine.classify(engine.expected_on_path(frame)), today)
    return [PathStatus(row["as_of"], row["actual"], row["expected"], Status(row["status"]),
                       YearEndResult(row["year_end"]) if row["year_end"] else None)
            for row in judged.sort("target_id").iter_rows(named=True)]


def expected_by_month(path: TargetPath) -> list[tuple[str, float]]:
    """The path's value at each month end of the year (for the chart)."""
    points: list[tuple[dt.date, float | None]] = [(_month_end(path.year, m), None)
                                                  for m in range(1, 13)]
    far_future = dt.date(path.year, 1, 1)  # no year-end words on a drawn path
    return [(f"{path.year}{s.as_of.month:02d}", s.expected or 0.0)
            for s in statuses(path, points, far_future)]

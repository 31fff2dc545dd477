"""Estimates (ước, ước thực hiện) beside the official figure.

A unit gives an estimate before the official figure exists ("ước thực hiện năm 2025" in
November); the official figure later replaces it as the current figure, and the estimate
stays beside it (`DataValue.estimate_*`), so both are shown and the status, taken from the
current figure, is the official one once it exists. An estimate never replaces an official
figure: sending the same estimate again changes nothing, a different one is refused.

The write rules live here and are applied by `chiso.values.service` on both its single and
bulk paths; `estimate_marks` tells the screens and the report which figures are estimates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from chiso.periods import parse_period
from chiso.values.models import DataValue

FIGURES = ("numerator", "denominator", "value")
ESTIMATE_COLUMNS = ("estimate", "estimate_numerator", "estimate_denominator", "estimate_value")


def official_exists_issue(period_id: str) -> dict[str, str]:
    period = parse_period(period_id)
    return {"column": "estimate", "rule": "official_exists",
            "message_vi": f"kỳ {period.label_vi()} đã có số liệu chính thức: số ước không thay "
                          "thế số chính thức (sửa số chính thức nếu cần)",
            "message_en": f"{period.label_en()} already has an official figure: an estimate "
                          "never replaces it (correct the official figure instead)"}


# ---------------------------------------------------------------- one value


def official_stands(existing: DataValue | None) -> bool:
    """A stored, not deleted, official figure."""
    return existing is not None and not existing.deleted and not existing.estimate


def same_estimate(existing: DataValue, figures: dict[str, float | None]) -> bool:
    return all(_same(getattr(existing, f"estimate_{name}"), figures[name]) for name in FIGURES)


def columns(existing: DataValue | None, figures: dict[str, float | None], estimate: bool
            ) -> dict[str, Any]:
    """The estimate columns of the new state: an estimate records its figures; an official
    figure keeps the estimate given before it (none for a new value)."""
    if estimate:
        return {"estimate": True, **{f"estimate_{n}": figures[n] for n in FIGURES}}
    kept = {f"estimate_{n}": getattr(existing, f"estimate_{n}") if existing else None
            for n in FIGURES}
    return {"estimate": False, **kept}


def _same(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return abs(old - new) <= 1e-9 * max(1.0, abs(old))


# ---------------------------------------------------------------- many values


def with_flag(frame: pl.DataFrame) -> pl.DataFrame:
    """`estimate` as a boolean column (false where absent: callers that know nothing of
    estimates write official figures)."""
    if "estimate" not in frame.columns:
        return frame.with_columns(pl.lit(False).alias("estimate"))
    return frame.with_columns(pl.col("estimate").cast(pl.Boolean).fill_null(False))


def kept_official() -> pl.Expr:
    """Rows (joined with what is stored, `<name>_old`) that give an estimate for a value
    whose official figure stands: they change nothing."""
    return (pl.col("estimate") & pl.col("id").is_not_null()
            & ~pl.col("deleted_old").fill_null(False)
            & ~pl.col("estimate_old").fill_null(False))


def conflicts(joined: pl.DataFrame) -> pl.DataFrame:
    """Rows giving an estimate that differs from the one kept beside a standing official
    figure (refused: an estimate never replaces an official figure)."""
    differs = pl.lit(False)
    for name in FIGURES:
        new, old = pl.col(name), pl.col(f"estimate_{name}_old")
        differs = differs | (new.is_null() != old.is_null()) | (
            (new - old).abs() > 1e-9 * pl.max_horizontal(pl.lit(1.0), old.abs())
        ).fill_null(False)
    return joined.filter(kept_official() & differs)


def staged_columns(frame: pl.DataFrame, *, update: bool) -> list[pl.Expr]:
    """The estimate columns to write for inserted (`update` false) or updated rows."""
    estimate = pl.col("estimate")
    kept = [pl.col(f"estimate_{n}_old") if update else pl.lit(None, pl.Float64)
            for n in FIGURES]
    return [estimate, *[pl.when(estimate).then(pl.col(n)).otherwise(old).alias(f"estimate_{n}")
                        for n, old in zip(FIGURES, kept, strict=True)]]


# ---------------------------------------------------------------- reading


def estimate_marks(session: Session, *, unit_ids: Iterable[int] | None = None,
                   indicator_ids: Iterable[int] | None = None,
                   first_day: dt.date | None = None, last_day: dt.date | None = None
                   ) -> pl.DataFrame:
    """Figures that are estimates, or were until the official figure replaced them, for
    the screens and the report to mark "ước": `unit_id, indicator_id, period, estimate`
    (true: the current figure is still the estimate), `value` (the current figure) and
    `estimate_value` (the estimate, also once replaced). Periods starting between the two
    days (inclusive); all units or indicators when not given."""
    v = DataValue
    query = select(v.unit_id, v.indicator_id, v.period, v.estimate, v.value,
                   v.estimate_value).where(
        v.deleted.is_(False), or_(v.estimate.is_(True), v.estimate_value.is_not(None)))
    conditions: list[Any] = []
    if unit_ids is not None:
        conditions.append(v.unit_id.in_(sorted(set(unit_ids))))
    if indicator_ids is not None:
        conditions.append(v.indicator_id.in_(sorted(set(indicator_ids))))
    if first_day is not None:
        conditions.append(v.period_start >= first_day)
    if last_day is not None:
        conditions.append(v.period_start <= last_day)
    rows = session.execute(query.where(and_(*conditions)) if conditions else query).all()
    return pl.DataFrame(rows, orient="row", schema={
        "unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.String,
        "estimate": pl.Boolean, "value": pl.Float64, "estimate_value": pl.Float64})

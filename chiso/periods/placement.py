"""Placing many dates in periods at once: the rule of `period_containing`, vectorised.

`period_containing_expr` is for polars frames (imports, millions of one-stop dossiers);
`month_key_sql` is the same rule as a SQL expression for DuckDB and PostgreSQL, which the
records engine runs over parquet. Both count months from year 0 so that the cut-off
calendar's shift past December lands in January of the next year without a special case.
"""

from __future__ import annotations

import polars as pl

from chiso.periods.core import CUTOFF_DAY, Calendar, PeriodType


def _shift(day: pl.Expr, calendar: Calendar | str | pl.Expr) -> pl.Expr:
    """1 where the date belongs to the next month (NĐ 09/2019, day ≥ 15), else 0."""
    late = day.dt.day() >= CUTOFF_DAY
    if isinstance(calendar, pl.Expr):
        cutoff = (calendar == Calendar.CUTOFF_ND09.value) & late
        return cutoff.fill_null(False).cast(pl.Int32)
    if Calendar(calendar) is Calendar.CUTOFF_ND09:
        return late.cast(pl.Int32)
    return pl.lit(0, pl.Int32)


def period_containing_expr(day: pl.Expr | str, ptype: PeriodType | str = PeriodType.MONTH,
                           calendar: Calendar | str | pl.Expr = Calendar.STANDARD) -> pl.Expr:
    """The id ('202601', '2026Q1', '2026S1', '2026') of the period of type `ptype` holding
    each date of `day` (a Date column; a Datetime is placed by its date) under `calendar` —
    one calendar, or an expression giving 'standard' / 'nd09' per row. Null dates give null.
    Example: `frame.with_columns(period=period_containing_expr("received", "M", "nd09"))`."""
    day = (pl.col(day) if isinstance(day, str) else day).dt.date()
    months = (day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1
              + _shift(day, calendar))
    return period_id_expr(months, ptype)


def period_id_expr(month_index: pl.Expr, ptype: PeriodType | str) -> pl.Expr:
    """The id of the period of type `ptype` holding each month, counted as
    year × 12 + month − 1 (January 2026 = 24312)."""
    ptype = PeriodType(ptype)
    year = (month_index // 12).cast(pl.String)
    month = month_index % 12 + 1
    if ptype is PeriodType.CUMULATIVE:
        return _span_id_expr(year, month)
    if ptype is PeriodType.YEAR:
        return year
    if ptype is PeriodType.MONTH:
        return pl.concat_str(year, month.cast(pl.String).str.zfill(2))
    index = ((month - 1) // ptype.months + 1).cast(pl.String)
    return pl.concat_str(year, pl.lit(ptype.value), index)


def month_key_sql(column: str, calendar: Calendar | str = Calendar.STANDARD) -> str:
    """SQL (DuckDB, PostgreSQL) for the month a date or timestamp column falls in, as the
    integer yyyymm (202601), under `calendar`. The column is placed by its date as
    stored: convert a UTC timestamp to Vietnam time first."""
    shift = (f" + CASE WHEN EXTRACT(DAY FROM {column}) >= {CUTOFF_DAY} THEN 1 ELSE 0 END"
             if Calendar(calendar) is Calendar.CUTOFF_ND09 else "")
    months = f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 + " \
             f"CAST(EXTRACT(MONTH FROM {column}) AS INTEGER) - 1{shift})"
    # No integer-division operator is common to both engines: floor of a real division.
    return f"(CAST(FLOOR({months} / 12.0) AS INTEGER) * 100 + {months} % 12 + 1)"


def _span_id_expr(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    """January to `month`, under the span's one id (`Period.cumulative`): 2025C09, but
    2025Q1, 2025S1, 2025 and 202501 for 3, 6, 12 and 1 months."""
    return (pl.when(month == 12).then(year)
            .when(month == 6).then(pl.concat_str(year, pl.lit("S1")))
            .when(month == 3).then(pl.concat_str(year, pl.lit("Q1")))
            .when(month == 1).then(pl.concat_str(year, pl.lit("01")))
            .otherwise(pl.concat_str(year, pl.lit("C"), month.cast(pl.String).str.zfill(2))))

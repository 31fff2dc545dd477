"""Pure, vectorised funding arithmetic over a figures frame (`chiso.funding.frames`): the
plan of each line, cumulative disbursement month by month, roll-ups by any grouping, and
the indicator values. No database, no web: pages, indicators, reports and the benchmark
all call these.

Rules (docs/funding.md):
- a line's **budget** is its dự toán giao (estimate); its **plan** for disbursement is its
  phân bổ (allocation) when there is one, else its dự toán giao;
- giải ngân figures are cumulative to the end of their month: a month without a figure
  carries the previous month's (nothing was disbursed), and a line with a plan but no
  figure yet has disbursed 0;
- the budget for science, innovation and DX counts the state budget (ngân sách trung ương,
  địa phương, ODA); xã hội hóa is shown beside it, not counted in the share of budget
  spending nor in the disbursement rate against the capital plan.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from chiso.funding.vocab import STATE_BUDGET_SOURCES, LineKind, Stage

BILLION = 1e9  # tỷ đồng
MILLION = 1e6  # triệu đồng

LINE_KEYS = ["line_id", "kind", "unit_id", "programme_id", "year", "source", "spend_type",
             "area", "name", "illustrative"]
YEARLY = [Stage.PROPOSED.value, Stage.ESTIMATE.value, Stage.ALLOCATED.value,
          Stage.SETTLED.value]


def line_table(figures: pl.DataFrame) -> pl.DataFrame:
    """One row per line: proposed, estimate, allocated, settled (đồng, null when absent),
    `plan` (allocated, else estimate), `disbursed` (the latest month's cumulative amount,
    0 when none yet) and `last_month` (1–12, null when none)."""
    yearly = figures.filter(pl.col("stage").is_in(YEARLY)).group_by("line_id").agg(
        [pl.col("amount").filter(pl.col("stage") == s).first().alias(s) for s in YEARLY])
    months = figures.filter(pl.col("stage") == Stage.DISBURSED).with_columns(
        _month().alias("month"))
    latest = months.sort("month").group_by("line_id").agg(
        pl.col("amount").last().alias("disbursed"), pl.col("month").last().alias("last_month"))
    lines = figures.select(LINE_KEYS).unique("line_id", keep="first")
    table = lines.join(yearly, on="line_id", how="left").join(latest, on="line_id", how="left")
    for stage in YEARLY:
        if stage not in table.columns:
            table = table.with_columns(pl.lit(None, pl.Int64).alias(stage))
    return table.with_columns(
        pl.coalesce(Stage.ALLOCATED.value, Stage.ESTIMATE.value).alias("plan"),
        pl.col("disbursed").fill_null(0),
    ).sort("line_id")


def _month() -> pl.Expr:
    return pl.col("period").str.slice(4, 2).cast(pl.Int32)


def cumulative_months(figures: pl.DataFrame, through: dict[int, int] | None = None, *,
                      order: list[str] | None = None, with_period: bool = True
                      ) -> pl.DataFrame:
    """Each line with a plan × each month of its year up to the last month reported in that
    year (or `through[year]`): `line_id, year, month, period, cumulative, plan` plus the
    line's facts, lines in `order` (then by line), each line's months in order. Months
    without a figure carry the previous month's amount."""
    lines = _planned_lines(figures).sort([*(order or []), "line_id"])
    disbursed = figures.filter(pl.col("stage") == Stage.DISBURSED).select(
        "line_id", _month().alias("month"), pl.col("amount").alias("cumulative"))
    last = _last_months(figures, through)
    if lines.is_empty() or last.is_empty():
        return _empty_months(lines)
    grid = lines.join(last, on="year", how="inner", maintain_order="left").with_columns(
        pl.int_ranges(1, pl.col("last_month") + 1, dtype=pl.Int32).alias("month")
    ).explode("month").drop("last_month")
    filled = grid.join(disbursed, on=["line_id", "month"], how="left", maintain_order="left")
    # Carry a month's amount forward within its line without a per-line window: the rows
    # are line by line, month by month, so a plain forward fill is right wherever the
    # filled value came from the same line, and 0 where it came from the line before.
    source_line = pl.when(pl.col("cumulative").is_not_null()).then(
        pl.col("line_id")).forward_fill()
    filled = filled.with_columns(pl.when(source_line == pl.col("line_id")).then(
        pl.col("cumulative").forward_fill()).otherwise(0).alias("cumulative"))
    return filled.with_columns(_period()) if with_period else filled


def _planned_lines(figures: pl.DataFrame) -> pl.DataFrame:
    """The lines with a plan (allocated, else estimate) above 0 and their facts."""
    yearly = figures.filter(pl.col("stage").is_in(
        [Stage.ESTIMATE.value, Stage.ALLOCATED.value])).group_by("line_id").agg(
        pl.col("amount").filter(pl.col("stage") == s.value).first().alias(s.value)
        for s in (Stage.ALLOCATED, Stage.ESTIMATE))
    plans = yearly.select("line_id", pl.coalesce(Stage.ALLOCATED.value, Stage.ESTIMATE.value)
                          .alias("plan"))
    return figures.select(LINE_KEYS).unique("line_id", keep="first").join(
        plans, on="line_id").filter(pl.col("plan") > 0)


def _period() -> pl.Expr:
    return (pl.col("year").cast(pl.String) + pl.col("month").cast(pl.String).str.zfill(2)
            ).alias("period")


def _last_months(figures: pl.DataFrame, through: dict[int, int] | None) -> pl.DataFrame:
    if through:
        return pl.DataFrame({"year": list(through), "last_month": list(through.values())},
                            schema={"year": pl.Int32, "last_month": pl.Int32})
    return figures.filter(pl.col("stage") == Stage.DISBURSED).group_by("year").agg(
        _month().max().alias("last_month"))


def _empty_months(lines: pl.DataFrame) -> pl.DataFrame:
    schema: dict[str, Any] = dict(lines.schema)
    schema |= {"month": pl.Int32, "cumulative": pl.Int64, "period": pl.String}
    return pl.DataFrame(schema=schema)


def disbursement_rollup(figures: pl.DataFrame, by: list[str],
                        through: dict[int, int] | None = None) -> pl.DataFrame:
    """Cumulative disbursement and plan summed by `by` and month: `*by, period, year,
    month, disbursed, plan, rate` (rate in %, null without a plan). The roll-up the
    funding pages chart and `chiso bench budget` times."""
    # Lines sorted by the keys make the groups appear in sorted order: grouping in order
    # of appearance then replaces a sort of every (key, month) row — 0.43 → 0.17 CPU s at
    # 34 provinces × 200 projects × 60 months (`chiso bench budget`).
    months = cumulative_months(figures, through, order=[*by, "year"], with_period=False)
    return months.group_by([*by, "year", "month"], maintain_order=True).agg(
        pl.col("cumulative").sum().alias("disbursed"), pl.col("plan").sum().alias("plan"),
    ).with_columns(_period(), _rate("disbursed", "plan")).select(
        *by, "year", "month", "period", "disbursed", "plan", "rate")


def _rate(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(
        pl.col(numerator) / pl.col(denominator) * 100).otherwise(None).alias("rate")


def by_group(lines: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Stage totals of `line_table` rows grouped by `by`: proposed, estimate, allocated,
    settled, plan, disbursed (đồng) and the disbursement rate."""
    stages = [*YEARLY, "plan", "disbursed"]
    return lines.filter(pl.col("kind") == LineKind.LINE).group_by(by).agg(
        [pl.col(s).sum().alias(s) for s in stages]).with_columns(
        _rate("disbursed", "plan")).sort(by)


# ------------------------------------------------------------------ indicator values

AMOUNT_INDICATORS = {
    "KP.DU_TOAN": None,
    "KP.DTPT": ("spend_type", "investment"),
    "KP.THUONG_XUYEN": ("spend_type", "recurrent"),
    "KP.KHCN": ("area", "science"),
    "KP.DMST": ("area", "innovation"),
    "KP.CDS": ("area", "dx"),
}
SHARE = "KP.TY_LE_CHI_NS"
DISBURSEMENT = "KP.GIAI_NGAN"
COST_PER_TASK = "KP.CHI_PHI_NHIEM_VU"
VALUE_SCHEMA = {"unit_id": pl.Int64, "indicator_code": pl.String, "period": pl.String,
                "numerator": pl.Float64, "denominator": pl.Float64, "value": pl.Float64}


def indicator_values(figures: pl.DataFrame, *, province_id: int, year: int) -> pl.DataFrame:
    """The funding indicators of one year from approved figures: amounts by type and area
    and the share of budget spending (periods = the year), the disbursement rate by month.
    Rows for each owner unit and for the province (its own figure, over every line)."""
    year_figures = figures.filter(pl.col("year") == year)
    lines = line_table(year_figures)
    parts = [_amounts(lines, province_id, year), _share(lines, province_id, year),
             _disbursement(year_figures, province_id)]
    return pl.concat([p.select(list(VALUE_SCHEMA)).cast(VALUE_SCHEMA)  # type: ignore[arg-type]
                      for p in parts]).sort("indicator_code", "unit_id", "period")


def _with_province(frame: pl.DataFrame, province_id: int) -> pl.DataFrame:
    """Every row once for its owner unit and once for the province; the province's own
    lines only once."""
    province = frame.with_columns(pl.lit(province_id, pl.Int64).alias("unit_id"))
    own = frame.filter(pl.col("unit_id") != province_id)
    return pl.concat([own, province])


def _state_budget(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.filter((pl.col("kind") == LineKind.LINE)
                        & pl.col("source").is_in([s.value for s in STATE_BUDGET_SOURCES])
                        & pl.col(Stage.ESTIMATE.value).is_not_null())


def _amounts(lines: pl.DataFrame, province_id: int, year: int) -> pl.DataFrame:
    budget = _with_province(_state_budget(lines), province_id)
    frames = []
    for code, condition in AMOUNT_INDICATORS.items():
        chosen = budget if condition is None else budget.filter(
            pl.col(condition[0]) == condition[1])
        frames.append(chosen.group_by("unit_id").agg(
            (pl.col(Stage.ESTIMATE.value).sum() / BILLION).alias("value")).with_columns(
            pl.lit(code).alias("indicator_code")))
    return pl.concat(frames).with_columns(
        pl.lit(str(year)).alias("period"), pl.lit(None, pl.Float64).alias("numerator"),
        pl.lit(None, pl.Float64).alias("denominator"))


def _share(lines: pl.DataFrame, province_id: int, year: int) -> pl.DataFrame:
    """Σ state budget for science, innovation and DX ÷ the province's total budget
    spending (both dự toán giao), × 100."""
    total = lines.filter((pl.col("kind") == LineKind.TOTAL)
                         & pl.col(Stage.ESTIMATE.value).is_not_null())
    if total.is_empty():
        return pl.DataFrame(schema=VALUE_SCHEMA)
    numerator = float(_state_budget(lines)[Stage.ESTIMATE.value].sum()) / BILLION
    denominator = float(total[Stage.ESTIMATE.value].sum()) / BILLION
    value = numerator / denominator * 100 if denominator > 0 else None
    return pl.DataFrame([(province_id, SHARE, str(year), numerator, denominator, value)],
                        schema=VALUE_SCHEMA, orient="row")


def state_budget_figures(figures: pl.DataFrame) -> pl.DataFrame:
    """The figures of state-budget lines: what disbursement against the capital plan
    (kế hoạch vốn) is measured on."""
    return figures.filter((pl.col("kind") == LineKind.LINE) & pl.col("source").is_in(
        [s.value for s in STATE_BUDGET_SOURCES]))


def _disbursement(figures: pl.DataFrame, province_id: int) -> pl.DataFrame:
    months = cumulative_months(state_budget_figures(figures))
    rolled = _with_province(months, province_id).group_by("unit_id", "period").agg(
        (pl.col("cumulative").sum() / BILLION).alias("numerator"),
        (pl.col("plan").sum() / BILLION).alias("denominator"))
    return rolled.with_columns(
        pl.lit(DISBURSEMENT).alias("indicator_code"),
        (pl.col("numerator") / pl.col("denominator") * 100).alias("value"))


def cost_per_task(figures: pl.DataFrame, done_tasks: int, *, province_id: int, year: int
                  ) -> pl.DataFrame:
    """Chi phí bình quân một nhiệm vụ hoàn thành (triệu đồng): what the programmes with
    linked tasks have disbursed up to the year (each line's latest cumulative figure) ÷
    their linked tasks completed by the end of the year. `figures`: those programmes'."""
    if done_tasks <= 0:
        return pl.DataFrame(schema=VALUE_SCHEMA)
    lines = line_table(figures.filter(pl.col("year") <= year))
    spent = float(lines["disbursed"].sum()) / MILLION if lines.height else 0.0
    return pl.DataFrame([(province_id, COST_PER_TASK, str(year), spent, float(done_tasks),
                          spent / done_tasks)], schema=VALUE_SCHEMA, orient="row")

"""Funding in the committee's documents, as plain data the reports engineer lays out:

- `report_section`: the budget paragraph and table of the quarterly or annual report, as
  the figures were known at the report's cut-off (`known_at`, from the version history);
- `roadmap_table`: the funding roadmap (lộ trình kinh phí) by source and type over 3–5
  years, the appendix a plan carries (also written as XLSX by `chiso.funding.roadmap`).

Amounts are given in triệu đồng (numbers) and as Vietnamese text in tỷ đồng for the
paragraph, so a document can print them without knowing funding's rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from chiso.funding import compute, paths
from chiso.funding.frames import figures_frame
from chiso.funding.models import Programme
from chiso.funding.service import issue, rejected
from chiso.funding.summary import province_of, unit_ids_below
from chiso.funding.vocab import (
    SOURCES,
    SPEND_TYPES,
    STATE_BUDGET_SOURCES,
    LineKind,
    Source,
    SpendType,
    Stage,
)
from chiso.settings import get_settings
from chiso.text import format_number
from chiso.text.clock import to_vn, vn_zone
from chiso.units.models import OrgUnit
from chiso.units.service import get_unit

MILLION = 1e6
BILLION = 1e9

SECTION_COLUMNS = [
    ("label", "Nguồn vốn, loại chi", "Source and type"),
    ("estimate", "Dự toán giao (triệu đồng)", "Budget estimate (million VND)"),
    ("allocated", "Phân bổ (triệu đồng)", "Allocated (million VND)"),
    ("disbursed", "Giải ngân lũy kế (triệu đồng)", "Disbursed to date (million VND)"),
    ("rate", "Tỷ lệ giải ngân (%)", "Disbursed (% of plan)"),
]


def _instant(known_at: dt.datetime | dt.date | None) -> dt.datetime | None:
    """The cut-off as a UTC instant (stored times are UTC): a date means the end of that
    day in Vietnam; a naive time is Vietnam time."""
    if known_at is None:
        return None
    if not isinstance(known_at, dt.datetime):
        known_at = dt.datetime.combine(known_at, dt.time(23, 59, 59, 999999))
    if known_at.tzinfo is None:
        known_at = known_at.replace(tzinfo=vn_zone())
    return known_at.astimezone(dt.UTC)


def _scope_figures(session: Session, unit: OrgUnit, years: tuple[int, int],
                   known_at: dt.datetime | None, day: dt.date) -> tuple[OrgUnit, pl.DataFrame]:
    province = province_of(session, unit.id)
    figures = figures_frame(session, scope_unit_id=province.id, years=years,
                            known_at=known_at)
    if unit.id != province.id:
        figures = figures.filter(pl.col("unit_id").is_in(unit_ids_below(session, unit, day)))
    return province, figures


def report_section(session: Session, *, unit_code: str, period_start: dt.date,
                   period_end: dt.date, known_at: dt.datetime | dt.date | None
                   ) -> dict[str, Any]:
    """The budget section for a report on `unit_code` over [period_start, period_end]:
    the year's budget, its share of total spending (province), the split by type, and the
    disbursement to the end of the period against its path — as approved by `known_at`."""
    year = period_end.year
    unit = get_unit(session, unit_code, period_end)
    instant = _instant(known_at)
    province, figures = _scope_figures(session, unit, (year, year), instant, period_end)
    figures = _up_to(figures, period_end)
    lines = compute.line_table(figures)
    budget = lines.filter(pl.col("kind") == LineKind.LINE)
    state = budget.filter(pl.col("source").is_in([s.value for s in STATE_BUDGET_SOURCES]))
    monthly = compute.disbursement_rollup(compute.state_budget_figures(figures), [])
    # The day the report is judged on: its cut-off, else today (a closed year then reads
    # đạt / không đạt).
    judged_day = to_vn(instant).date() if instant else get_settings().current_date()
    facts = {
        "year": year, "unit_code": unit.code, "unit_name": unit.name,
        "period_start": period_start, "period_end": period_end, "known_at": instant,
        "estimate": _sum(state, "estimate"), "social": _sum(budget.filter(
            pl.col("source") == Source.SOCIAL), "estimate"),
        "investment": _sum(state.filter(pl.col("spend_type") == SpendType.INVESTMENT),
                           "estimate"),
        "recurrent": _sum(state.filter(pl.col("spend_type") == SpendType.RECURRENT),
                          "estimate"),
        "plan": _sum(budget, "plan"),
        "disbursed": float(monthly["disbursed"][-1]) if monthly.height else None,
        "disbursed_plan": float(monthly["plan"][-1]) if monthly.height else None,
        "last_period": monthly["period"][-1] if monthly.height else None,
        "illustrative": _illustrative(lines, figures),
    }
    facts["share"] = _share(session, lines, unit, province, year, period_end, judged_day)
    facts["disbursement"] = _disbursement(session, unit, year, monthly, period_end,
                                          judged_day)
    rows = _section_rows(budget)
    return {**facts, "title_vi": "Kinh phí thực hiện", "title_en": "Funding",
            "paragraph_vi": _paragraph(facts, "vi"), "paragraph_en": _paragraph(facts, "en"),
            "columns": [{"key": k, "label_vi": vi, "label_en": en}
                        for k, vi, en in SECTION_COLUMNS],
            "rows": rows, "empty": budget.is_empty()}


def _up_to(figures: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Disbursement months after the period end are not yet part of the report."""
    last = f"{day.year}{day.month:02d}"
    return figures.filter((pl.col("stage") != Stage.DISBURSED) | (pl.col("period") <= last))


def _sum(lines: pl.DataFrame, stage: str) -> float:
    return float(lines[stage].sum() or 0) if lines.height else 0.0


def _illustrative(lines: pl.DataFrame, figures: pl.DataFrame) -> bool:
    if not lines.height:
        return False
    return bool(lines["illustrative"].any()) or bool(
        (figures["figure_source"] == "demo").any())


def _share(session: Session, lines: pl.DataFrame, unit: OrgUnit, province: OrgUnit,
           year: int, period_end: dt.date, today: dt.date) -> dict[str, Any] | None:
    total = lines.filter(pl.col("kind") == LineKind.TOTAL)
    if unit.id != province.id or total.is_empty() or not _sum(total, "estimate"):
        return None
    state = lines.filter((pl.col("kind") == LineKind.LINE) & pl.col("source").is_in(
        [s.value for s in STATE_BUDGET_SOURCES]))
    value = _sum(state, "estimate") / _sum(total, "estimate") * 100
    path = paths.share_path(session, unit_id=unit.id, year=year)
    judged = paths.statuses(path, [(period_end, value)], today)[0]
    return {"value": value, "target": path.target, "total_spending": _sum(total, "estimate"),
            **_judgement(judged)}


def _disbursement(session: Session, unit: OrgUnit, year: int, monthly: pl.DataFrame,
                  period_end: dt.date, today: dt.date) -> dict[str, Any] | None:
    if monthly.is_empty():
        return None
    rate = monthly["rate"][-1]
    path = paths.disbursement_path(session, unit_id=unit.id, year=year)
    judged = paths.statuses(path, [(period_end, rate)], today)[0]
    return {"rate": rate, "target": path.target, **_judgement(judged)}


def _judgement(judged: paths.PathStatus) -> dict[str, Any]:
    return {"expected": judged.expected, "status": judged.status.value,
            "year_end": judged.year_end.value if judged.year_end else None,
            "status_vi": judged.label("vi"), "status_en": judged.label("en"),
            "behind": judged.behind}


def _section_rows(budget: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows by source, then type within it, then the total (triệu đồng)."""
    if budget.is_empty():
        return []
    grouped = compute.by_group(budget, ["source", "spend_type"]).to_dicts()
    order = [s.value for s in Source]
    grouped.sort(key=lambda r: (order.index(r["source"]), r["spend_type"]))
    rows = []
    for source in order:
        parts = [r for r in grouped if r["source"] == source]
        if not parts:
            continue
        rows.append(_row(SOURCES[source].name_vi, SOURCES[source].name_en, parts, level=1))
        rows += [_row(SPEND_TYPES[r["spend_type"]].name_vi,
                      SPEND_TYPES[r["spend_type"]].name_en, [r], level=2) for r in parts]
    rows.append(_row("Tổng cộng", "Total", grouped, level=0))
    return rows


def _row(label_vi: str, label_en: str, parts: list[dict[str, Any]], level: int
         ) -> dict[str, Any]:
    def total(name: str) -> float:
        return sum(float(p[name] or 0) for p in parts)

    plan, disbursed = total("plan"), total("disbursed")
    return {"label_vi": label_vi, "label_en": label_en, "level": level,
            "estimate": total("estimate") / MILLION, "allocated": total("allocated") / MILLION,
            "disbursed": disbursed / MILLION,
            "rate": disbursed / plan * 100 if plan else None}


def billions(amount: float | None, locale: str) -> str:
    """'263,5 tỷ đồng' / 'VND 263.5 billion'."""
    text = format_number((amount or 0) / BILLION, 1, locale)
    return f"{text} tỷ đồng" if locale == "vi" else f"VND {text} billion"


def _paragraph(facts: dict[str, Any], locale: str) -> str:
    """One paragraph as a report writes it, from the figures only."""
    vi = locale == "vi"
    if not facts["estimate"] and not facts["plan"]:
        return (f"Chưa có số liệu kinh phí đã phê duyệt cho năm {facts['year']}." if vi else
                f"No approved funding figures for {facts['year']} yet.")
    parts = [_budget_sentence(facts, locale)]
    if facts["disbursement"] is not None:
        parts.append(_disbursement_sentence(facts, locale))
    if facts["illustrative"]:
        parts.append("(Số liệu minh họa, không phải số liệu chính thức.)" if vi else
                     "(Illustrative figures, not official.)")
    return " ".join(parts)


def _budget_sentence(facts: dict[str, Any], locale: str) -> str:
    vi = locale == "vi"
    share = facts["share"]
    money = billions(facts["estimate"], locale)
    sentence = (f"Năm {facts['year']}, dự toán chi ngân sách nhà nước cho khoa học, công nghệ, "
                f"đổi mới sáng tạo và chuyển đổi số là {money}" if vi else
                f"In {facts['year']}, the state budget estimate for science, technology, "
                f"innovation and digital transformation is {money}")
    if share is not None:
        value = format_number(share["value"], 2, locale)
        target = format_number(share["target"], 0, locale)
        sentence += (f", bằng {value}% tổng chi ngân sách địa phương (mục tiêu ≥ {target}%: "
                     f"{share['status_vi'].lower()})" if vi else
                     f", {value}% of total local budget spending (target ≥ {target}%: "
                     f"{share['status_en'].lower()})")
    split = (f"; gồm chi đầu tư phát triển {billions(facts['investment'], locale)} và chi "
             f"thường xuyên {billions(facts['recurrent'], locale)}" if vi else
             f"; development investment {billions(facts['investment'], locale)} and recurrent "
             f"spending {billions(facts['recurrent'], locale)}")
    social = ""
    if facts["social"]:
        social = (f"; ngoài ra huy động xã hội hóa {billions(facts['social'], locale)}" if vi
                  else f"; private funds mobilised besides: {billions(facts['social'], locale)}")
    return sentence + split + social + "."


def _disbursement_sentence(facts: dict[str, Any], locale: str) -> str:
    vi = locale == "vi"
    judged = facts["disbursement"]
    period = facts["last_period"]
    month = f"{int(period[4:])}/{period[:4]}"
    rate = format_number(judged["rate"], 1, locale)
    expected = format_number(judged["expected"], 1, locale)
    money = billions(facts["disbursed"], locale)
    if vi:
        return (f"Lũy kế giải ngân đến hết tháng {month} đạt {money}, bằng {rate}% kế hoạch vốn "
                f"(lộ trình {expected}%: {judged['status_vi'].lower()}).")
    return (f"Disbursed to the end of {month}: {money}, {rate}% of the capital plan (path "
            f"{expected}%: {judged['status_en'].lower()}).")


# ------------------------------------------------------------------ roadmap


def roadmap_table(session: Session, *, unit_code: str, year_from: int, year_to: int,
                  known_at: dt.datetime | dt.date | None = None) -> dict[str, Any]:
    """Lộ trình kinh phí: amounts by source and type for each year (triệu đồng) — the
    budget estimate where the year's budget is decided, else the approved proposal — and
    the programmes and projects with theirs. 3 to 5 years, as a plan's appendix."""
    if not 1 <= year_to - year_from + 1 <= 10:
        raise rejected([issue("year_to", "period", "lộ trình từ 1 đến 10 năm",
                              "a roadmap covers 1 to 10 years")])
    day = dt.date(year_to, 12, 31)
    unit = get_unit(session, unit_code)
    _province, figures = _scope_figures(session, unit, (year_from, year_to),
                                        _instant(known_at), day)
    lines = compute.line_table(figures).filter(pl.col("kind") == LineKind.LINE)
    lines = lines.with_columns(pl.coalesce("estimate", "proposed").alias("amount"),
                               pl.when(pl.col("estimate").is_not_null()).then(pl.lit("estimate"))
                               .otherwise(pl.lit("proposed")).alias("basis"))
    years = list(range(year_from, year_to + 1))
    return {"unit_code": unit.code, "unit_name": unit.name, "years": years,
            "basis": _basis(lines, years), "rows": _roadmap_rows(lines, years),
            "programmes": _programme_rows(session, lines, years),
            "illustrative": _illustrative(lines, figures)}


def _basis(lines: pl.DataFrame, years: list[int]) -> dict[int, str]:
    """Per year: 'estimate', 'proposed', 'mixed' or '' (nothing)."""
    out = {}
    for year in years:
        kinds = set(lines.filter(pl.col("year") == year)["basis"].to_list()) if lines.height \
            else set()
        out[year] = "" if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"
    return out


def _amounts(lines: pl.DataFrame, years: list[int]) -> dict[str, float]:
    by_year = {str(y): 0.0 for y in years}
    for row in lines.group_by("year").agg(pl.col("amount").sum()).to_dicts():
        by_year[str(row["year"])] = float(row["amount"] or 0) / MILLION
    by_year["total"] = sum(by_year.values())
    return by_year


def _roadmap_rows(lines: pl.DataFrame, years: list[int]) -> list[dict[str, Any]]:
    rows = []
    for source in Source:
        of_source = lines.filter(pl.col("source") == source)
        if of_source.is_empty():
            continue
        rows.append({"level": 1, "label_vi": SOURCES[source].name_vi,
                     "label_en": SOURCES[source].name_en, **_amounts(of_source, years)})
        for spend_type in SpendType:
            part = of_source.filter(pl.col("spend_type") == spend_type)
            if part.height:
                rows.append({"level": 2, "label_vi": SPEND_TYPES[spend_type].name_vi,
                             "label_en": SPEND_TYPES[spend_type].name_en,
                             **_amounts(part, years)})
    if rows:
        rows.append({"level": 0, "label_vi": "Tổng cộng", "label_en": "Total",
                     **_amounts(lines, years)})
    return rows


def _programme_rows(session: Session, lines: pl.DataFrame, years: list[int]
                    ) -> list[dict[str, Any]]:
    with_programme = lines.filter(pl.col("programme_id").is_not_null())
    out = []
    for programme_id in sorted(with_programme["programme_id"].unique().to_list()):
        programme = session.get(Programme, programme_id)
        if programme is None:
            continue
        owner = session.get(OrgUnit, programme.owner_unit_id)
        out.append({"code": programme.code, "name": programme.name,
                    "decision": programme.decision_number,
                    "owner": owner.name if owner else "",
                    **_amounts(with_programme.filter(pl.col("programme_id") == programme_id),
                               years)})
    return out

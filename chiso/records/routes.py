"""Records: the unit page `/records/units/{code}` and the JSON API under `/api/records`.

Reads ask READ on the unit; a batch POST is checked by the service (CAPTURE on every unit
whose records it changes, within the token's scope). Feed systems authenticate with API
tokens through the same dependency. Refusals are `UserError`s, rendered by the app.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Action
from chiso.errors import ERROR_RESPONSES, NotFound, TooLarge
from chiso.indicators.models import Indicator
from chiso.periods import Calendar
from chiso.plans.models import Target
from chiso.records import engine, service
from chiso.records.models import RecordBatch
from chiso.text import format_percent, iso_instant, vn_today
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, get_unit
from chiso.web.deps import AccessDep, LocaleDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(tags=["records"], responses=ERROR_RESPONSES)
MAX_API_RECORDS = 100_000
YearQuery = Annotated[int | None, Query(
    examples=[2025], description=f"{service.FIRST_YEAR}–{service.LAST_YEAR}; this year when "
    "left out (422 outside the range)",
    json_schema_extra={"minimum": service.FIRST_YEAR, "maximum": service.LAST_YEAR})]

NAV = [NavItem("One-stop records", "/records/units/{unit}", order=68)]
# Column headings of the monthly table (Vietnamese, English).
SHORT_LABELS = {
    "CQS.DVCTT_PHAT_SINH_HS": ("DVCTT có hồ sơ", "Services used online"),
    "CQS.HS_TRUC_TUYEN": ("Hồ sơ trực tuyến", "Online dossiers"),
    "CQS.HS_TOAN_TRINH": ("Toàn trình", "Full online"),
    "CQS.HS_DUNG_HAN": ("Đúng hạn", "On time"),
    "CQS.SO_HOA_HS": ("Số hóa", "Digitised"),
    "CQS.KQ_DIEN_TU": ("Kết quả điện tử", "E-results"),
    "CQS.TT_TRUC_TUYEN": ("Thanh toán trực tuyến", "Paid online"),
}


def _unit(session: Session, code: str, year: int) -> OrgUnit:
    """The unit with this code today, else the one that had it at the end of `year`."""
    for day in (vn_today(), dt.date(year, 12, 31)):
        try:
            return get_unit(session, code, day)
        except UnitNotFound:
            continue
    raise service.UnitUnknown(code)


def _year(year: int | None) -> int:
    return service.checked_year(year if year is not None else vn_today().year)


def _indicators(session: Session) -> list[Indicator]:
    found = {i.code: i for i in session.scalars(
        select(Indicator).where(Indicator.code.in_(list(engine.INDICATORS))))}
    return [found[c] for c in engine.INDICATORS if c in found]


def _targets(session: Session, unit_id: int, year: int) -> dict[str, float]:
    rows = session.execute(
        select(Indicator.code, Target.value).join(Indicator, Indicator.id == Target.indicator_id)
        .where(Target.unit_id == unit_id, Target.year == year,
               Indicator.code.in_(list(engine.INDICATORS)))).all()
    return {code: value for code, value in rows}


def unit_series(session: Session, unit: OrgUnit, year: int) -> pl.DataFrame:
    """month, indicator_code, numerator, denominator, value, live — stored values for the
    months the unit existed; before that, computed from its predecessors' records."""
    months = service.year_months(session, year, vn_today())
    stored = service.unit_values(session, unit.id, months).with_columns(
        pl.lit(False).alias("live"))
    before = [m for m in months if m < unit.valid_from.year * 100 + unit.valid_from.month]
    if not before:
        return stored
    live = service.live_indicators(session, unit.id, before).with_columns(
        pl.lit(True).alias("live"))
    return pl.concat([live.select(stored.columns), stored]).sort("month", "indicator_code")


def _cards(indicators: list[Indicator], series: pl.DataFrame, targets: dict[str, float],
           nd09: set[str], locale: str) -> list[dict[str, Any]]:
    cards = []
    for indicator in indicators:
        rows = series.filter(pl.col("indicator_code") == indicator.code).sort("month")
        with_value = rows.filter(pl.col("value").is_not_null())
        latest = with_value.row(-1, named=True) if with_value.height else None
        summable = indicator.code != "CQS.DVCTT_PHAT_SINH_HS"
        num = float(rows.get_column("numerator").sum() or 0)
        den = float(rows.get_column("denominator").sum() or 0)
        target = targets.get(indicator.code)
        cards.append({
            "code": indicator.code, "name_vi": indicator.name_vi, "name_en": indicator.name_en,
            "decimals": indicator.decimals, "target": target, "nd09": indicator.code in nd09,
            "latest": latest, "ytd": (num / den * indicator.scale) if summable and den else None,
            "ytd_parts": (num, den) if summable and den else None,
            "chart": _chart(rows, indicator.decimals, target, locale),
        })
    return cards


def _chart(rows: pl.DataFrame, decimals: int, target: float | None, locale: str
           ) -> dict[str, Any]:
    """What records.js draws: months, values and the same values as the page writes them."""
    months, values = rows.get_column("month").to_list(), rows.get_column("value").to_list()
    return {"months": [f"{m % 100:02d}" for m in months], "values": values,
            "shown": [format_percent(v, decimals, locale) for v in values],
            "target": target, "target_shown": format_percent(target, 0, locale)
            if target is not None else ""}


@router.get("/records/units/{code}", response_class=HTMLResponse, include_in_schema=False)
def unit_page(request: Request, code: str, session: SessionDep, access: AccessDep,
              locale: LocaleDep, year: YearQuery = None) -> HTMLResponse:
    """The seven public-service indicators of a unit by month, with targets, and the online
    procedures that received no online dossier."""
    year = _year(year)
    unit = _unit(session, code, year)
    access.require(Action.READ, unit.id)
    series = unit_series(session, unit, year)
    indicators = _indicators(session)
    months = service.year_months(session, year, vn_today())
    missing = service.procedures_without_online(session, unit.id, months)
    table = {(r["month"], r["indicator_code"]): r for r in series.iter_rows(named=True)}
    nd09 = set(service.calendar_groups(session).get(Calendar.CUTOFF_ND09, []))
    return render(request, "records/unit.html", {
        "access": access, "unit": unit, "year": year, "indicators": indicators,
        "cards": _cards(indicators, series, _targets(session, unit.id, year), nd09, locale),
        "nd09": nd09, "first_year": service.FIRST_YEAR, "last_year": service.LAST_YEAR,
        "months": [m for m in months if any((m, i.code) in table for i in indicators)],
        "table": table, "missing": missing.to_dicts(),
        "live_months": sorted({m for (m, _c), r in table.items() if r["live"]}),
        "batches": service.batches(session, 5), "short_labels": SHORT_LABELS,
    })


@router.get("/api/records/units/{code}/indicators")
def unit_indicators(code: str, session: SessionDep, access: AccessDep,
                    year: YearQuery = None) -> dict[str, Any]:
    """The indicators of a unit by month (`live` marks months computed from predecessors'
    records on today's boundaries)."""
    year = _year(year)
    unit = _unit(session, code, year)
    access.require(Action.READ, unit.id)
    series = unit_series(session, unit, year)
    return {"unit": unit.code, "year": year, "values": [
        {**row, "period": str(row["month"])} for row in series.iter_rows(named=True)]}


@router.get("/api/records/units/{code}/procedures-without-online")
def procedures_without_online(code: str, session: SessionDep, access: AccessDep,
                              year: YearQuery = None) -> list[dict[str, Any]]:
    """Online procedures offered in the unit's area (its level and field had dossiers) that
    received no online dossier in the year: code, name, service_level, field, dossiers —
    the list a department acts on. Needs READ on the unit."""
    year = _year(year)
    unit = _unit(session, code, year)
    access.require(Action.READ, unit.id)
    months = service.year_months(session, year, vn_today())
    return service.procedures_without_online(session, unit.id, months).to_dicts()


@router.post("/api/records/batches", status_code=201)
def post_batch(session: SessionDep, access: AccessDep,
               records: list[dict[str, Any]] = Body(..., embed=True)) -> dict[str, Any]:
    """Ingest a batch of dossier records (the same columns as the files). All-or-nothing:
    a bad record stores nothing and the answer names it (422, one issue per bad row); 403
    without CAPTURE on a unit whose records the batch changes, including the current owner
    of a dossier it re-sends under another unit."""
    if len(records) > MAX_API_RECORDS:
        raise TooLarge(f"Tối đa {MAX_API_RECORDS} bản ghi mỗi lô",
                       f"at most {MAX_API_RECORDS} records per batch")
    return service.ingest_records(session, records, access=access).as_dict()


def batch_json(batch: RecordBatch) -> dict[str, Any]:
    return {"id": batch.id, "source": batch.source, "file_name": batch.file_name,
            "status": batch.status, "rows_read": batch.rows_read,
            "rows_stored": batch.rows_stored, "rows_ignored": batch.rows_ignored,
            "months": [int(m) for m in batch.months.split(",")] if batch.months else [],
            "values_inserted": batch.values_inserted, "values_updated": batch.values_updated,
            "seconds": batch.seconds, "started_at": iso_instant(batch.started_at),
            "finished_at": iso_instant(batch.finished_at)}


@router.get("/api/records/batches")
def list_batches(session: SessionDep, access: AccessDep, limit: int = 50
                 ) -> list[dict[str, Any]]:
    """The latest record batches, newest first (at most 500): source, file, status, rows
    read, stored and ignored, months recomputed, values written and seconds taken."""
    access.require(Action.READ)
    return [batch_json(b) for b in service.batches(session, min(limit, 500))]


@router.get("/api/records/batches/{batch_id:int}")
def get_batch(batch_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """One record batch by id, with the same fields as the list; 404 if there is none."""
    access.require(Action.READ)
    batch = session.get(RecordBatch, batch_id)
    if batch is None:
        raise NotFound(f"Không có lô {batch_id}", f"no batch {batch_id}")
    return batch_json(batch)

"""JSON API for status, series and breakdowns; each checks READ on the unit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Query, Response

from chiso.accounts.access import Action
from chiso.analytics import cache, service
from chiso.analytics.status import vocabulary
from chiso.errors import UserError
from chiso.periods import PeriodError, parse_period
from chiso.settings import get_settings
from chiso.text import parse_date
from chiso.text.dates import DateError
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.schema import OptionalDayText

router = APIRouter(prefix="/api", tags=["analytics"])
FIRST_YEAR, LAST_YEAR = 1900, 2200
MAX_SERIES_YEARS = 50


def _checked_unit(session: SessionDep, access: AccessDep, unit: str,
                  day: dt.date | None = None) -> int:
    unit_id = service.unit_id_for(session, unit, day)  # UnknownUnit: 404
    access.require(Action.READ, unit_id)
    return unit_id


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except DateError as exc:  # a UserError already where chiso.text makes it one
        if isinstance(exc, UserError):
            raise
        raise UserError(str(exc), data={"field": "as_of"}) from exc


@router.get("/status", response_model=dict[str, Any])
def status(session: SessionDep, access: AccessDep, unit: str = Query(..., examples=["20"]),
           year: int = Query(..., ge=FIRST_YEAR, le=LAST_YEAR, examples=[2025]),
           as_of: OptionalDayText = None) -> Response:
    """Targets of a unit for a year with actual, expected on path, projection and status."""
    day = _date(as_of)
    _checked_unit(session, access, unit, min(day or dt.date.max, dt.date(year, 12, 31)))
    cache.reading_as(session, access.user.id if access.user else None)  # bounded staleness
    # The encoded answer is memoised with the statuses: dashboards poll this endpoint.
    body = cache.memoized(session, ("status_json", unit, year, day), lambda: (
        _status_json(session, unit, year, day),
        service.target_reach(session, unit_code=unit, year=year, as_of=day)))
    return Response(body, media_type="application/json")


def _status_json(session: SessionDep, unit: str, year: int, day: dt.date | None) -> bytes:
    rows = service.target_statuses(session, unit_code=unit, year=year, as_of=day)
    closed = bool(rows) and all(row.closed for row in rows)
    if not rows:  # no target: count in the vocabulary of the moment asked about
        closed = (day or get_settings().current_date()) >= dt.date(year, 12, 31)
    counts = {str(s): 0 for s in vocabulary([r.closed for r in rows] or [closed])}
    for row in rows:
        counts[str(row.status)] += 1
    answer = {"unit": unit, "year": year, "as_of": rows[0].as_of.isoformat()
              if rows and rows[0].as_of else None, "closed": closed, "counts": counts,
              # Figures that could not enter a roll-up (a percentage without its parts)
              # and targets whose actual rests on figures the demo invented.
              "not_aggregatable": sum(row.not_aggregatable for row in rows),
              "illustrative": any(row.illustrative for row in rows),
              "targets": [row.to_dict() for row in rows]}
    return json.dumps(answer, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()


@router.get("/series")
def series(session: SessionDep, access: AccessDep, unit: str, indicator: str,
           year_from: int = Query(..., ge=FIRST_YEAR, le=LAST_YEAR),
           year_to: int = Query(..., ge=FIRST_YEAR, le=LAST_YEAR),
           period_type: str = "M") -> dict[str, Any]:
    """An indicator's rolled-up values for a unit, period by period."""
    _checked_unit(session, access, unit)
    if period_type not in ("Y", "S", "Q", "M") or not (
            0 <= year_to - year_from < MAX_SERIES_YEARS):
        raise UserError("Loại kỳ Y|S|Q|M, năm đầu ≤ năm cuối, tối đa 50 năm",
                        "period_type Y|S|Q|M, year_from ≤ year_to, at most 50 years")
    frame = service.indicator_series(session, unit_code=unit, indicator_code=indicator,
                                     year_from=year_from, year_to=year_to,
                                     period_type=period_type)
    rows = frame.with_columns(frame["period_end"].cast(str)).to_dicts()
    return {"unit": unit, "indicator": indicator, "series": rows,
            "illustrative": bool(frame["illustrative"].any())}


@router.get("/breakdown")
def breakdown(session: SessionDep, access: AccessDep, unit: str, indicator: str,
              period: str) -> dict[str, Any]:
    """An indicator's value for each direct sub-unit of a unit in a period."""
    _checked_unit(session, access, unit)
    if not FIRST_YEAR <= parse_period(period).year <= LAST_YEAR:  # PeriodError: 422
        raise PeriodError(f"Năm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR} / year out of range")
    frame = service.subunit_breakdown(session, unit_code=unit, indicator_code=indicator,
                                      period=period)
    return {"unit": unit, "indicator": indicator, "period": period, "rows": frame.to_dicts(),
            "not_aggregatable": int(frame["not_aggregatable"].sum()),
            "illustrative": bool(frame["illustrative"].any())}

"""Which calendar an indicator's dated facts follow: the calendar of the data set
(reporting form, chiso.collection) the indicator belongs to — the Nghị định 09/2019 cut-off
calendar or the standard one. A read-only look-up for every domain that places dates in
periods (value imports, one-stop dossiers, submissions):

    calendars = indicator_calendars(session, [indicator_id, ...])   # {id: Calendar}
    period_containing(day, "M", calendars[indicator_id])

Only active data sets count. An indicator in no data set follows the standard calendar.
An indicator in several data sets whose calendars differ follows the cut-off calendar: a
province that set any of its forms on NĐ 09 has adopted that calendar for the figure, and
one period id must mean one span of days for one indicator.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.collection.models import DataSet, DataSetIndicator
from chiso.indicators.models import Indicator
from chiso.periods import Calendar

IN_CHUNK = 500


def indicator_calendars(session: Session, indicator_ids: Iterable[int] | None = None
                        ) -> dict[int, Calendar]:
    """The calendar of each indicator in `indicator_ids` (every indicator when None)."""
    statement = (select(DataSetIndicator.indicator_id, DataSet.calendar)
                 .join(DataSet, DataSet.id == DataSetIndicator.data_set_id)
                 .where(DataSet.active.is_(True)))
    if indicator_ids is None:
        wanted = list(session.scalars(select(Indicator.id)))
        rows = [(r[0], r[1]) for r in session.execute(statement)]
    else:
        wanted = sorted(set(indicator_ids))
        rows = [row for start in range(0, len(wanted), IN_CHUNK)
                for row in session.execute(statement.where(DataSetIndicator.indicator_id.in_(
                    wanted[start:start + IN_CHUNK])))]
    calendars = dict.fromkeys(wanted, Calendar.STANDARD)
    for indicator_id, calendar in rows:
        if calendar == Calendar.CUTOFF_ND09.value:
            calendars[indicator_id] = Calendar.CUTOFF_ND09
    return calendars


def calendar_for_indicator(session: Session, indicator: int | str) -> Calendar:
    """The calendar of one indicator, by id or by code ('CQS.HS_TRUC_TUYEN')."""
    indicator_id = indicator if isinstance(indicator, int) else session.scalar(
        select(Indicator.id).where(Indicator.code == indicator.strip().upper()))
    if indicator_id is None:
        return Calendar.STANDARD
    return indicator_calendars(session, [indicator_id])[indicator_id]


def with_calendars(session: Session, frame: pl.DataFrame, column: str = "indicator_id"
                   ) -> pl.DataFrame:
    """`frame` with a `calendar` column ('standard' / 'nd09') for each row's indicator."""
    ids = frame.get_column(column).drop_nulls().unique().to_list()
    calendars = indicator_calendars(session, ids)
    lookup = pl.DataFrame({column: list(calendars), "calendar": [c.value for c in
                                                                 calendars.values()]},
                          schema={column: frame.schema[column], "calendar": pl.String})
    return frame.drop("calendar", strict=False).join(lookup, on=column, how="left").with_columns(
        pl.col("calendar").fill_null(Calendar.STANDARD.value))

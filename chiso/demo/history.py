"""When the demo's figures would have been entered, so that a report for a past quarter
has the content it would have had then (reports read values as known at their cut-off).

The demo builds everything in one go "today"; its value versions are instead dated the way
a province enters them: a month's commune figures on the 5th of the next month, a
quarter's province figures 10 days after the quarter, a year's 20 days after the year, at
09:00 Vietnam time — never later than the moment the demo is built. Deterministic for a
given `today`, so a rebuild writes nothing new."""

from __future__ import annotations

import datetime as dt

import polars as pl

from chiso.periods import parse_period
from chiso.text import vn_zone

# Days after the period's last day at which its figures are entered, by period type.
ENTRY_DELAY_DAYS = {"M": 5, "Q": 10, "S": 15, "Y": 20}
ENTRY_HOUR = 9  # Vietnam time


def entered_at(period: str, *, today: dt.date) -> dt.datetime:
    """The instant (UTC) the figures of `period` are recorded as entered."""
    found = parse_period(period)
    delay = ENTRY_DELAY_DAYS.get(found.type.value, 5)
    day = found.end() + dt.timedelta(days=delay)
    moment = dt.datetime.combine(day, dt.time(ENTRY_HOUR), tzinfo=vn_zone())
    latest = dt.datetime.combine(today, dt.time(0), tzinfo=vn_zone())
    return min(moment, latest).astimezone(dt.UTC)


def with_entry_times(rows: pl.DataFrame, *, today: dt.date) -> pl.DataFrame:
    """`rows` with an `entered_at` column from each row's period."""
    times = {p: entered_at(p, today=today) for p in rows.get_column("period").unique()}
    return rows.with_columns(pl.col("period").replace_strict(
        times, return_dtype=pl.Datetime("us", "UTC")).alias("entered_at"))


def by_entry_time(rows: pl.DataFrame, *, today: dt.date
                  ) -> list[tuple[dt.datetime, pl.DataFrame]]:
    """The rows in batches entered at the same instant, oldest first."""
    timed = with_entry_times(rows, today=today)
    batches = []
    for (moment,), batch in timed.partition_by("entered_at", as_dict=True).items():
        batches.append((moment, batch.drop("entered_at")))
    return sorted(batches, key=lambda pair: pair[0])

"""The knowledge cut-off of a report: which facts it may use, decided once, deterministically.

A report for a period says "số liệu tính đến ngày <period end>". It uses:

- the **period end** E (30/09/2025 for 2025Q3): targets are judged as they stood on E,
  tasks are overdue if their due date is before E, overdue days are counted to E;
- the **closing date** C ("ngày chốt số liệu"): the report knows what had been recorded in
  chiso by the end of C, Vietnam time (the instant K). C is E unless the report's
  `closing_date` text block (or `chiso report … --closing-date`) names a later day, for a
  province that lets units send September's figures until 10 October;
- nothing else: not today, not the clock. A value, approval, task or meeting recorded after
  K does not exist for the report; a value corrected after K keeps the figure it had at K.

So regenerating a report after C gives the same document, byte for byte, whatever the date
(`CHISO_TODAY`) or the data entered since. Before C has passed the report is provisional:
it is judged on min(E, today) with everything recorded so far (by the end of today or by
now, whichever is later: `CHISO_TODAY` may pin a day the clock has passed), and it says so
on its first page and in a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chiso.db.base import utcnow
from chiso.reports.errors import ReportError
from chiso.text import format_date, vn_zone


@dataclass(frozen=True)
class Cutoff:
    period_start: dt.date
    period_end: dt.date  # E
    closing_date: dt.date  # C ≥ E
    judged_on: dt.date  # E, or today while C has not passed
    known_at: dt.datetime  # end of C (or of today while provisional), in UTC
    final: bool  # C has passed: nothing can change the report any more

    @property
    def provisional(self) -> bool:
        return not self.final

    def known_by(self, moment: dt.datetime | None) -> bool:
        """Was something recorded at `moment` known to the report? (naive = UTC)"""
        if moment is None:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment <= self.known_at

    def phrase_vi(self) -> str:
        """'số liệu tính đến ngày 30/09/2025' (+ the closing date when it differs)."""
        text = f"số liệu tính đến ngày {format_date(self.judged_on)}"
        if self.provisional:
            return (f"{text}, tạm tính khi chưa đến ngày chốt số liệu "
                    f"{format_date(self.closing_date)}")
        if self.closing_date != self.period_end:
            return f"{text}, chốt số liệu ngày {format_date(self.closing_date)}"
        return text


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of `day` in Vietnam time, in UTC (what "recorded by that day" means)."""
    local = dt.datetime.combine(day, dt.time.max, tzinfo=vn_zone())
    return local.astimezone(dt.UTC)


def cutoff_for(period_start: dt.date, period_end: dt.date, closing_date: dt.date | None,
               today: dt.date) -> Cutoff:
    """The cut-off of a report on [period_start, period_end] generated on `today`."""
    closing = closing_date or period_end
    if closing < period_end:
        raise ReportError(
            f"Ngày chốt số liệu {format_date(closing)} trước ngày cuối kỳ "
            f"{format_date(period_end)}",
            f"the closing date {closing.isoformat()} is before the end of the period "
            f"{period_end.isoformat()}")
    if today > closing:
        return Cutoff(period_start, period_end, closing, period_end, end_of_day(closing), True)
    judged = min(period_end, today)
    known = max(end_of_day(today), utcnow())
    return Cutoff(period_start, period_end, closing, judged, known, False)

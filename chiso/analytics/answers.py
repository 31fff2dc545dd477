"""What analytics answers, as plain values: the status words (`Status`, their labels in
Vietnamese and English, the vocabulary of a moment) and one target's evaluated status
(`TargetStatus`).

Kept apart from the arithmetic (`status`, `evaluate`: Polars) and the reads (`service`:
SQLAlchemy) so that `chiso status` can print a stored answer (`snapshot`) without loading
either: the committee's first question is answered in a terminal in a fraction of a second
(issue 13). `status` and `service` re-export these names; callers keep importing them there.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any


class Status(enum.StrEnum):
    """A target's status *of the moment*: while its date is ahead one of the first five;
    once the evaluation date has reached the target date (the year or campaign is over)
    one of the year-end words — met, missed, not_implemented — or no_data (both moments)."""

    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    MET = "met"
    MISSED = "missed"
    NOT_IMPLEMENTED = "not_implemented"

    def label(self, locale: str = "vi") -> str:
        return STATUS_LABELS[self][0 if locale == "vi" else 1]

    @property
    def css_class(self) -> str:
        """The class that colours this status (chiso.css): met shares the achieved
        colour, missed the off-track colour, not_implemented has its own."""
        return f"status-{self.value}"

    @property
    def closed(self) -> bool:
        """True for the year-end words (met, missed, not_implemented)."""
        return self in (Status.MET, Status.MISSED, Status.NOT_IMPLEMENTED)

    @classmethod
    def of_moment(cls, closed: bool) -> list[Status]:
        """The vocabulary of one moment, in display order."""
        return list(CLOSED_STATUSES if closed else OPEN_STATUSES)


STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.ACHIEVED: ("Đã đạt", "Achieved"),
    Status.ON_TRACK: ("Đúng tiến độ", "On track"),
    Status.AT_RISK: ("Có nguy cơ chậm", "At risk"),
    Status.OFF_TRACK: ("Chậm tiến độ", "Off track"),
    Status.NO_DATA: ("Chưa có số liệu", "No data"),
    Status.MET: ("Đạt", "Met"),
    Status.MISSED: ("Không đạt", "Missed"),
    Status.NOT_IMPLEMENTED: ("Chưa triển khai", "Not implemented"),
}
OPEN_STATUSES = (Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK,
                 Status.NO_DATA)
CLOSED_STATUSES = (Status.MET, Status.MISSED, Status.NOT_IMPLEMENTED, Status.NO_DATA)


class YearEndResult(enum.StrEnum):
    """The year-end words alone (kept for callers written before `Status` spoke them;
    new code uses `Status.MET` etc.)."""

    MET = "met"
    MISSED = "missed"
    NOT_IMPLEMENTED = "not_implemented"
    NO_DATA = "no_data"

    def label(self, locale: str = "vi") -> str:
        return Status(self.value).label(locale)


def vocabulary(closed_flags: Iterable[bool]) -> list[Status]:
    """The statuses to count for a set of targets: the year-end words when every target is
    closed, the running ones when none is, both (running first) when a campaign ended
    inside a running year."""
    flags = set(closed_flags)
    if flags == {True}:
        return list(CLOSED_STATUSES)
    if True in flags:
        return [*OPEN_STATUSES, *CLOSED_STATUSES[:-1]]
    return list(OPEN_STATUSES)


@dataclass(frozen=True)
class TargetStatus:
    """One target of a plan, evaluated at an as-of date."""

    target_id: int
    plan_code: str
    indicator_code: str
    indicator_name_vi: str
    indicator_name_en: str
    pillar_code: str | None
    unit_code: str
    year: int
    comparator: str
    target_value: float
    baseline_value: float | None
    actual: float | None
    expected: float | None
    projected: float | None
    status: Status
    progress_ratio: float | None
    decimals: int
    unit_vi: str
    unit_en: str
    direction: str
    target_date: dt.date
    # Beyond the contract: what the screens and the report also show.
    value_high: float | None = None
    as_of: dt.date | None = None
    projected_year_end: float | None = None
    year_end: str | None = None  # = status once closed (met | missed | not_implemented | no_data)
    not_aggregatable: int = 0  # sub-unit figures left out of a ratio of sums (no parts)
    indicator_id: int = 0
    unit_id: int = 0
    # The evaluation date has reached the target date: `status` is a year-end word.
    closed: bool = False
    # A figure the demo invented (source "demo") is behind the actual.
    illustrative: bool = False
    # For a flow (a yearly total built from monthly figures): the date its year-to-date
    # actual is judged at, against the share of the target expected by then (null for
    # stocks and ratios, judged as levels).
    year_to_date: dt.date | None = None
    # The actual rests on an estimate (ước) because no official figure exists yet for some
    # figure behind it; once the official figure is stored, the status uses it.
    estimate: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("target_date", "as_of", "year_to_date"):
            data[key] = data[key].isoformat() if data[key] else None
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetStatus:
        """The inverse of `to_dict` (a stored answer read back)."""
        given = dict(data)
        for key in ("target_date", "as_of", "year_to_date"):
            given[key] = dt.date.fromisoformat(given[key]) if given[key] else None
        given["status"] = Status(given["status"])
        return cls(**given)

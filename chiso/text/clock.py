"""Vietnam time, in one place: the time zone is the setting `CHISO_TIME_ZONE`
(Asia/Ho_Chi_Minh, UTC+7, no daylight saving), and "today" is `CHISO_TODAY` when it is
pinned (reproducible demos, reports and tests), else today's date in that zone — not the
server's, which is often UTC: at 06:30 in Lạng Sơn a UTC server still says yesterday.

Timestamps are stored in UTC; `to_vn` converts one for people and `iso_instant` writes one
for programs (a naive timestamp is taken as UTC, which is what the database gives back on
SQLite).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from chiso.settings import get_settings


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def vn_zone() -> ZoneInfo:
    """The province's time zone (setting `CHISO_TIME_ZONE`)."""
    return _zone(get_settings().time_zone)


def to_vn(moment: dt.datetime) -> dt.datetime:
    """`moment` in Vietnam time; naive timestamps are UTC (as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(vn_zone())


def to_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` as an aware UTC instant; naive timestamps are UTC (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def iso_instant(moment: dt.datetime | None) -> str | None:
    """A stored instant for JSON, always with its offset ('2025-10-10T23:30:00+00:00'):
    SQLite gives it back naive, and a client reads an ISO time without an offset as its
    own local time — 7 hours off in Vietnam."""
    return None if moment is None else to_utc(moment).isoformat()


def vn_now() -> dt.datetime:
    """Now, in Vietnam time."""
    return dt.datetime.now(vn_zone())


def vn_today() -> dt.date:
    """Today in Vietnam (or the pinned `CHISO_TODAY`): `Settings.current_date()`, which
    every domain already asks, reads the same zone."""
    return get_settings().current_date()

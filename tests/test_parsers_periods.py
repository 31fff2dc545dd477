"""One parser for every spelling of a period, one label for people, and one rule that
places a date in a period under a calendar — the same answer from Python, from a polars
column and from SQL (DuckDB and PostgreSQL), across the NĐ 09/2019 year boundary."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from chiso.errors import UserError
from chiso.periods import (
    Calendar,
    Period,
    PeriodError,
    PeriodType,
    month_key_sql,
    parse_period,
    parse_period_estimate,
    period_containing,
    period_containing_expr,
    period_label,
    period_of_cell,
    to_vn,
    vn_today,
    year_to_date,
)
from chiso.settings import reset_settings_cache

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SPELLINGS = {
    "2025Q3": ["2025Q3", "2025q3", "2025-Q3", "Quý III/2025", "quý 3 năm 2025", "Q3/2025",
               "Q3 2025", "QUÝ III - 2025", "Quy III/2025", "quý III năm 2025"],
    "202509": ["202509", "2025-09", "tháng 9/2025", "Tháng 09/2025", "tháng 9 năm 2025",
               "09/2025", "9/2025", "T9/2025", "September 2025", "Sep 2025"],
    "2025S1": ["2025S1", "H1 2025", "6 tháng đầu năm 2025", "6 THÁNG ĐẦU NĂM 2025"],
    "2025S2": ["2025S2", "6 tháng cuối năm 2025", "H2/2025"],
    "2025": ["2025", "năm 2025", "Năm 2025", "Year 2025", "12 tháng năm 2025"],
    "2025C09": ["2025C09", "9 tháng đầu năm 2025", "9 tháng năm 2025", "9 THÁNG ĐẦU NĂM 2025",
                "Lũy kế 9 tháng năm 2025", "luỹ kế 9 tháng 2025",
                "Lũy kế từ đầu năm đến tháng 9/2025", "lũy kế từ đầu năm 2025 đến hết tháng 9",
                "lũy kế đến tháng 09/2025", "January–September 2025", "Jan-Sep 2025",
                "YTD September 2025", "ytd 2025-09"],
    "2025C11": ["11 tháng đầu năm 2025", "Lũy kế 11 tháng năm 2025",
                "lũy kế từ đầu năm đến hết tháng 11/2025", "2025c11"],
    "2025Q1": ["3 tháng đầu năm 2025"],
}


@pytest.mark.parametrize(("expected", "spelling"),
                         [(e, s) for e, spellings in SPELLINGS.items() for s in spellings])
def test_every_spelling_people_write_is_read(expected: str, spelling: str) -> None:
    assert parse_period(spelling).id == expected


@pytest.mark.parametrize("text", ["2025Q5", "13/2025", "Quý V/2025", "15/09/2025", "", "quý",
                                  "2025-13", "13 tháng đầu năm 2025", "2025C13",
                                  "Ước thực hiện năm 2025", "lũy kế 9 tháng"])
def test_what_is_not_a_period_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(text)
    assert isinstance(refused.value, UserError) and refused.value.status == 422
    assert "Quý III/2025" in refused.value.message_vi
    assert "Q3/2025" in refused.value.message_en


def _any_period(year: int, kind: PeriodType, index: int) -> Period:
    if kind is PeriodType.CUMULATIVE:
        return Period.cumulative(year, index)
    return Period(year, kind, min(index, 12 // kind.months))


periods = st.builds(_any_period, st.integers(1990, 2100), st.sampled_from(list(PeriodType)),
                    st.integers(1, 12))


@FAST
@given(periods)
def test_labels_people_read_parse_back(period: Period) -> None:
    assert parse_period(period_label(period, "vi")) == period
    assert parse_period(period_label(period.id, "en")) == period


def test_a_cumulative_span_has_one_id_whatever_its_length() -> None:
    """Lũy kế 3, 6 and 12 months are the first quarter, the first half and the year: one
    figure, one id, so a '6 tháng đầu năm' value and an 'lũy kế 6 tháng' one never coexist."""
    assert [Period.cumulative(2025, n).id for n in (1, 2, 3, 6, 9, 11, 12)] == [
        "202501", "2025C02", "2025Q1", "2025S1", "2025C09", "2025C11", "2025"]
    with pytest.raises(ValueError):
        Period(2025, PeriodType.CUMULATIVE, 6)
    nine = parse_period("9 tháng đầu năm 2025")
    assert (nine.start(), nine.end()) == (dt.date(2025, 1, 1), dt.date(2025, 9, 30))
    assert (nine.start(Calendar.CUTOFF_ND09), nine.end(Calendar.CUTOFF_ND09)) == (
        dt.date(2024, 12, 15), dt.date(2025, 9, 14))
    assert nine.contains(parse_period("2025Q3")) and nine.contains(parse_period("2025S1"))
    assert not nine.contains(parse_period("202510")) and parse_period("2025").contains(nine)
    assert nine.previous().id == "2024C09"  # cùng kỳ năm trước
    assert [m.id for m in nine.months()][-1] == "202509"


def test_year_to_date_needs_the_day_it_is_said_on() -> None:
    autumn = dt.date(2025, 10, 20)
    assert parse_period("Lũy kế từ đầu năm", as_of=autumn).id == "2025C10"
    assert parse_period("từ đầu năm đến nay", as_of=dt.date(2025, 6, 2)).id == "2025S1"
    assert parse_period("lũy kế 11 tháng", as_of=autumn).id == "2025C11"
    assert year_to_date(dt.date(2025, 9, 15), Calendar.CUTOFF_ND09).id == "2025C10"
    assert period_containing(dt.date(2025, 12, 20), "C", Calendar.CUTOFF_ND09).id == "202601"
    with pytest.raises(PeriodError) as refused:
        parse_period("Lũy kế từ đầu năm")
    assert "tháng 9/2025" in refused.value.message_vi


@pytest.mark.parametrize(("text", "period", "estimate"), [
    ("Ước thực hiện năm 2025", "2025", True), ("ƯỚC THỰC HIỆN 9 THÁNG 2025", "2025C09", True),
    ("ƯTH 11 tháng năm 2025", "2025C11", True), ("Ước tính: Quý IV/2025", "2025Q4", True),
    ("9 tháng đầu năm 2025 (ước)", "2025C09", True), ("Estimate 2025", "2025", True),
    ("Năm 2025", "2025", False), ("2025C09", "2025C09", False)])
def test_an_estimate_is_a_period_and_a_flag(text: str, period: str, estimate: bool) -> None:
    assert parse_period_estimate(text) == (parse_period(period), estimate)


def test_labels() -> None:
    assert period_label("2025C09") == "9 tháng đầu năm 2025"
    assert period_label("2025C11", "en") == "January–November 2025"
    assert period_label("2026Q3") == "Quý III/2026"
    assert period_label("2026Q3", "en") == "Q3 2026"
    assert period_label("Tháng 9/2026", "en") == "September 2026"
    assert period_label("2026S1") == "6 tháng đầu năm 2026"


BOUNDARY = [  # (date, calendar, month, quarter, year)
    (dt.date(2025, 12, 14), Calendar.CUTOFF_ND09, "202512", "2025Q4", "2025"),
    (dt.date(2025, 12, 15), Calendar.CUTOFF_ND09, "202601", "2026Q1", "2026"),
    (dt.date(2025, 12, 31), Calendar.CUTOFF_ND09, "202601", "2026Q1", "2026"),
    (dt.date(2026, 1, 15), Calendar.CUTOFF_ND09, "202602", "2026Q1", "2026"),
    (dt.date(2026, 3, 15), Calendar.CUTOFF_ND09, "202604", "2026Q2", "2026"),
    (dt.date(2025, 12, 15), Calendar.STANDARD, "202512", "2025Q4", "2025"),
    (dt.date(2025, 12, 31), Calendar.STANDARD, "202512", "2025Q4", "2025"),
    (dt.date(2026, 1, 15), Calendar.STANDARD, "202601", "2026Q1", "2026"),
]


@pytest.mark.parametrize(("day", "calendar", "month", "quarter", "year"), BOUNDARY)
def test_a_date_is_placed_by_its_calendar_across_the_year_boundary(
        day: dt.date, calendar: Calendar, month: str, quarter: str, year: str) -> None:
    assert period_containing(day, "M", calendar).id == month
    assert period_containing(day, PeriodType.QUARTER, calendar).id == quarter
    assert period_containing(day, PeriodType.YEAR, calendar).id == year
    assert period_of_cell(day.strftime("%d/%m/%Y"), calendar).id == month
    frame = pl.DataFrame({"day": [day]}).select(
        m=period_containing_expr("day", "M", calendar),
        q=period_containing_expr(pl.col("day"), "Q", calendar.value),
        y=period_containing_expr("day", "Y", pl.lit(calendar.value)))
    assert frame.row(0) == (month, quarter, year)


@FAST
@given(st.lists(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)), min_size=1,
                max_size=40),
       st.sampled_from(list(PeriodType)), st.sampled_from(list(Calendar)))
def test_the_column_rule_is_the_scalar_rule(days: list[dt.date], ptype: PeriodType,
                                            calendar: Calendar) -> None:
    column = pl.DataFrame({"day": days, "cal": [calendar.value] * len(days)})
    by_value = column.select(period_containing_expr("day", ptype, calendar)).to_series()
    by_row = column.select(period_containing_expr("day", ptype, pl.col("cal"))).to_series()
    expected = [period_containing(d, ptype, calendar).id for d in days]
    assert by_value.to_list() == expected == by_row.to_list()
    for day in days:
        period = period_containing(day, ptype, calendar)
        assert period.start(calendar) <= day <= period.end(calendar)


def _sql_months(connection_rows: list[tuple[object, ...]]) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in connection_rows]


DAYS = [d for d, *_ in BOUNDARY] + [dt.date(2024, 2, 29), dt.date(2024, 1, 1)]


def _expected_keys() -> list[tuple[int, int]]:
    return [(int(period_containing(d, "M", Calendar.CUTOFF_ND09).id),
             int(period_containing(d, "M").id)) for d in DAYS]


def test_month_keys_in_duckdb_sql_match() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, d TIMESTAMP)")
    con.executemany("INSERT INTO t VALUES (?, ?)",
                    [(i, dt.datetime.combine(d, dt.time(23, 30))) for i, d in enumerate(DAYS)])
    rows = con.execute(f"SELECT {month_key_sql('d', 'nd09')}, {month_key_sql('d')} "
                       "FROM t ORDER BY i").fetchall()
    assert _sql_months(rows) == _expected_keys()


def test_month_keys_in_sql_match_on_the_database(db_url: str) -> None:
    engine = create_engine(db_url)
    dialect = engine.dialect.name
    if dialect != "postgresql":
        pytest.skip("SQLite has no EXTRACT: month_key_sql is for DuckDB and PostgreSQL")
    values = ", ".join(f"(DATE '{d.isoformat()}', {i})" for i, d in enumerate(DAYS))
    with engine.connect() as connection:
        rows = connection.execute(text(
            f"SELECT {month_key_sql('d', Calendar.CUTOFF_ND09)}, {month_key_sql('d')} "
            f"FROM (VALUES {values}) AS t(d, i) ORDER BY i")).all()
    engine.dispose()
    assert _sql_months([tuple(r) for r in rows]) == _expected_keys()


def test_vietnam_time_is_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    late_utc = dt.datetime(2026, 3, 31, 18, 30)  # 01:30 on 1 April in Lạng Sơn
    assert to_vn(late_utc).date() == dt.date(2026, 4, 1)
    assert period_containing(to_vn(late_utc), "Q").id == "2026Q2"
    monkeypatch.setenv("CHISO_TIME_ZONE", "UTC")
    reset_settings_cache()
    try:
        assert to_vn(late_utc).date() == dt.date(2026, 3, 31)
        monkeypatch.setenv("CHISO_TODAY", "2026-04-01")
        reset_settings_cache()
        assert vn_today() == dt.date(2026, 4, 1)
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def test_today_is_the_provinces_date_not_the_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """UTC+14 and UTC−12 are 26 hours apart: whatever the server's clock says, their dates
    differ, and chiso's "today" follows the configured zone."""
    days = {}
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        monkeypatch.setenv("CHISO_TIME_ZONE", zone)
        reset_settings_cache()
        days[zone] = vn_today()
    monkeypatch.undo()
    reset_settings_cache()
    assert days["Pacific/Kiritimati"] > days["Etc/GMT+12"]

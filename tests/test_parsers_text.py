"""Property-based tests (hypothesis) of the text parsers every import goes through:
numbers, dates, names, periods. Arbitrary input either parses or raises the parser's own
error — never another exception — and what chiso writes, chiso reads back unchanged."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from chiso.errors import UserError
from chiso.periods import parse_period
from chiso.periods.core import Calendar, Period, PeriodError, PeriodType, period_containing
from chiso.text import (
    accent_free_key,
    format_date,
    format_number,
    iso_instant,
    name_key,
    nfc,
    parse_date,
)
from chiso.text.columns import parse_number_columns
from chiso.text.dates import DateError
from chiso.text.numbers import NumberError, NumberStyle, parse_float, parse_number

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxy"
              "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
number_like = st.text(alphabet="0123456789.,%+- \u00a0\u2212", max_size=20)
money = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2,
                    allow_nan=False, allow_infinity=False)


@FAST
@given(st.one_of(st.text(max_size=30), number_like))
def test_parse_number_raises_only_its_own_error(text: str) -> None:
    try:
        parsed = parse_number(text)
    except NumberError as exc:
        assert " / " in str(exc)  # bilingual
    else:
        assert parsed.value.is_finite()


@FAST
@given(money, st.sampled_from([0, 1, 2]))
@example(Decimal("1234567.89"), 2)
@example(Decimal("0.5"), 1)
def test_vietnamese_formatted_numbers_read_back(value: Decimal, decimals: int) -> None:
    rounded = round(value, decimals)
    text = format_number(float(rounded), decimals, "vi")
    parsed = parse_number(text)
    assert parsed.value == rounded, text
    assert parse_number(text + "%").percent
    assert parse_number(text + " %").value == rounded


@FAST
@given(money)
def test_english_grouping_reads_back_when_unambiguous(value: Decimal) -> None:
    text = f"{value:,.2f}"  # '1,234,567.89': both separators present, so unambiguous
    assume("," in text)
    assert parse_number(text).value == value


@FAST
@given(number_like, st.sampled_from(list(NumberStyle)))
@example("1.234", NumberStyle.DOT_DECIMAL)
@example("0,694", NumberStyle.DOT_DECIMAL)
@example("5.", NumberStyle.VI)
def test_vectorised_number_parser_agrees_with_the_scalar_one(text: str,
                                                             style: NumberStyle) -> None:
    """The import path parses whole columns at once; it must read every cell exactly as
    `parse_number` does (same value, or both refuse), in both styles."""
    frame = parse_number_columns(pl.DataFrame({"x": [text]}, schema={"x": pl.String}), ("x",),
                                 style)
    vectorised = frame["x"][0]
    try:
        scalar = parse_number(text, style)
    except NumberError:
        assert vectorised is None, (text, vectorised)
        return
    if not nfc(text):
        return
    assert vectorised is not None, text
    assert abs(vectorised - float(scalar.value)) <= 1e-9 * max(1.0, abs(vectorised)), text


STYLED = [  # text, Vietnamese reading, reading in a table that writes '.' as its decimal mark
    ("1.234", 1234, Decimal("1.234")), ("0.6949", Decimal("0.6949"), Decimal("0.6949")),
    ("0,6949", Decimal("0.6949"), Decimal("0.6949")), ("1,234", Decimal("1.234"), 1234),
    ("1.234,5", Decimal("1234.5"), Decimal("1234.5")),
    ("1,234.5", Decimal("1234.5"), Decimal("1234.5")), ("1.234.567", 1234567, 1234567),
    ("76,6%", Decimal("76.6"), Decimal("76.6")), ("65.5", Decimal("65.5"), Decimal("65.5")),
]


@pytest.mark.parametrize(("text", "vi", "dot"), STYLED)
def test_one_parser_with_an_explicit_policy_for_tables_that_use_a_decimal_point(
        text: str, vi: Decimal, dot: Decimal) -> None:
    """'1.234' is one thousand two hundred and thirty-four in a Vietnamese table and
    1,234 in a published DTI table that writes '0.6949': the caller says which."""
    assert parse_number(text).value == vi
    assert parse_number(text, NumberStyle.VI).value == vi
    assert parse_number(text, "dot").value == dot
    assert parse_float(text, "dot") == float(dot)
    assert parse_float("  ") is None
    with pytest.raises(NumberError) as refused:
        parse_float("mười hai")
    assert isinstance(refused.value, UserError) and refused.value.status == 422


def test_a_stored_instant_is_written_as_its_day_in_vietnam() -> None:
    """06:30 on 11/10 in Lạng Sơn is 23:30 on 10/10 in UTC, naive as SQLite gives it back."""
    stored = dt.datetime(2025, 10, 10, 23, 30)
    assert format_date(stored) == "11/10/2025"
    assert format_date(stored.replace(tzinfo=dt.UTC), "en") == "2025-10-11"
    assert format_date(dt.date(2025, 10, 10)) == "10/10/2025"  # a day stays that day


def test_a_stored_instant_is_written_for_programs_with_its_offset() -> None:
    stored = dt.datetime(2025, 10, 10, 23, 30)
    assert iso_instant(stored) == "2025-10-10T23:30:00+00:00"
    vietnam = dt.timezone(dt.timedelta(hours=7))
    assert iso_instant(dt.datetime(2025, 10, 11, 6, 30, tzinfo=vietnam)) == \
        "2025-10-10T23:30:00+00:00"
    assert iso_instant(None) is None


@FAST
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_written_date_form_reads_back(day: dt.date) -> None:
    assert parse_date(format_date(day, "vi")) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_date(f"{day.day:02d}-{day.month:02d}-{day.year}") == day
    assert parse_date(f"Lạng Sơn, ngày {day.day} tháng {day.month} năm {day.year}") == day
    nfd = unicodedata.normalize("NFD", f"ngày {day.day:02d} tháng {day.month:02d} năm "
                                       f"{day.year}")
    assert parse_date(nfd) == day


@FAST
@given(st.text(max_size=40))
def test_parse_date_raises_only_its_own_error(text: str) -> None:
    try:
        parse_date(text)
    except DateError as exc:
        assert " / " in str(exc)


@FAST
@given(st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " \t\u00a0", max_size=40))
def test_name_keys_ignore_normalisation_case_and_spacing(name: str) -> None:
    assert nfc(nfc(name)) == nfc(name)
    decomposed = unicodedata.normalize("NFD", name)
    assert nfc(decomposed) == nfc(name)
    assert name_key(decomposed.upper()) == name_key(name.lower())
    assert name_key("  " + name + "\u00a0") == name_key(name)
    key = accent_free_key(name)
    assert key.isascii(), key


def test_tone_placement_variants_match() -> None:
    for old, new in (("Thanh Hoá", "Thanh Hóa"), ("Uỷ ban", "Ủy ban"), ("thuỷ", "thủy")):
        assert name_key(old) == name_key(new)


periods = st.one_of(
    st.builds(Period, st.integers(1990, 2100), st.just(PeriodType.YEAR), st.just(1)),
    st.builds(Period, st.integers(1990, 2100), st.just(PeriodType.HALF), st.integers(1, 2)),
    st.builds(Period, st.integers(1990, 2100), st.just(PeriodType.QUARTER),
              st.integers(1, 4)),
    st.builds(Period, st.integers(1990, 2100), st.just(PeriodType.MONTH),
              st.integers(1, 12)),
)


@FAST
@given(periods)
def test_periods_read_back_and_are_consistent(period: Period) -> None:
    assert parse_period(period.id) == period
    assert parse_period(f"  {period.id.lower()} ") == period
    for calendar in Calendar:
        assert period.start(calendar) <= period.end(calendar)
    months = period.months()
    assert len(months) == period.type.months
    assert all(period.contains(m) for m in months)
    assert period_containing(period.start(), period.type) == period
    assert period_containing(period.end(), period.type) == period


@FAST
@given(st.text(max_size=12))
def test_parse_period_raises_only_its_own_error(text: str) -> None:
    try:
        parse_period(text)
    except PeriodError as exc:
        assert " / " in str(exc)


@pytest.mark.parametrize(("value", "decimals", "unit", "locale", "shown"), [
    (76.6, 1, "%", "vi", "76,6%"),
    (14.0, 2, "% GRDP", "vi", "14,00 % GRDP"),
    (14.0, 2, "% of GRDP", "en", "14.00 % of GRDP"),
    (1234.0, 0, "hồ sơ", "vi", "1.234 hồ sơ"),
    (12.5, 1, "", "vi", "12,5"),
    (None, 1, "%", "vi", "–"),
])
def test_a_figure_is_shown_with_its_unit_the_same_on_every_surface(
        value: float | None, decimals: int, unit: str, locale: str, shown: str) -> None:
    """The overview, the report and `chiso status` show a target of 14 '% GRDP' alike
    (the CLI printed '≥ 14,00' without its unit)."""
    from chiso.text import format_measure

    assert format_measure(value, decimals, unit, locale) == shown

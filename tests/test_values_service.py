"""Saving values: versions, stale edits, ratios from parts, the built-in rules, bulk upsert."""

from __future__ import annotations

from contextlib import contextmanager

import polars as pl
import pytest
from sqlalchemy import func, select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.db import new_session
from chiso.text import parse_number
from chiso.text.columns import cell_text, parse_number_columns, parse_number_expr
from chiso.values import service as values_service
from chiso.values.models import DataValue, DataValueVersion
from chiso.values.service import (
    StaleVersion,
    ValueRejected,
    delete_value,
    save_value,
    upsert_values,
    value_history,
)


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    built = build_world(session)
    session.commit()
    return built


def test_save_then_update_keeps_both_versions(session, world) -> None:
    first = save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                       period="2025Q1", value="1.234", access=Access.system(session, "test"))
    session.commit()
    assert first.value == 1234 and first.version == 1
    again = save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                       period="2025Q1", value=1300, comment="Sửa theo báo cáo",
                       expected_version=1, access=Access.system(session, "test"))
    session.commit()
    history = value_history(session, again.id)
    assert [(v.version, v.value, v.change) for v in history] == [
        (1, 1234.0, "insert"), (2, 1300.0, "update")]
    assert again.version == 2 and again.comment == "Sửa theo báo cáo"
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["value.create", "value.update"]


@contextmanager
def _overtaken(session, db_url: str, world):  # type: ignore[no-untyped-def]
    """A figure stored at 10, and a write guard that, the first time it is asked, commits
    another save of it (20) from a second session: between a save's read and its write, as
    two officers saving at the same moment do on SQLite (`chiso bench load --write-pause
    0`). Yields the figure's keys and its row."""
    kwargs = dict(unit_id=world.commune_a.id, indicator_id=world.count.id, period="2025")
    row = save_value(session, value=10, **kwargs, access=Access.system(session, "test"))
    session.commit()
    calls = []

    def guard(_session, _keys, _access) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            other = new_session(db_url)
            save_value(other, value=20, **kwargs, access=Access.system(other, "other"))
            other.commit()
            other.close()

    values_service.WRITE_GUARDS.append(guard)
    try:
        yield kwargs, row
    finally:
        values_service.WRITE_GUARDS.remove(guard)


def _versions(session, row) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    return [(v.version, v.value) for v in value_history(session, row.id)]


@pytest.mark.parametrize("expected", [None, 1])
def test_a_save_overtaken_between_read_and_write(session, world, db_url, is_postgres,
                                                 expected) -> None:
    if is_postgres:
        pytest.skip("PostgreSQL locks the row (FOR UPDATE): the other save waits instead")
    with _overtaken(session, db_url, world) as (kwargs, row):
        if expected is None:  # "this figure now": applied on top of the other save
            save_value(session, value=30, **kwargs, access=Access.system(session, "test"))
            session.commit()
        else:  # a change to version 1, which is no longer current: refused
            with pytest.raises(StaleVersion):
                save_value(session, value=30, expected_version=expected, **kwargs,
                           access=Access.system(session, "test"))
            session.rollback()
    if expected is None:
        assert _versions(session, row) == [(1, 10.0), (2, 20.0), (3, 30.0)]
    else:
        assert _versions(session, row) == [(1, 10.0), (2, 20.0)]


def test_an_import_overtaken_stores_nothing_and_says_so(session, world, db_url) -> None:
    with _overtaken(session, db_url, world) as (kwargs, row):
        with pytest.raises(StaleVersion) as refused:
            upsert_values(session, [{**kwargs, "value": 30}], source="import",
                          access=Access.system(session, "test"))
        session.rollback()
    said = str(refused.value)
    assert "None" not in said and "chưa có gì được lưu" in said and "nothing was stored" in said
    assert _versions(session, row) == [(1, 10.0), (2, 20.0)]


def test_saving_the_same_figure_again_writes_no_version(session, world) -> None:
    kwargs = dict(unit_id=world.commune_a.id, indicator_id=world.count.id, period="2025")
    row = save_value(session, value=12, **kwargs, access=Access.system(session, "test"))
    save_value(session, value="12", **kwargs, access=Access.system(session, "test"))
    session.commit()
    assert [v.version for v in value_history(session, row.id)] == [1]


def test_stale_expected_version_is_refused_and_nothing_is_lost(session, world) -> None:
    kwargs = dict(unit_id=world.commune_a.id, indicator_id=world.count.id, period="202503")
    row = save_value(session, value=10, **kwargs, access=Access.system(session, "test"))
    save_value(session, value=11, expected_version=1, **kwargs,
               access=Access.system(session, "test"))
    session.commit()
    with pytest.raises(StaleVersion) as refused:
        save_value(session, value=99, expected_version=1, **kwargs,
                   access=Access.system(session, "test"))
    session.rollback()
    assert "phiên bản 2" in str(refused.value) and "version 2" in str(refused.value)
    session.refresh(row)
    assert (row.value, row.version) == (11.0, 2)
    assert [v.value for v in value_history(session, row.id)] == [10.0, 11.0]


def test_ratio_value_is_computed_from_its_parts(session, world) -> None:
    row = save_value(session, unit_id=world.commune_a.id, indicator_id=world.ratio.id,
                     period="2025Q2", numerator="766", denominator="1.000",
                     access=Access.system(session, "test"))
    assert row.value == pytest.approx(76.6)
    assert (row.numerator, row.denominator) == (766.0, 1000.0)


def test_percentage_text_alone_is_accepted(session, world) -> None:
    row = save_value(session, unit_id=world.commune_b.id, indicator_id=world.ratio.id,
                     period="Quý III/2025", value="76,6%", access=Access.system(session, "test"))
    assert row.value == pytest.approx(76.6) and row.period == "2025Q3"
    assert row.numerator is None


@pytest.mark.parametrize(("fields", "rule"), [
    ({"numerator": 5, "denominator": 0}, "denominator_positive"),
    ({"numerator": 120, "denominator": 100}, "numerator_le_denominator"),
    ({"value": "140%"}, "percent_range"),
    ({"numerator": 5}, "parts_incomplete"),
    ({"value": "abc"}, "number_format"),
    ({}, "value_missing"),
    ({"numerator": 50, "denominator": 100, "value": 70}, "value_mismatch"),
])
def test_ratio_rules_refuse_bad_input(session, world, fields, rule) -> None:
    with pytest.raises(ValueRejected) as refused:
        save_value(session, unit_id=world.commune_a.id, indicator_id=world.ratio.id,
                   period="2025", **fields, access=Access.system(session, "test"))
    assert rule in {i["rule"] for i in refused.value.issues}
    assert " / " in str(refused.value)  # Vietnamese, then English
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0


def test_count_must_not_be_negative_and_period_must_parse(session, world) -> None:
    with pytest.raises(ValueRejected, match="không được âm"):
        save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                   period="2025", value=-3, access=Access.system(session, "test"))
    with pytest.raises(ValueRejected, match="kỳ báo cáo '2025Q5' không hợp lệ"):
        save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                   period="2025Q5", value=3, access=Access.system(session, "test"))
    # A word where a number belongs is quoted as typed, spaces and all.
    with pytest.raises(ValueRejected, match="'mười hai' không phải là số"):
        save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                   period="2025", value=" mười hai ", access=Access.system(session, "test"))


def test_unit_must_be_valid_during_the_period(session, world) -> None:
    with pytest.raises(ValueRejected, match="không có hiệu lực trong kỳ 202509"):
        save_value(session, unit_id=world.old_commune.id, indicator_id=world.count.id,
                   period="202509", value=3, access=Access.system(session, "test"))
    row = save_value(session, unit_id=world.old_commune.id, indicator_id=world.count.id,
                     period="202506", value=3, access=Access.system(session, "test"))
    assert row.value == 3


def test_delete_is_a_new_version_and_saving_restores(session, world) -> None:
    kwargs = dict(unit_id=world.commune_a.id, indicator_id=world.count.id, period="2024")
    row = save_value(session, value=7, **kwargs, access=Access.system(session, "test"))
    delete_value(session, row.id, comment="Nhập nhầm", access=Access.system(session, "test"))
    session.commit()
    session.refresh(row)
    assert row.deleted and row.version == 2
    save_value(session, value=7, **kwargs, access=Access.system(session, "test"))
    session.commit()
    assert [v.change for v in value_history(session, row.id)] == ["insert", "delete",
                                                                   "restore"]


def test_upsert_inserts_updates_and_leaves_unchanged(session, world) -> None:
    rows = [
        {"unit_id": world.commune_a.id, "indicator_id": world.ratio.id, "period": "2025Q1",
         "numerator": 30, "denominator": 40, "value": None},
        {"unit_id": world.commune_b.id, "indicator_id": world.ratio.id, "period": "2025Q1",
         "numerator": 10, "denominator": 40, "value": None},
    ]
    assert upsert_values(session, rows, source="demo",
                         access=Access.system(session, "test")) == (2, 0, 0)
    rows[1]["numerator"] = 20
    summary = upsert_values(session, pl.DataFrame(rows), source="demo",
                            access=Access.system(session, "test"))
    session.commit()
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    values = dict(session.execute(select(DataValue.unit_id, DataValue.value)).all())
    assert values == {world.commune_a.id: 75.0, world.commune_b.id: 50.0}
    assert session.scalar(select(func.count()).select_from(DataValueVersion)) == 3


def test_upsert_rejects_a_bad_row_and_writes_nothing(session, world) -> None:
    rows = [
        {"unit_id": world.commune_a.id, "indicator_id": world.ratio.id, "period": "2025",
         "numerator": 3, "denominator": 4},
        {"unit_id": world.commune_b.id, "indicator_id": world.ratio.id, "period": "2025",
         "numerator": 5, "denominator": 4},
    ]
    with pytest.raises(ValueRejected, match="dòng 2"):
        upsert_values(session, rows, source="demo", access=Access.system(session, "test"))
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0


def test_vectorised_number_parser_agrees_with_parse_number() -> None:
    samples = ["76,6%", "1.234.567", "1.234.567,89", "12,5 %", "1,234,567", "76.6", "0.125",
               "1.234", "-5", "1,234.5", "0.500", "+3", "\u22124,5", "0", "100%"]
    expected = [float(parse_number(s).value) for s in samples]
    frame = pl.DataFrame({"a": samples})
    assert frame.select(parse_number_expr("a")).to_series().to_list() == expected
    staged = parse_number_columns(frame, ("a",))
    assert staged.get_column("a").to_list() == expected
    assert staged.get_column("a_percent").to_list() == [s.endswith("%") for s in samples]
    bad = pl.DataFrame({"a": ["abc", "1.2.3", "1,23,4", "1e5", "."]})
    assert bad.select(parse_number_expr("a")).to_series().null_count() == 5
    assert parse_number_columns(bad, ("a",)).get_column("a").null_count() == 5


@pytest.mark.parametrize("number", [1.234, 1234567.0, 76.6, 0.1 + 0.2, 1e-7, 12345678.125])
def test_typed_cells_read_back_to_the_same_float(number: float) -> None:
    text = cell_text(number)
    assert pl.DataFrame({"a": [text]}).select(parse_number_expr("a")).item() == number

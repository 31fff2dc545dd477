"""The set-based bulk path at import size: 20,000 rows write exactly one version row each,
re-running writes nothing, and a partial change writes versions only for what changed."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import func, insert, select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue, DataValueVersion
from chiso.values.service import upsert_values

COMMUNES = 500
MONTHS = [f"{2024 + m // 12}{m % 12 + 1:02d}" for m in range(20)]  # 202401 … 202508
# Text the staging step must carry unchanged (quotes, a newline, PostgreSQL's null marker).
AWKWARD_COMMENT = 'Ghi chú "trích dẫn", dòng\nmới \\N'


@pytest.fixture
def rows(session) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    world = build_world(session)
    session.execute(insert(OrgUnit), [
        {"code": f"{7000 + i}", "name": f"Xã {i}", "kind": "xa",
         "parent_id": world.province.id, "valid_from": dt.date(1900, 1, 1)}
        for i in range(COMMUNES)])
    session.commit()
    unit_ids = session.scalars(select(OrgUnit.id).where(OrgUnit.code >= "7000")).all()
    units = pl.DataFrame({"unit_id": unit_ids}, schema={"unit_id": pl.Int64})
    periods = pl.DataFrame({"period": MONTHS})
    ratio = units.join(periods, how="cross").with_columns(
        indicator_id=pl.lit(world.ratio.id, pl.Int64),
        denominator=(pl.col("unit_id") % 97 + 10).cast(pl.Float64),
        value=pl.lit(None, pl.Float64)).with_columns(
        numerator=(pl.col("denominator") - 3))
    count = units.join(periods, how="cross").with_columns(
        indicator_id=pl.lit(world.count.id, pl.Int64),
        numerator=pl.lit(None, pl.Float64), denominator=pl.lit(None, pl.Float64),
        value=(pl.col("unit_id") * 3).cast(pl.Float64))
    columns = ["unit_id", "indicator_id", "period", "numerator", "denominator", "value"]
    frame = pl.concat([ratio.select(columns), count.select(columns)])
    return frame.with_columns(comment=pl.when(pl.col("unit_id") % 50 == 0)
                              .then(pl.lit(AWKWARD_COMMENT)).otherwise(pl.lit(None)))


def _versions(session) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    v = DataValueVersion
    return pl.DataFrame(session.execute(select(
        v.data_value_id, v.version, v.change, v.numerator, v.value, v.comment, v.deleted)).all(),
        orient="row", schema={"data_value_id": pl.Int64, "version": pl.Int64,
                              "change": pl.String, "numerator": pl.Float64,
                              "value": pl.Float64, "comment": pl.String,
                              "deleted": pl.Boolean})


def _values(session) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    d = DataValue
    return pl.DataFrame(session.execute(select(
        d.id, d.unit_id, d.indicator_id, d.period, d.numerator, d.value, d.comment, d.version,
        d.period_start)).all(), orient="row", schema={
        "id": pl.Int64, "unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.String,
        "numerator": pl.Float64, "value": pl.Float64, "comment": pl.String,
        "version": pl.Int64, "period_start": pl.Date})


def test_twenty_thousand_rows_write_one_version_each_and_rerun_writes_nothing(
        session, rows) -> None:
    assert rows.height == 20_000
    assert upsert_values(session, rows, source="bulk-test",
                         access=Access.system(session, "test")) == (20_000, 0, 0)
    session.commit()
    values, versions = _values(session), _versions(session)
    assert values.height == 20_000 and versions.height == 20_000
    # Each value has exactly its first version, carrying the same figures.
    joined = values.join(versions, left_on="id", right_on="data_value_id", suffix="_v")
    assert joined.height == 20_000
    assert joined.filter(pl.col("version_v") != 1).is_empty()
    assert set(joined.get_column("change")) == {"insert"}
    assert (joined.get_column("value") == joined.get_column("value_v")).all()
    assert joined.filter(pl.col("comment") != pl.col("comment_v")).is_empty()
    assert values.filter(pl.col("comment") == AWKWARD_COMMENT).height == 400
    ratio_value = values.filter(pl.col("numerator").is_not_null()).head(1).row(0, named=True)
    source_row = rows.filter(pl.col("unit_id") == ratio_value["unit_id"],
                             pl.col("numerator").is_not_null()).row(0, named=True)
    assert ratio_value["value"] == pytest.approx(
        source_row["numerator"] / source_row["denominator"] * 100)
    assert values.filter(pl.col("period") == "202503").get_column("period_start").unique() \
        .to_list() == [dt.date(2025, 3, 1)]
    events = session.scalar(select(func.count()).select_from(AuditEvent))

    assert upsert_values(session, rows, source="bulk-test",
                         access=Access.system(session, "test")) == (0, 0, 20_000)
    session.commit()
    assert _versions(session).height == 20_000
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_partial_change_versions_only_the_changed_rows(session, rows) -> None:
    upsert_values(session, rows, source="bulk-test", access=Access.system(session, "test"))
    session.commit()
    changed = rows.with_columns(value=pl.when(
        (pl.col("numerator").is_null()) & (pl.col("period") == "202501"))
        .then(pl.col("value") + 1).otherwise(pl.col("value")))
    assert upsert_values(session, changed, source="bulk-test",
                         access=Access.system(session, "test")) == (0, COMMUNES, 19_500)
    session.commit()
    updates = _versions(session).filter(pl.col("version") == 2)
    assert updates.height == COMMUNES
    assert set(updates.get_column("change")) == {"update"}
    current = _values(session).join(updates, left_on="id", right_on="data_value_id",
                                    suffix="_v")
    assert (current.get_column("value") == current.get_column("value_v")).all()
    assert set(current.get_column("version")) == {2}


def test_existing_values_by_staged_keys_equal_the_chunked_lookup(session, rows) -> None:
    """A mid-sized batch finds its stored rows through a join on staged keys; the result is
    exactly the chunked IN lookup narrowed to the batch's keys (absent keys find nothing)."""
    from chiso.values.service import KEY, _existing_by_chunks, _existing_by_stage

    upsert_values(session, rows.filter(pl.col("period") < "202506"), source="bulk-test",
                  access=Access.system(session, "test"))
    session.commit()
    batch = rows.filter(pl.col("unit_id") % 7 == 0, pl.col("period") >= "202505")
    staged = _existing_by_stage(session, batch).sort("id")
    chunked = _existing_by_chunks(session, batch).join(batch, on=KEY, how="semi").sort("id")
    assert staged.height == batch.filter(pl.col("period") == "202505").height > 0
    assert staged.equals(chunked)


def test_a_recorded_at_in_vietnam_time_is_stored_as_that_instant(session) -> None:  # type: ignore[no-untyped-def]
    """A job's `recorded_at` given in Vietnam time (20:00 on 10/10 is 13:00 UTC) is that
    instant on both databases: SQLite keeps naive UTC text, so dropping the zone without
    converting stored 20:00 UTC, seven hours later."""
    from chiso.text import vn_zone

    world = build_world(session)
    at = dt.datetime(2025, 10, 10, 20, 0, tzinfo=vn_zone())
    upsert_values(session, [{"unit_id": world.commune_a.id, "indicator_id": world.count.id,
                             "period": "2025Q3", "numerator": None, "denominator": None,
                             "value": 12.0}],
                  source="job", access=Access.system(session, "test"), recorded_at=at)
    session.commit()
    stored = session.scalar(select(DataValueVersion.changed_at))
    assert stored is not None
    assert (stored if stored.tzinfo else stored.replace(tzinfo=dt.UTC)) == at, stored

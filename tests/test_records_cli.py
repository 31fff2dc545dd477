"""`chiso records …` commands and the synthetic feed generator, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from records_support import (
    august_records,
    feed_access,
    make_indicators,
    make_units,
    write_csv,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.cli.main import app
from chiso.records.feed import FeedRejected
from chiso.records.generator import generate
from chiso.records.models import RecordBatch
from chiso.values.models import DataValue

runner = CliRunner()


@pytest.fixture
def world(session: Session):  # type: ignore[no-untyped-def]
    units = make_units(session)
    make_indicators(session)
    session.commit()
    return units


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_generated_feed_is_deterministic_and_realistic(session, world, tmp_path):
    end = dt.date(2025, 3, 31)  # Tết 2025 fell in January
    first = generate(session, tmp_path / "a.parquet", province="20", months=3, seed=7,
                     rows=6000, end=end)
    again = generate(session, tmp_path / "b.parquet", province="20", months=3, seed=7,
                     rows=6000, end=end)
    a, b = pl.read_parquet(first.path), pl.read_parquet(again.path)
    assert a.equals(b) and first.months == [202501, 202502, 202503]
    assert first.procedures_path.name == "a.procedures.csv"
    # The communes that existed at the end of the feed receive its dossiers (not H01).
    assert set(a.get_column("unit_code")) == {"06001", "06002", "06200", "06300"}
    per_month = a.group_by(pl.col("received_at").dt.month().alias("m")).agg(
        pl.len().alias("n"), (pl.col("channel") == "truc_tuyen").mean().alias("online"))
    by_month = {r["m"]: r for r in per_month.iter_rows(named=True)}
    assert by_month[1]["n"] < 0.75 * by_month[2]["n"]  # the Tết dip
    assert by_month[3]["online"] > by_month[1]["online"]  # online share grows
    resent = a.group_by("dossier_code").agg(pl.len().alias("n"),
                                            pl.col("updated_at").n_unique().alias("u"))
    assert resent.filter(pl.col("n") == 2).height > 50
    assert resent.filter(pl.col("n") != pl.col("u")).is_empty()
    finished = a.filter(pl.col("finished_at").is_not_null())
    late = finished.filter(pl.col("finished_at") > pl.col("due_at")).height / finished.height
    assert 0.01 < late < 0.3
    assert a.filter(pl.col("finished_at").is_null()).height > 0


def test_cli_generate_ingest_recompute(world, tmp_path, monkeypatch):
    monkeypatch.setenv("CHISO_TODAY", "2025-09-30")
    from chiso.settings import reset_settings_cache

    reset_settings_cache()
    feed = tmp_path / "feed.csv"
    out = run("records", "generate", "--province", "20", "--months", "4", "--seed", "1",
              "--rows", "3000", "-o", str(feed))
    out = "".join(out.split("\n"))
    assert "bản ghi / records" in out and "feed.procedures.csv" in out
    out = run("records", "ingest", str(feed), "--procedures",
              str(tmp_path / "feed.procedures.csv"))
    assert "lô / batch 1" in out and "4 tháng / months" in out
    assert "đã nạp trước đây" in run("records", "ingest", str(feed))
    out = run("records", "recompute", "--unit", "20", "--from", "2025-06", "--to", "2025-09")
    assert "4 tháng / months" in out and "cập nhật 0 updated" in out
    assert "feed.csv" in run("records", "batches")

    from chiso.db import new_session

    with new_session() as db:
        assert db.scalar(select(func.count()).select_from(RecordBatch)) == 1
        assert db.scalar(select(func.count()).select_from(DataValue).where(
            DataValue.source == "records")) > 0


def test_cli_refuses_a_bad_file_and_says_where(world, tmp_path):
    run("records", "procedures", str(_procedures(tmp_path)))
    rows = august_records()
    rows[1]["digitised"] = "maybe"
    result = runner.invoke(app, ["records", "ingest", str(write_csv(tmp_path / "x.csv", rows))])
    # A UserError: the `chiso` program prints it and exits with code 2.
    assert isinstance(result.exception, FeedRejected), result.output
    text = str(result.exception)
    assert "Tệp 'x.csv', dòng 3, cột 'digitised': phải là có/không (1/0)" in text
    assert "nothing from this file was stored" in text


def _procedures(tmp_path: Path) -> Path:
    from records_support import write_procedures

    return write_procedures(tmp_path / "procedures.csv")


@pytest.mark.slow
def test_every_records_command_has_an_example():
    for command in ("procedures", "ingest", "generate", "recompute", "batches"):
        assert "Example: chiso records" in run("records", command, "--help")


def test_generated_feed_rolls_up_consistently(session, world):
    from chiso.indicators.models import Indicator
    from chiso.records.service import load_generated_feed

    result = load_generated_feed(session, access=feed_access(session), province="20", months=3,
                                 seed=3, rows=4000,
                                 end=dt.date(2025, 9, 30))
    session.commit()
    assert result.rows_stored > 4000 * 0.95 and result.months == [202507, 202508, 202509]
    rows = session.execute(
        select(Indicator.code, DataValue.unit_id, DataValue.period, DataValue.numerator,
               DataValue.denominator)
        .join(Indicator, Indicator.id == DataValue.indicator_id)).all()
    frame = pl.DataFrame([tuple(r) for r in rows], orient="row",
                         schema=["code", "unit_id", "period", "num", "den"])
    province = world["20"].id
    communes = frame.filter(pl.col("unit_id") != province).group_by("code", "period").agg(
        pl.col("num").sum(), pl.col("den").sum())
    top = frame.filter(pl.col("unit_id") == province).join(communes, on=["code", "period"],
                                                           suffix="_sum")
    additive = top.filter(pl.col("code") != "CQS.DVCTT_PHAT_SINH_HS")
    assert additive.height == 18
    assert (additive["num"] == additive["num_sum"]).all()
    assert (additive["den"] == additive["den_sum"]).all()
    distinct = top.filter(pl.col("code") == "CQS.DVCTT_PHAT_SINH_HS")
    # Shared services are counted once for the province: fewer than the communes' sum.
    assert (distinct["num"] < distinct["num_sum"]).all()


def test_a_year_sent_month_by_month_dates_each_months_figures_when_they_came(session, world):
    """The demo's live records (`load_generated_months`): each month's batch knows nothing
    after it, its values' versions are dated when it was sent, and ingesting every month in
    order leaves each dossier as the whole year's feed has it."""
    from chiso.records.generator import monthly_batches
    from chiso.records.service import load_generated_months
    from chiso.values.models import DataValueVersion

    sent = {202501: dt.datetime(2025, 2, 5, 1, tzinfo=dt.UTC),
            202502: dt.datetime(2025, 3, 5, 1, tzinfo=dt.UTC)}
    feed = load_generated_months(session, access=feed_access(session), province="20",
                                 year=2025, seed=5, sent_at=sent)
    session.commit()
    # February's batch finishes dossiers received in January: it recomputes January too.
    assert [b.months for b in feed.batches] == [[202501], [202501, 202502]]
    assert feed.dossiers > 0
    stamps = session.execute(select(DataValue.period, DataValueVersion.changed_at).join(
        DataValueVersion, DataValueVersion.data_value_id == DataValue.id)).all()
    seen: dict[str, set[dt.datetime]] = {}
    for period, changed in stamps:
        changed = changed.replace(tzinfo=dt.UTC) if changed.tzinfo is None else changed
        seen.setdefault(period, set()).add(changed)
    assert seen == {"202501": {sent[202501], sent[202502]}, "202502": {sent[202502]}}

    # A person never backdates what they send: only a system job may say when it came.
    from chiso.accounts.access import Access, PermissionDenied
    from chiso.records.service import ingest_file
    person = Access(session, None)
    with pytest.raises(PermissionDenied):
        ingest_file(session, Path(__file__), access=person, recorded_at=sent[202501])

    whole = pl.DataFrame({
        "dossier_code": ["A", "A", "B"],
        "received_at": [dt.datetime(2025, 1, 30)] * 2 + [dt.datetime(2025, 2, 2)],
        "finished_at": [None, dt.datetime(2025, 3, 3), dt.datetime(2025, 2, 4)],
        "updated_at": [dt.datetime(2025, 1, 30), dt.datetime(2025, 3, 3),
                       dt.datetime(2025, 2, 4)],
        "status": ["dang_xu_ly", "da_tra_ket_qua", "da_tra_ket_qua"],
        "electronic_result": [False, True, True],
    })
    batches = monthly_batches(whole)
    assert sorted(batches) == [202501, 202502, 202503]
    assert batches[202501]["status"].to_list() == ["dang_xu_ly"]  # not yet finished then
    latest = pl.concat(batches.values()).sort("updated_at").group_by(
        "dossier_code", maintain_order=True).last().sort("dossier_code")
    assert latest.to_dicts() == whole.sort("updated_at").group_by(
        "dossier_code", maintain_order=True).last().sort("dossier_code").to_dicts()

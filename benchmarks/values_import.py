"""`chiso bench import`: validate and store a generated long-format file (XLSX and CSV)
through chiso's importer, and the same file through a vectorised pandas read-parse-insert
baseline, on separate scratch SQLite databases; check the stored figures agree."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import typer

from benchmarks.core import (
    Comparison,
    Timing,
    assert_close,
    console,
    print_comparison,
    timed,
)

COMMUNES = 3321
INDICATORS = 30


def register_bench(bench: typer.Typer) -> None:
    bench.command("import")(import_bench)


def import_bench(
    rows: int = typer.Option(100_000, help="Số dòng của tệp sinh ra / Rows in the generated file."),
    fmt: str = typer.Option("both", "--format", help="Định dạng: xlsx, csv hoặc both (cả hai) / "
                                                     "xlsx, csv or both."),
    keep: Path = typer.Option(None, help="Giữ tệp và cơ sở dữ liệu tại đây / Keep the files and "
                                         "databases here."),
) -> None:
    """Đo thời gian kiểm tra và lưu một tệp dạng dài, so với pandas.

    Tệp ROWS dòng, tất cả hoặc không, có lịch sử phiên bản; pandas đọc và ghi cùng tệp.

    Time validating and storing a long-format file of ROWS rows (all-or-nothing, with
    version history) against a pandas read-and-insert baseline on the same file.

    Example: chiso bench import --rows 100000 --format both
    """
    with tempfile.TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        frame = _generated(rows)
        for suffix in (["xlsx", "csv"] if fmt == "both" else [fmt]):
            _bench_one(work / suffix, frame, suffix)


def _use_scratch_install(work: Path) -> None:
    from chiso.db import reset_engines
    from chiso.settings import reset_settings_cache

    os.environ["CHISO_DATA_DIR"] = str(work / "data")
    os.environ["CHISO_DATABASE_URL"] = f"sqlite:///{work / 'chiso.sqlite'}"
    reset_settings_cache()
    reset_engines()


def _generated(rows: int) -> pl.DataFrame:
    """Communes × indicators × months; half the indicators are percentage ratios."""
    index = pl.int_range(rows, eager=True)
    unit = index % COMMUNES
    indicator = (index // COMMUNES) % INDICATORS
    month = index // (COMMUNES * INDICATORS)
    rng = np.random.default_rng(7)
    denominator = rng.integers(50, 5000, rows)
    numerator = (denominator * rng.uniform(0.3, 1.0, rows)).astype(int)
    count = rng.integers(0, 2_000_000, rows)
    is_ratio = (indicator % 2 == 0).to_numpy()
    last_month = int(month.max() or 0)  # type: ignore[arg-type]
    months = [f"{2022 + m // 12}{m % 12 + 1:02d}" for m in range(last_month + 1)]
    return pl.DataFrame({
        "unit_code": (unit + 10000).cast(pl.String),
        "indicator_code": ("BENCH.I" + indicator.cast(pl.String)),
        "period": pl.Series(months)[month],
        "numerator": pl.Series(np.where(is_ratio, numerator, np.nan)).fill_nan(None),
        "denominator": pl.Series(np.where(is_ratio, denominator, np.nan)).fill_nan(None),
        "value": pl.Series(np.where(is_ratio, np.nan, count)).fill_nan(None),
    }).with_columns(source=pl.lit("bench"), comment=pl.lit(None, pl.String))


def _bench_one(work: Path, frame: pl.DataFrame, suffix: str) -> None:
    _fresh(work)
    path = work / f"so-lieu.{suffix}"
    with console.status(f"Tạo tệp / writing {path.name} ({frame.height:,} rows)…"):
        _write(frame, path)
    result = Comparison(f"Nhập {frame.height:,} dòng {suffix.upper()} / import "
                        f"{frame.height:,} rows from {suffix.upper()}")
    ours = _run_ours(work, path, result)
    theirs = _run_pandas(work, path, result)
    compared = assert_close("value", ours["value"].to_numpy(), theirs["value"].to_numpy())
    assert_close("numerator", ours["numerator"].to_numpy(), theirs["numerator"].to_numpy())
    versions = [_version_count(work / name) for name in ("chiso.sqlite", "pandas.sqlite")]
    assert versions[0] == versions[1] == len(ours), versions
    result.notes.append(f"{compared:,} giá trị khớp / values agree; both sides write one "
                        f"version row per value ({versions[1]:,}); chiso also writes the "
                        "import batch and an audit event")
    print_comparison(result)


def _fresh(work: Path) -> None:
    """An empty scratch folder for one run: `--keep DIR` run again on the same folder
    starts from new databases (the reference data would otherwise be inserted twice)."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("chiso.sqlite", "pandas.sqlite"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            (work / f"{name}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(work / "data", ignore_errors=True)


def _version_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM data_value_version").fetchone()[0]


def _write(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        # Vietnamese number style in the file, as users send it.
        frame.write_csv(path, decimal_comma=True, float_scientific=False)
    else:
        from chiso.values.exporter import write_export

        write_export(frame.with_columns(unit_name=pl.lit(None, pl.String),
                                        indicator_name=pl.lit(None, pl.String)), path)


def _setup_reference_data(session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from chiso.indicators.models import Indicator
    from chiso.units.models import OrgUnit, UnitKind

    session.add(UnitKind(code="xa", name_vi="Xã", name_en="Commune", level=3))
    session.flush()
    session.execute(insert(OrgUnit), [{"code": str(10000 + i), "name": f"Xã {i}",
                                       "kind": "xa", "valid_from": dt.date(1900, 1, 1)}
                                      for i in range(COMMUNES)])
    session.execute(insert(Indicator), [
        {"code": f"BENCH.I{i}", "name_vi": f"Chỉ tiêu {i}", "name_en": f"Indicator {i}",
         "kind": "ratio" if i % 2 == 0 else "count", "scale": 100.0 if i % 2 == 0 else 1.0,
         "decimals": 1, "unit_aggregation": "sum", "time_aggregation": "sum"}
        for i in range(INDICATORS)])


def _run_ours(work: Path, path: Path, result: Comparison) -> pd.DataFrame:
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.db.migrate import upgrade
    from chiso.values.importer import import_values

    _use_scratch_install(work)
    upgrade()
    with session_scope() as session:
        _setup_reference_data(session)
    _copy_database(work / "chiso.sqlite", work / "pandas.sqlite")
    clock = _StageClock()
    with session_scope() as session:
        outcome = import_values(session, path, access=Access.system(session, "bench"),
                                on_stage=clock.start)
        assert outcome.ok, outcome.errors[:3]
    clock.start("end")
    result.ours.extend(clock.timings())
    db = work / "chiso.sqlite"
    with sqlite3.connect(db) as conn:
        return pd.read_sql(
            "SELECT u.code AS unit_code, i.code AS indicator_code, v.period, v.numerator, "
            "v.value FROM data_value v JOIN org_unit u ON u.id = v.unit_id "
            "JOIN indicator i ON i.id = v.indicator_id "
            "ORDER BY u.code, i.code, v.period", conn)


def _vn_number(column: pd.Series) -> pd.Series:
    """The baseline's Vietnamese number parsing: drop '.' groups, ',' → '.'."""
    text = column.astype("string").str.strip()
    text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text.str.rstrip("%").astype(object), errors="coerce").astype(float)


STAGE_LABELS = {"read": "đọc / read", "validate": "kiểm tra / validate",
                "compare": "so sánh / compare", "store": "lưu / store"}


class _StageClock:
    """Wall and CPU time of each importer stage, from its `on_stage` reports."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []

    def start(self, stage: str) -> None:
        self.marks.append((stage, time.perf_counter(), time.process_time()))

    def timings(self) -> list[Timing]:
        return [Timing(STAGE_LABELS[name], wall_end - wall, cpu_end - cpu)
                for (name, wall, cpu), (_n, wall_end, cpu_end)
                in zip(self.marks, self.marks[1:], strict=False)]


def _copy_database(source: Path, target: Path) -> None:
    """The same migrated schema and reference data for the pandas side (backup API, so
    the WAL is included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _run_pandas(work: Path, path: Path, result: Comparison) -> pd.DataFrame:
    with sqlite3.connect(work / "pandas.sqlite") as conn:
        raw = timed(STAGE_LABELS["read"], result.pandas, lambda: _pandas_read(path))
        checked = timed(STAGE_LABELS["validate"], result.pandas,
                        lambda: _pandas_check(raw, path, conn))
        new = timed(STAGE_LABELS["compare"], result.pandas,
                    lambda: _pandas_new_rows(checked, conn))
        timed(STAGE_LABELS["store"], result.pandas, lambda: _pandas_insert(new, conn))
        return pd.read_sql(
            "SELECT u.code AS unit_code, i.code AS indicator_code, v.period, v.numerator, "
            "v.value FROM data_value v JOIN org_unit u ON u.id = v.unit_id "
            "JOIN indicator i ON i.id = v.indicator_id "
            "ORDER BY u.code, i.code, v.period", conn)


def _pandas_read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    return pd.read_excel(path, dtype=str, engine="calamine")


KEY = ["unit_id", "indicator_id", "period"]


def _pandas_check(raw: pd.DataFrame, path: Path, conn: sqlite3.Connection) -> pd.DataFrame:
    """Parse Vietnamese numbers, resolve codes, compute ratios, check the main rules and
    duplicates."""
    frame = raw[["unit_code", "indicator_code", "period", "source", "comment"]].copy()
    for name in ("numerator", "denominator", "value"):
        frame[name] = (_vn_number(raw[name]) if path.suffix == ".csv"
                       else pd.to_numeric(raw[name].astype(object), errors="coerce")
                       .astype(float))
    units = pd.read_sql("SELECT id AS unit_id, code AS unit_code FROM org_unit", conn)
    indicators = pd.read_sql("SELECT id AS indicator_id, code AS indicator_code, scale "
                             "FROM indicator", conn)
    frame = frame.merge(units, on="unit_code").merge(indicators, on="indicator_code")
    parts = frame["numerator"].notna() & frame["denominator"].notna()
    frame.loc[parts, "value"] = (frame.loc[parts, "numerator"] / frame.loc[parts, "denominator"]
                                 * frame.loc[parts, "scale"])
    bad = (frame["denominator"] <= 0) | (frame["numerator"] > frame["denominator"])
    assert not bad.any() and not frame.duplicated(KEY).any()
    return frame


def _pandas_new_rows(frame: pd.DataFrame, conn: sqlite3.Connection) -> pd.DataFrame:
    existing = pd.read_sql("SELECT unit_id, indicator_id, period FROM data_value", conn)
    new = frame.merge(existing, how="left", indicator=True, on=KEY)
    return new[new["_merge"] == "left_only"]


def _pandas_insert(new: pd.DataFrame, conn: sqlite3.Connection) -> None:
    start = pd.to_datetime(new["period"], format="%Y%m")
    rows = new[[*KEY, "numerator", "denominator", "value", "source"]].assign(
        period_type="M", period_start=start.dt.strftime("%Y-%m-%d"),
        period_end=(start + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d"),
        comment="", version=1, deleted=False,
        updated_at=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M:%S.%f"))
    before = conn.execute("SELECT coalesce(max(id), 0) FROM data_value").fetchone()[0]
    rows.to_sql("data_value", conn, if_exists="append", index=False, chunksize=10_000)
    # The same history chiso keeps: one first version row per new value, set-based.
    conn.execute(
        "INSERT INTO data_value_version (data_value_id, version, numerator, denominator, "
        "value, source, comment, deleted, change, changed_at) SELECT id, version, numerator, "
        "denominator, value, source, comment, deleted, 'insert', updated_at FROM data_value "
        "WHERE id > ?", (before,))
    conn.commit()

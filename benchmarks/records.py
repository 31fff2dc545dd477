"""`chiso bench records`: generate a national feed, ingest it, compute every indicator for
every unit and month, run the pandas version on the same stored data, check they agree,
then time an incremental batch of 10,000 records until its figures are visible.

Like for like: both sides start from the stored Parquet files and end with the same long
frame (unit, month, indicator, numerator, denominator); both get the same unit map (built
once from the database, timed on its own). Every step shows wall and CPU seconds (CPU of
all the process's threads: steadier than wall time on a shared machine).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import typer
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.core import Timing, assert_close, console
from benchmarks.records_report import report
from chiso.accounts.access import Access

END = dt.date(2025, 12, 31)
FEED = "records-feed"  # the bench ingests as the feed system does
T = TypeVar("T")


def register_bench(bench: typer.Typer) -> None:
    bench.command("records")(records)


def records(
    rows: int = typer.Option(1_000_000, help="Số hồ sơ sinh ra / Dossiers in the generated feed."),
    months: int = typer.Option(36, help="Số tháng hồ sơ / Months of records."),
    seed: int = typer.Option(1, help="Hạt giống ngẫu nhiên (cùng hạt giống, cùng số liệu) / "
                                     "Random seed (same seed, same feed)."),
    keep: Path = typer.Option(None, help="Giữ số liệu tại thư mục này thay vì thư mục tạm; nguồn "
                                         "đã sinh trước đó với cùng tham số được dùng lại / Keep "
                                         "the data here instead of a temp dir; a feed generated "
                                         "there earlier with the same rows, months and seed is "
                                         "reused (the database and store are always new)."),
    repeat: int = typer.Option(1, help="Số lần chạy luân phiên mỗi bên (chiso, pandas), giữ lần "
                                       "nhanh nhất / Run the chiso and pandas computations this "
                                       "many times each, alternately, and keep each side's "
                                       "fastest."),
    memory_mb: int = typer.Option(0, min=0, help="Giới hạn bộ nhớ DuckDB (MB); 0: một phần tư bộ "
                                                 "nhớ máy, từ 1.024 đến 4.096 MB / DuckDB memory "
                                                 "cap for ingesting and computing (beyond it the "
                                                 "engine spills to disk); 0: a quarter of this "
                                                 "machine's memory, 1,024 to 4,096 MB."),
) -> None:
    """Sinh, nạp hồ sơ một cửa toàn quốc và tính bảy chỉ tiêu, so với pandas.

    Mọi đơn vị, mọi tháng; đo thêm một lô 10.000 hồ sơ.

    Generate a national one-stop feed, ingest it and compute all seven indicators for
    every unit and month; compare with pandas on the same data; time a 10,000-record batch.

    Example: chiso bench records --rows 10000000 --keep /tmp/records-10m
    """
    from chiso.records.engine import default_memory_mb

    with tempfile.TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        _fresh_install(work)
        _run(work, rows=rows, months=months, seed=seed, repeat=max(1, repeat),
             memory_mb=memory_mb or default_memory_mb())


def _fresh_install(work: Path) -> None:
    """A private SQLite database and data dir, so the benchmark never touches real data;
    a kept directory loses its previous database and store (never its feed)."""
    from chiso.db import reset_engines
    from chiso.settings import reset_settings_cache

    (work / "bench.sqlite").unlink(missing_ok=True)
    shutil.rmtree(work / "data", ignore_errors=True)
    os.environ["CHISO_DATA_DIR"] = str(work / "data")
    os.environ["CHISO_DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite'}"
    reset_settings_cache()
    reset_engines()


def measured(work: Callable[[], T], label: str = "") -> tuple[T, Timing]:
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, Timing(label, time.perf_counter() - start, time.process_time() - cpu)


@dataclass
class Feed:
    path: Path
    procedures: Path
    rows: int
    generated: Timing | None  # None: reused from an earlier run


def _run(work: Path, *, rows: int, months: int, seed: int, repeat: int,
         memory_mb: int) -> None:
    from chiso.db import session_scope
    from chiso.db.migrate import upgrade
    from chiso.records import keyindex

    upgrade()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Đơn vị, chỉ tiêu / units, indicators", total=None)
        with session_scope() as session:
            _national_units(session)
        bar.update(task, description="Sinh hồ sơ / generating", total=rows, completed=0)
        feed = _feed(work, rows=rows, months=months, seed=seed,
                     progress=lambda n: bar.advance(task, n))
        bar.update(task, description="chiso: nạp + tính / ingest + compute", total=None)
        ingest = _ingest(feed.procedures, feed.path, memory_mb)
        bar.update(task, description="DuckDB: đọc, kiểm tra, ghi / read, check, write")
        ingest["reference"] = _reference_ingest(work, feed.path, memory_mb)
        bar.update(task, description="So sánh / comparison")
        comparison = _compare(repeat, memory_mb)
        bar.update(task, description="Lô 10.000 hồ sơ / 10,000-record batch")
        # A one-off command (`chiso records ingest`) builds the unit map's cache and has no
        # key index; a running server has both (it builds the index at start-up). Both.
        incremental = [{**_incremental(work, seed, "20"), "first": True}]
        index_timing = measured(keyindex.warm, "key index")[1]
        incremental += [{**_incremental(work, seed + 20, "20"), "index": index_timing},
                        _incremental(work, seed + 10, None)]
    report(feed_rows=feed.rows, generated=feed.generated, ingest=ingest,
           comparison=comparison, incremental=incremental)


def _feed(work: Path, *, rows: int, months: int, seed: int,
          progress: Callable[[int], None]) -> Feed:
    """The generated feed, or the one a kept directory already holds for these settings."""
    from chiso.db import session_scope
    from chiso.records.generator import generate

    path, meta = work / "feed.parquet", work / "feed.json"
    wanted = {"rows": rows, "months": months, "seed": seed, "end": END.isoformat()}
    if path.exists() and meta.exists():
        stored = json.loads(meta.read_text())
        procedures = Path(stored.get("procedures", ""))
        if stored.get("wanted") == wanted and procedures.exists():
            return Feed(path, procedures, int(stored["rows"]), None)
    meta.unlink(missing_ok=True)
    with session_scope() as session:
        generated, timing = measured(lambda: generate(
            session, path, province=None, months=months, seed=seed, rows=rows, end=END,
            progress=progress), "generate")
    meta.write_text(json.dumps({"wanted": wanted, "rows": generated.rows,
                                "procedures": str(generated.procedures_path)}))
    return Feed(path, generated.procedures_path, generated.rows, timing)


def _national_units(session: Session) -> None:
    from chiso.records.service import RecordsError, indicator_ids
    from chiso.units.service import load_shipped_unit_kinds, load_shipped_units

    load_shipped_unit_kinds(session)
    load_shipped_units(session)
    try:
        indicator_ids(session)
    except RecordsError:
        _make_indicators(session)


def _make_indicators(session: Session) -> None:
    from chiso.indicators.models import Indicator
    from chiso.records.engine import INDICATORS

    for code in INDICATORS:
        if session.scalar(select(Indicator.id).where(Indicator.code == code)) is None:
            session.add(Indicator(code=code, name_vi=code, name_en=code, kind="ratio",
                                  unit_aggregation="ratio_of_sums", time_aggregation="sum",
                                  scale=100.0))


def _ingest(procedures: Path, feed: Path, memory_mb: int) -> dict[str, Any]:
    """One ingestion of the whole feed, with wall and CPU marks at each step; `save` ends
    with the commit, when the values are visible."""
    from chiso.db import session_scope
    from chiso.records.service import ingest_file, load_procedures

    with session_scope() as session:
        load_procedures(session, procedures, access=Access.system(session, FEED))
    marks: dict[str, tuple[float, float]] = {
        "start": (time.perf_counter(), time.process_time())}
    with session_scope() as session:
        def mark(name: str) -> None:
            marks.setdefault(name, (time.perf_counter(), time.process_time()))

        result = ingest_file(session, feed, access=Access.system(session, FEED),
                             memory_mb=memory_mb, step=mark)
    marks["done"] = (time.perf_counter(), time.process_time())

    def span(first: str, last: str, label: str) -> Timing:
        return Timing(label, marks[last][0] - marks[first][0],
                      marks[last][1] - marks[first][1])

    return {"memory_mb": memory_mb, "check": span("start", "store", "check"),
            "store": span("store", "compute", "store"),
            "compute": span("compute", "save", "compute"), "save": span("save", "done", "save"),
            "ingest": span("start", "compute", "ingest"),
            "total": span("start", "save", "total"), "visible": span("start", "done", "visible"),
            "stored": result.rows_stored, "read": result.rows_read,
            "values": result.values_inserted + result.values_updated, "rss_mb": _rss_mb()}


def _reference_ingest(work: Path, feed: Path, memory_mb: int) -> dict[str, Any]:
    """The plain DuckDB read-check-write of the same feed (`records_duckdb`), timed from the
    unit and procedure codes to the written files, and the rows it stored compared with
    chiso's."""
    from benchmarks import records_duckdb
    from chiso.db import session_scope
    from chiso.records import engine
    from chiso.records.service import procedures_frame
    from chiso.text import vn_today
    from chiso.units.models import OrgUnit

    out = work / "reference"
    shutil.rmtree(out, ignore_errors=True)
    con = engine.connect(work, memory_mb=memory_mb)
    try:
        def read_check_write() -> int:
            with session_scope() as session:
                codes = list(session.scalars(select(OrgUnit.code).distinct()))
                procedures = procedures_frame(session)
            engine.register_units(con, codes)
            engine.register_procedures(con, procedures)
            return records_duckdb.ingest(con, feed, out, today=vn_today().isoformat())

        written, timing = measured(read_check_write, "reference")
        with session_scope() as session:
            _root, versions, _superseded = _store_inputs(session)
        differences = records_duckdb.differences(con, versions, out)
    finally:
        con.close()
    shutil.rmtree(out, ignore_errors=True)
    if differences:
        raise AssertionError(f"chiso and the DuckDB reference stored different rows "
                             f"({differences:,} differ)")
    return {"timing": timing, "rows": written}


def _store_inputs(session: Session):  # type: ignore[no-untyped-def]
    from chiso.records import store

    root = store.store_dir()
    batches = store.committed_batch_ids(session)
    return root, store.version_files(root, batches), store.superseded_files(root, batches)


@dataclass
class Inputs:
    """What both computations start from: the stored files, the catalogue, the unit map."""

    root: Path
    versions: list[str]
    superseded: list[str]
    procedures: pl.DataFrame
    umap: pl.DataFrame
    closure: pl.DataFrame


def _inputs() -> tuple[Inputs, Timing]:
    """The unit map of every (unit code, month) in the store, built once with the same code
    `records recompute` uses (chiso.records.unitmap), and given to both sides."""
    from chiso.db import session_scope
    from chiso.records import engine
    from chiso.records.service import procedures_frame
    from chiso.records.unitmap import UnitResolver

    with session_scope() as session:
        root, versions, superseded = _store_inputs(session)
        procedures = procedures_frame(session)
        con = engine.connect(root)
        engine.register_current(con, versions, superseded)
        pairs = con.sql("SELECT DISTINCT unit_code, month FROM cur").pl()
        con.close()

        def unit_map() -> tuple[pl.DataFrame, pl.DataFrame]:
            resolver = UnitResolver(session)
            umap = resolver.umap(pairs)
            return umap, resolver.closure(umap.get_column("leaf_id").to_list())

        (umap, closure), timing = measured(unit_map, "unit map")
    return Inputs(root, versions, superseded, procedures, umap, closure), timing


def _ours(inputs: Inputs, memory_mb: int) -> pl.DataFrame:
    """Stored files → long frame with the engine, as `records recompute` runs it."""
    from chiso.records import engine

    con = engine.connect(inputs.root, memory_mb=memory_mb)
    try:
        engine.register_procedures(con, inputs.procedures)
        engine.register_current(con, inputs.versions, inputs.superseded)
        engine.procedure_counts(con)
        return engine.indicator_table(con, inputs.umap, inputs.closure)
    finally:
        con.close()


def _pandas(inputs: Inputs, umap: Any, closure: Any, procedures: Any,
            split: list[Timing]) -> Any:
    """Stored files → long frame with pandas (reading timed apart in `split`)."""
    from benchmarks import records_pandas

    (frame, gone), read = measured(lambda: records_pandas.read_store(inputs.versions,
                                                                     inputs.superseded), "read")
    result, compute = measured(lambda: records_pandas.indicators(frame, gone, procedures,
                                                                 umap, closure), "compute")
    split[:] = [read, compute]
    return result


def _compare(repeat: int, memory_mb: int) -> dict[str, Any]:
    inputs, unit_map = _inputs()
    # Conversions to pandas are inputs too: done before the clock starts, as for Polars.
    umap, closure = inputs.umap.to_pandas(), inputs.closure.to_pandas()
    procedures = inputs.procedures.to_pandas()
    best: dict[str, Timing] = {}
    split: list[Timing] = []
    pandas_split: list[Timing] = []
    for _ in range(repeat):
        gc.collect()
        ours, timing = measured(lambda: _ours(inputs, memory_mb), "chiso")
        best["chiso"] = min(best.get("chiso", timing), timing, key=lambda t: t.seconds)
        rss_ours = _rss_mb()
        gc.collect()
        theirs, timing = measured(lambda: _pandas(inputs, umap, closure, procedures, split),
                                  "pandas")
        if "pandas" not in best or timing.seconds < best["pandas"].seconds:
            best["pandas"], pandas_split = timing, list(split)
    return {"unit_map": unit_map, "chiso": best["chiso"], "pandas": best["pandas"],
            "pandas_split": pandas_split, "agree": _agree(ours, theirs), "rss_ours": rss_ours,
            "rss_pandas": _rss_mb(), "repeat": repeat}


def _agree(ours: pl.DataFrame, theirs) -> int:  # type: ignore[no-untyped-def]
    ours = ours.sort("unit_id", "month", "indicator_code")
    theirs = theirs.sort_values(["unit_id", "month", "indicator_code"]).reset_index(drop=True)
    keys_ours = ours.select("unit_id", "month", "indicator_code").rows()
    keys_theirs = list(theirs[["unit_id", "month", "indicator_code"]]
                       .itertuples(index=False, name=None))
    if keys_ours != keys_theirs:
        raise AssertionError(f"unit-months differ: chiso {len(keys_ours)} rows, pandas "
                             f"{len(keys_theirs)}")
    compared = assert_close("numerator", ours.get_column("numerator").to_numpy(),
                            theirs["numerator"].to_numpy())
    compared += assert_close("denominator", ours.get_column("denominator").to_numpy(),
                             theirs["denominator"].to_numpy())
    return compared


def _incremental(work: Path, seed: int, province: str | None) -> dict[str, Any]:
    """5,000 dossiers finishing (new versions of open ones) + 5,000 new ones this month,
    from one province's one-stop system, or from all over the country."""
    from chiso.db import session_scope
    from chiso.db.engine import wait_for_checkpoints
    from chiso.records import engine, store
    from chiso.records.service import ingest_file

    with session_scope() as session:
        root, versions, superseded = _store_inputs(session)
        codes = _province_codes(session, province) if province else None
    last = store.stored_months(root)[-1]
    con = engine.connect(root)
    engine.register_current(con, versions, superseded)
    if codes is not None:
        con.register("codes_df", pl.DataFrame({"code": codes}).to_arrow())
        con.execute("CREATE TEMP TABLE cur_scoped AS SELECT * FROM cur "
                    "WHERE unit_code IN (SELECT code FROM codes_df)")
        con.execute("CREATE OR REPLACE TEMP VIEW cur AS SELECT * FROM cur_scoped")
    batch = _incremental_batch(con, last, seed)
    con.close()
    path = work / f"incremental-{province or 'national'}.parquet"
    batch.write_parquet(path)

    def visible() -> Any:
        with session_scope() as session:
            return ingest_file(session, path, access=Access.system(session, FEED))

    wait_for_checkpoints()  # the previous ingest's log, copied back in the background
    result, timing = measured(visible, "incremental")
    return {"scope": province or "national", "timing": timing, "rows": batch.height,
            "stored": result.rows_stored, "months": len(result.months),
            "values": result.values_inserted + result.values_updated}


def _province_codes(session: Session, province: str) -> list[str]:
    from chiso.records.unitmap import UnitResolver

    resolver = UnitResolver(session)
    roots = [u.id for u in resolver.by_code.get(province, []) if u.parent_id is None]
    return sorted({resolver.units[i].code for root in roots for i in resolver.subtree(root)})


def _incremental_batch(con, last: int, seed: int) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    columns = ("dossier_code, procedure_code, unit_code, received_at, channel, service_level, "
               "status, due_at, finished_at, electronic_result, digitised, paid_online, "
               "fee_due, updated_at")
    open_ones = con.sql(f"""
        SELECT {columns} FROM cur WHERE finished_at IS NULL AND month >= {last - 1}
        ORDER BY hash(dossier_code || '{seed}') LIMIT 5000""").pl()
    now = pl.lit(dt.datetime(END.year, END.month, END.day, 16, 0))
    done = pl.max_horizontal(now, pl.col("received_at") + pl.duration(hours=1))
    finishing = open_ones.with_columns(
        done.alias("finished_at"), done.alias("updated_at"),
        pl.lit("da_tra_ket_qua").alias("status"), pl.lit(True).alias("electronic_result"))
    fresh = con.sql(f"SELECT {columns} FROM cur WHERE month = {last} "
                    f"ORDER BY hash(dossier_code || '{seed + 1}') LIMIT 5000").pl()
    fresh = fresh.with_columns(
        ("N" + pl.col("dossier_code")).alias("dossier_code"),
        now.alias("received_at"), now.alias("updated_at"),
        pl.lit(None, pl.Datetime("us")).alias("finished_at"),
        pl.lit("dang_xu_ly").alias("status"))
    both = pl.concat([finishing, fresh.cast(finishing.schema)], how="vertical")
    return both.sample(fraction=1.0, shuffle=True, seed=seed)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

"""`chiso bench records`: generate a national feed, ingest it, compute every indicator for
every unit and month, run the pandas version on the same stored data, check they agree,
then time an incremental batch of 10,000 records until its figures are visible."""

from __future__ import annotations

import datetime as dt
import gc
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import polars as pl
import typer
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.bench.core import assert_close, console

END = dt.date(2025, 12, 31)


def register_bench(bench: typer.Typer) -> None:
    bench.command("records")(records)


def records(
    rows: int = typer.Option(1_000_000, help="Dossiers in the generated feed."),
    months: int = typer.Option(36, help="Months of records."),
    seed: int = typer.Option(1, help="Random seed (same seed, same feed)."),
    keep: Path = typer.Option(None, help="Keep the data here instead of a temp dir."),
) -> None:
    """Generate a national one-stop feed, ingest it and compute all seven indicators for
    every unit and month; compare with pandas on the same data; time a 10,000-record batch.

    Example: chiso bench records --rows 10000000
    """
    with tempfile.TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        _use_scratch_install(work)
        _run(work, rows=rows, months=months, seed=seed)


def _use_scratch_install(work: Path) -> None:
    """A private SQLite database and data dir, so the benchmark never touches real data."""
    from chiso.db import reset_engines
    from chiso.settings import reset_settings_cache

    os.environ["CHISO_DATA_DIR"] = str(work / "data")
    os.environ["CHISO_DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite'}"
    reset_settings_cache()
    reset_engines()


def _run(work: Path, *, rows: int, months: int, seed: int) -> None:
    from chiso.db import session_scope
    from chiso.db.migrate import upgrade

    upgrade()
    timings: dict[str, float] = {}
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Đơn vị, chỉ tiêu / units, indicators", total=None)
        with session_scope() as session:
            _national_units(session)
        feed = work / "feed.parquet"
        bar.update(task, description="Sinh hồ sơ / generating", total=rows, completed=0)
        with session_scope() as session:
            from chiso.records.generator import generate

            started = time.perf_counter()
            generated = generate(session, feed, province=None, months=months, seed=seed,
                                 rows=rows, end=END, progress=lambda n: bar.advance(task, n))
            timings["generate"] = time.perf_counter() - started
        bar.update(task, description="chiso: nạp + tính / ingest + compute", total=None)
        ingest = _ingest(generated.procedures_path, feed)
        bar.update(task, description="chiso: tính toàn bộ / full computation")
        ours, ours_seconds, ours_rss = _ours_full()
        gc.collect()
        bar.update(task, description="pandas")
        theirs, pandas_read, pandas_compute, pandas_peak = _pandas_full()
        compared = _agree(ours, theirs)
        bar.update(task, description="Lô 10.000 hồ sơ / 10,000-record batch")
        incremental = [_incremental(work, seed, "20"), _incremental(work, seed + 10, None)]
    _report(generated.rows, ingest, ours_seconds, ours_rss, pandas_read, pandas_compute,
            pandas_peak, compared, incremental, timings["generate"])


def _national_units(session: Session) -> None:
    from chiso.records.service import indicator_ids
    from chiso.units.service import load_official_units, load_unit_kinds

    load_unit_kinds(session)
    load_official_units(session)
    try:
        indicator_ids(session)
    except ValueError:
        _make_indicators(session)


def _make_indicators(session: Session) -> None:
    from chiso.indicators.models import Indicator
    from chiso.records.engine import INDICATORS

    for code in INDICATORS:
        if session.scalar(select(Indicator.id).where(Indicator.code == code)) is None:
            session.add(Indicator(code=code, name_vi=code, name_en=code, kind="ratio",
                                  unit_aggregation="ratio_of_sums", time_aggregation="sum",
                                  scale=100.0))


def _ingest(procedures: Path, feed: Path) -> dict[str, float]:
    from chiso.db import session_scope
    from chiso.records.service import ingest_file, load_procedures

    with session_scope() as session:
        load_procedures(session, procedures)
    marks: dict[str, float] = {}
    started = time.perf_counter()
    with session_scope() as session:
        result = ingest_file(session, feed, step=lambda name: marks.setdefault(
            name, time.perf_counter()))
    done = time.perf_counter()
    return {"check": marks["store"] - started, "store": marks["compute"] - marks["store"],
            "compute": marks["save"] - marks["compute"], "save": done - marks["save"],
            "total": marks["save"] - started, "with_save": done - started,
            "stored": result.rows_stored, "read": result.rows_read,
            "values": result.values_inserted + result.values_updated,
            "rss_mb": _rss_mb()}


def _store_inputs(session: Session):  # type: ignore[no-untyped-def]
    from chiso.records import store

    root = store.store_dir()
    batches = store.committed_batch_ids(session)
    return root, store.version_files(root, batches), store.superseded_files(root, batches)


def _ours_full() -> tuple[pl.DataFrame, float, float]:
    """files → indicators for every unit and month, as `records recompute` does it."""
    from chiso.db import session_scope
    from chiso.records import engine
    from chiso.records.service import _indicator_rows, procedures_frame
    from chiso.records.unitmap import UnitResolver

    with session_scope() as session:
        root, versions, superseded = _store_inputs(session)
        started = time.perf_counter()
        con = engine.connect(root)
        engine.register_procedures(con, procedures_frame(session))
        engine.register_current(con, versions, superseded)
        engine.procedure_counts(con)
        long = _indicator_rows(con, UnitResolver(session), engine.grp_unit_months(con))
        seconds = time.perf_counter() - started
        con.close()
    return long, seconds, _rss_mb()


def _pandas_full() -> tuple[object, float, float, float]:
    from chiso.db import session_scope
    from chiso.records import engine, reference
    from chiso.records.service import procedures_frame
    from chiso.records.unitmap import UnitResolver

    with session_scope() as session:
        root, versions, superseded = _store_inputs(session)
        # The unit map is the same input for both sides (built from the database).
        con = engine.connect(root)
        engine.register_current(con, versions, superseded)
        pairs = con.sql("SELECT DISTINCT unit_code, month FROM cur").pl()
        con.close()
        resolver = UnitResolver(session)
        umap = resolver.umap(pairs)
        closure = resolver.closure(umap.get_column("leaf_id").to_list())
        procedures = procedures_frame(session).to_pandas()
    tracemalloc.start()
    started = time.perf_counter()
    frame, gone = reference.read_store(versions, superseded)
    read = time.perf_counter() - started
    started = time.perf_counter()
    result = reference.indicators(frame, gone, procedures, umap.to_pandas(),
                                  closure.to_pandas())
    compute = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, read, compute, peak


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


def _incremental(work: Path, seed: int, province: str | None) -> dict[str, float]:
    """5,000 dossiers finishing (new versions of open ones) + 5,000 new ones this month,
    from one province's one-stop system, or from all over the country."""
    from chiso.db import session_scope
    from chiso.records import engine
    from chiso.records.service import ingest_file

    with session_scope() as session:
        root, versions, superseded = _store_inputs(session)
        codes = _province_codes(session, province) if province else None
    last = max(int(Path(f).parent.name.split("=")[1]) for f in versions)
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
    started = time.perf_counter()
    with session_scope() as session:
        result = ingest_file(session, path)
    seconds = time.perf_counter() - started
    return {"scope": province or "national", "seconds": seconds, "rows": batch.height,
            "stored": result.rows_stored,
            "months": len(result.months), "values": result.values_inserted
            + result.values_updated}


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


def _report(rows: int, ingest: dict[str, float], ours: float, ours_rss: float,
            pandas_read: float, pandas_compute: float, pandas_peak: float, compared: int,
            incremental: list[dict[str, Any]], generate_seconds: float) -> None:
    table = Table(title=f"chiso bench records — {rows:,} dossiers, {os.cpu_count()} cores",
                  header_style="bold")
    table.add_column("Bước / step")
    table.add_column("chiso (DuckDB) s", justify="right")
    table.add_column("pandas s", justify="right")
    table.add_row("generate feed (not compared)", f"{generate_seconds:.2f}", "")
    table.add_row("ingest: read + check", f"{ingest['check']:.2f}", "")
    table.add_row("ingest: store versions", f"{ingest['store']:.2f}", "")
    table.add_row("ingest: compute all indicators", f"{ingest['compute']:.2f}", "")
    table.add_row("[bold]ingest + compute[/]", f"[bold]{ingest['total']:.2f}[/]", "")
    table.add_row("save values (chiso.values upsert, SQLite)", f"{ingest['save']:.2f}", "")
    table.add_row("read stored records", "(in query)", f"{pandas_read:.2f}")
    table.add_row("compute 7 indicators, all units × months", f"{ours:.2f}",
                  f"{pandas_compute:.2f}")
    table.add_row("[bold]files → indicators[/]", f"[bold]{ours:.2f}[/]",
                  f"[bold]{pandas_read + pandas_compute:.2f}[/]")
    console.print(table)
    ratio_total = (pandas_read + pandas_compute) / ours
    ratio_compute = pandas_compute / ours
    colour = "green" if ratio_compute >= 3 else "yellow"
    console.print(f"[{colour}]Tính toán nhanh hơn pandas {ratio_compute:.1f} lần (pandas "
                  f"không tính đọc tệp), {ratio_total:.1f} lần tính cả đọc / computation "
                  f"{ratio_compute:.1f}× faster than pandas compute-only, {ratio_total:.1f}× "
                  "including reading[/]")
    console.print(f"[green]✓[/] Khớp / agree: {compared:,} numerators and denominators")
    console.print(f"Bộ nhớ / memory: peak RSS after chiso ingest {ingest['rss_mb']:,.0f} MB, "
                  f"after chiso compute {ours_rss:,.0f} MB (engine cap 1,024 MB); pandas "
                  f"Python-heap peak (tracemalloc) {pandas_peak:,.0f} MB, process peak "
                  f"{_rss_mb():,.0f} MB")
    goal = "[green]✓[/]" if ingest["total"] < 60 else "[red]✗[/]"
    console.print(f"{goal} Nạp + tính / ingest + compute {ingest['read']:,.0f} records: "
                  f"{ingest['total']:.1f} s (goal < 60 s); {ingest['values']:,.0f} values")
    for batch in incremental:
        fast = "[green]✓[/]" if batch["seconds"] < 1 else "[red]✗[/]"
        scope = ("tỉnh 20 / province 20" if batch["scope"] != "national"
                 else "cả nước / national")
        console.print(f"{fast} Lô tăng dần / incremental batch ({scope}) of "
                      f"{batch['rows']:,.0f} records ({batch['stored']:,.0f} stored, "
                      f"{batch['months']:.0f} months, {batch['values']:,.0f} values changed) "
                      f"visible after {batch['seconds']:.2f} s (goal < 1 s)")


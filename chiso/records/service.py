"""Records feed services: load the procedure catalogue, ingest dossier batches (files or API
posts), recompute indicators, and read what the pages and the API show.

Every ingestion is all-or-nothing: the Parquet files of a batch are written first but
become visible only when its `record_batch` row is committed as `committed`, in the same
SQL transaction as the data values computed from it and the audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.audit.service import record_event
from chiso.db.base import utcnow
from chiso.db.engine import defer_checkpoint
from chiso.indicators.models import Indicator
from chiso.records import engine, feed, keyindex, store
from chiso.records.models import BatchStatus, RecordBatch, RecordProcedure, ServiceLevel
from chiso.records.unitmap import UnitResolver
from chiso.text import nfc
from chiso.values.models import DataValue

SOURCE = "records"
Step = Callable[[str], None]


if TYPE_CHECKING:
    from chiso.records.generator import Adoption

class RecordsError(ValueError):
    """A bilingual problem with the records feed that is not about one row."""


@dataclass
class IngestResult:
    batch_id: int | None
    file_name: str
    rows_read: int = 0
    rows_stored: int = 0
    rows_ignored: int = 0
    months: list[int] = field(default_factory=list)
    values_inserted: int = 0
    values_updated: int = 0
    values_unchanged: int = 0
    seconds: float = 0.0
    already_ingested: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ------------------------------------------------------------------ procedure catalogue

PROCEDURE_COLUMNS = ("code", "name", "level", "service_level", "field")


def load_procedures(session: Session, path: Path, *, actor: Any = None) -> dict[str, int]:
    """Insert or update the procedure catalogue from a CSV (columns code, name, level,
    service_level, field). All-or-nothing; unchanged rows are left alone."""
    frame = pl.read_csv(path, infer_schema=False)
    missing = [c for c in PROCEDURE_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordsError(f"Tệp '{path.name}': thiếu cột {', '.join(missing)} / file "
                           f"'{path.name}': missing column(s) {', '.join(missing)}")
    rows = [_procedure_row(path.name, n, r) for n, r in enumerate(frame.iter_rows(named=True), 2)]
    existing = {p.code: p for p in session.scalars(select(RecordProcedure))}
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        counts[_upsert_procedure(session, existing.get(row["code"]), row)] += 1
    record_event(session, action="records.procedures", object_type="record_procedure",
                 actor=actor, after={"file": path.name, **counts})
    return counts


def _procedure_row(file: str, line: int, raw: dict[str, str | None]) -> dict[str, str]:
    row = {c: nfc((raw.get(c) or "").strip()) for c in PROCEDURE_COLUMNS}
    level_key = row["service_level"].lower().replace(" ", "_")
    aliases = {a: code.value for code, words in feed.SERVICE_LEVEL_ALIASES.items()
               for a in words}
    plain = _plain(row["service_level"])
    row["service_level"] = aliases.get(plain, aliases.get(level_key, ""))
    for column in ("code", "name", "level"):
        if not row[column]:
            raise RecordsError(f"Tệp '{file}', dòng {line}, cột '{column}': thiếu giá trị / "
                               f"file '{file}', row {line}, column '{column}': missing")
    if not row["service_level"]:
        raise RecordsError(
            f"Tệp '{file}', dòng {line}, cột 'service_level': phải là toàn trình, một phần "
            f"hoặc không / file '{file}', row {line}, column 'service_level': must be "
            "toàn trình, một phần or không")
    return row


def _plain(text: str) -> str:
    import re
    import unicodedata

    text = text.lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _upsert_procedure(session: Session, current: RecordProcedure | None,
                      row: dict[str, str]) -> str:
    if current is None:
        session.add(RecordProcedure(**row))
        return "inserted"
    if all(getattr(current, c) == row[c] for c in PROCEDURE_COLUMNS):
        return "unchanged"
    for column in PROCEDURE_COLUMNS:
        setattr(current, column, row[column])
    return "updated"


def procedures_frame(session: Session) -> pl.DataFrame:
    rows = session.execute(select(RecordProcedure.code, RecordProcedure.name,
                                  RecordProcedure.level, RecordProcedure.field,
                                  RecordProcedure.service_level)
                           .where(RecordProcedure.active)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={"code": pl.String, "name": pl.String, "level": pl.String,
                                "field": pl.String, "service_level": pl.String})


# ------------------------------------------------------------------------- ingestion

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_file(session: Session, path: Path, *, actor: Any = None, source: str = "file",
                display_name: str | None = None, memory_mb: int = engine.DEFAULT_MEMORY_MB,
                step: Step | None = None) -> IngestResult:
    """Ingest one feed file as one batch; raises feed.FeedRejected (nothing stored) when
    any row is bad. The same file a second time changes nothing."""
    started = time.perf_counter()
    name = display_name or path.name
    sha = file_sha256(path)
    if _committed_with_sha(session, sha):
        return IngestResult(None, name, already_ingested=True)
    root = store.store_dir()
    # The batch's figures should show as soon as it commits: SQLite's log checkpoint runs
    # after that, in the background.
    defer_checkpoint(session)
    with store.writer_lock(root):
        con = engine.connect(root, memory_mb=memory_mb)
        try:
            _announce(step, "check")
            rows = _stage(session, con, path, name)
            # Under the lock no other batch is being written: any file of an uncommitted
            # batch is left over from a crash (and its id may be handed out again).
            store.remove_orphans(root, store.committed_batch_ids(session))
            batch_id = _open_batch(session, source, name, sha, actor)
            try:
                result = _write_and_compute(session, con, root, batch_id, actor, step)
            except BaseException:
                store.remove_batch_files(root, batch_id)
                raise
        finally:
            con.close()
    result.file_name, result.rows_read = name, rows
    result.seconds = time.perf_counter() - started
    _close_batch(session, batch_id, result, actor)
    return result


def ingest_records(session: Session, records: list[dict[str, Any]], *, actor: Any = None,
                   step: Step | None = None) -> IngestResult:
    """An API batch: the records are written to a JSON Lines file and ingested as one."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        return ingest_file(session, path, actor=actor, source="api", display_name="API",
                           step=step)


def _announce(step: Step | None, name: str) -> None:
    if step is not None:
        step(name)


def _committed_with_sha(session: Session, sha: str) -> bool:
    return session.scalar(select(RecordBatch.id).where(
        RecordBatch.sha256 == sha, RecordBatch.status == BatchStatus.COMMITTED)) is not None


def _stage(session: Session, con: duckdb.DuckDBPyConnection, path: Path, name: str) -> int:
    # The cached resolver holds every unit code already (an incremental batch reuses it).
    engine.register_units(con, UnitResolver.cached(session).codes())
    engine.register_procedures(con, procedures_frame(session))
    feed.prepare(con, path, name)
    return feed.stage(con, name)


def _open_batch(session: Session, source: str, name: str, sha: str, actor: Any) -> int:
    """The batch row, flushed for its id (which names the files) but committed only with
    the values computed from it: until then no reader sees the batch."""
    batch = RecordBatch(source=source, file_name=name[:400], sha256=sha,
                        user_id=getattr(actor, "id", None))
    session.add(batch)
    session.flush()
    return batch.id


def _write_and_compute(session: Session, con: duckdb.DuckDBPyConnection, root: Path,
                       batch_id: int, actor: Any, step: Step | None) -> IngestResult:
    committed = store.committed_batch_ids(session)
    _announce(step, "store")
    index = keyindex.for_store(root)
    months = None  # every month, unless this process keeps the key index (a server)
    if index.ready:
        # Earlier versions of the staged dossiers can only be in the months that hold
        # their keys: read those, not the whole store.
        index.follow(con, root, committed)
        months = index.months_holding(
            con.execute("SELECT DISTINCT k FROM staged").fetchnumpy()["k"])
    engine.register_current(con, store.version_files(root, committed, months),
                            store.superseded_files(root, committed, months))
    written = engine.write_batch(con, root, batch_id)
    if index.ready:
        index.add_batch(con, root, batch_id)
    result = IngestResult(batch_id, "", rows_stored=written.rows_stored,
                          rows_ignored=written.rows_ignored)
    if written.touched.is_empty():
        return result
    _announce(step, "compute")
    summary = recompute_touched(session, con, root, committed | {batch_id}, written.touched,
                                actor=actor, step=step)
    result.months = sorted(written.touched.get_column("month").unique().to_list())
    result.values_inserted, result.values_updated, result.values_unchanged = summary
    return result


def _close_batch(session: Session, batch_id: int, result: IngestResult, actor: Any) -> None:
    batch = session.get(RecordBatch, batch_id)
    assert batch is not None
    batch.status = BatchStatus.COMMITTED
    batch.rows_read, batch.rows_stored = result.rows_read, result.rows_stored
    batch.rows_ignored = result.rows_ignored
    batch.months = ",".join(map(str, result.months))
    batch.values_inserted, batch.values_updated = result.values_inserted, result.values_updated
    batch.seconds, batch.finished_at = result.seconds, utcnow()
    record_event(session, action="records.ingest", object_type="record_batch",
                 object_id=batch_id, actor=actor,
                 after={k: v for k, v in result.as_dict().items() if k != "months"})
    session.flush()


# ----------------------------------------------------------------------- computation

def recompute_touched(session: Session, con: duckdb.DuckDBPyConnection, root: Path,
                      batches: set[int], touched: pl.DataFrame, *, actor: Any = None,
                      only_units: set[int] | None = None, all_units: bool = False,
                      step: Step | None = None) -> tuple[int, int, int]:
    """Recompute the months in `touched` and write the values of the touched units and
    every unit above them (or of `only_units`, or of every unit with `all_units`).
    Returns (inserted, updated, unchanged)."""
    months = sorted(touched.get_column("month").unique().to_list())
    engine.register_procedures(con, procedures_frame(session))
    engine.register_current(con, store.version_files(root, batches, months),
                            store.superseded_files(root, batches, months))
    resolver = UnitResolver(session) if all_units or only_units is not None else \
        UnitResolver.cached(session)
    scope = None if all_units or only_units is not None else _scope_codes(resolver, touched)
    engine.procedure_counts(con, unit_codes=scope)
    long = _indicator_rows(con, resolver, engine.grp_unit_months(con))
    if only_units is not None:
        long = long.filter(pl.col("unit_id").is_in(list(only_units)))
    elif not all_units:
        long = long.join(_target_units(resolver, touched), on=["unit_id", "month"],
                         how="semi")
    return _save(session, long, resolver, actor, step)


def _scope_codes(resolver: UnitResolver, touched: pl.DataFrame) -> list[str]:
    """Codes of every unit under the top-level units above the touched ones: the records
    that can change a touched unit's figures (a province batch reads only its province)."""
    umap = resolver.umap(touched)
    roots = {resolver.root_of[leaf] for leaf in umap.get_column("leaf_id").unique()}
    codes: set[str] = set(touched.get_column("unit_code").unique())
    for root in roots:
        # Old codes of merged units still count under their successors in this subtree.
        codes |= resolver.codes_by_root.get(root, frozenset())
    return sorted(codes)


def _indicator_rows(con: duckdb.DuckDBPyConnection, resolver: UnitResolver,
                    pairs: pl.DataFrame, *, current: bool = False) -> pl.DataFrame:
    umap = resolver.umap(pairs, current=current)
    closure = resolver.closure(umap.get_column("leaf_id").to_list())
    return engine.indicator_table(con, umap, closure)


def _target_units(resolver: UnitResolver, touched: pl.DataFrame) -> pl.DataFrame:
    """(unit_id, month) of each touched leaf and all its ancestors."""
    umap = resolver.umap(touched)
    closure = resolver.closure(umap.get_column("leaf_id").to_list())
    return umap.join(closure, on="leaf_id").select("unit_id", "month").unique()


def _save(session: Session, long: pl.DataFrame, resolver: UnitResolver, actor: Any,
          step: Step | None = None) -> tuple[int, int, int]:
    from chiso.accounts.access import Access  # the feed's job (its caller's checks come later)
    from chiso.values.service import upsert_values

    _announce(step, "save")
    if long.is_empty():
        return (0, 0, 0)
    ids = indicator_ids(session)
    long = long.filter(resolver.valid_mask(long) & (pl.col("denominator") > 0))
    rows = long.join(ids, on="indicator_code").select(
        "unit_id", "indicator_id",
        pl.col("month").cast(pl.String).alias("period"),
        "numerator", "denominator",
        (pl.col("numerator") / pl.col("denominator") * pl.col("scale")).alias("value"))
    if rows.is_empty():
        return (0, 0, 0)
    summary = upsert_values(session, rows, source=SOURCE,
                            access=Access.system(session, "records-feed"))
    return (summary.inserted, summary.updated, summary.unchanged)


def indicator_ids(session: Session) -> pl.DataFrame:
    codes = list(engine.INDICATORS)
    found = session.execute(select(Indicator.code, Indicator.id, Indicator.scale)
                            .where(Indicator.code.in_(codes))).all()
    missing = sorted(set(codes) - {r.code for r in found})
    if missing:
        raise RecordsError(
            f"Chưa có chỉ tiêu {', '.join(missing)} trong danh mục (chạy chiso init) / "
            f"indicator(s) {', '.join(missing)} missing from the catalogue (run chiso init)")
    return pl.DataFrame([tuple(r) for r in found], orient="row",
                        schema={"indicator_code": pl.String, "indicator_id": pl.Int64,
                                "scale": pl.Float64})


@dataclass
class RecomputeResult:
    months: list[int]
    inserted: int
    updated: int
    unchanged: int
    seconds: float


def recompute(session: Session, *, unit_code: str | None = None, month_from: int | None = None,
              month_to: int | None = None, actor: Any = None,
              memory_mb: int = engine.DEFAULT_MEMORY_MB) -> RecomputeResult:
    """Full recompute for repairs: every stored month in [from, to] (all by default), for
    every unit or for one unit and the units below it."""
    started = time.perf_counter()
    root = store.store_dir()
    months = [m for m in store.stored_months(root)
              if (month_from is None or m >= month_from) and (month_to is None or m <= month_to)]
    only = _units_below(session, unit_code) if unit_code else None
    counts = (0, 0, 0)
    with store.writer_lock(root):
        con = engine.connect(root, memory_mb=memory_mb)
        try:
            batches = store.committed_batch_ids(session)
            if months and batches:
                touched = pl.DataFrame({"unit_code": [""] * len(months), "month": months},
                                       schema={"unit_code": pl.String, "month": pl.Int32})
                counts = recompute_touched(session, con, root, batches, touched, actor=actor,
                                           only_units=only, all_units=only is None)
        finally:
            con.close()
    record_event(session, action="records.recompute", object_type="record_batch",
                 actor=actor, after={"unit": unit_code or "", "months": len(months),
                                     "inserted": counts[0], "updated": counts[1]})
    return RecomputeResult(months, *counts, seconds=time.perf_counter() - started)


def _units_below(session: Session, unit_code: str) -> set[int]:
    resolver = UnitResolver(session)
    units = resolver.by_code.get(unit_code)
    if not units:
        raise RecordsError(f"Không có đơn vị mã '{unit_code}' / no unit with code "
                           f"'{unit_code}'")
    found: set[int] = set()
    for unit in units:
        found |= resolver.subtree(unit.id)
    return found


# ----------------------------------------------------------------------------- reads

def batches(session: Session, limit: int = 50) -> list[RecordBatch]:
    return list(session.scalars(select(RecordBatch).order_by(RecordBatch.id.desc())
                                .limit(limit)))


def unit_values(session: Session, unit_id: int, months: Iterable[int]) -> pl.DataFrame:
    """Stored record-based values of one unit: month, indicator_code, numerator, denominator,
    value."""
    periods = [str(m) for m in months]
    rows = session.execute(
        select(DataValue.period, Indicator.code, DataValue.numerator, DataValue.denominator,
               DataValue.value)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.unit_id == unit_id, DataValue.period.in_(periods),
               Indicator.code.in_(list(engine.INDICATORS)), DataValue.deleted.is_(False))
    ).all()
    return pl.DataFrame([(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows], orient="row",
                        schema={"month": pl.Int32, "indicator_code": pl.String,
                                "numerator": pl.Float64, "denominator": pl.Float64,
                                "value": pl.Float64})


def live_indicators(session: Session, unit_id: int, months: list[int], *,
                    current: bool = True) -> pl.DataFrame:
    """Indicators of one unit computed straight from the records; with `current` the
    records of merged predecessors count under today's unit (địa giới hiện nay)."""
    root = store.store_dir()
    batches_ = store.committed_batch_ids(session)
    con = engine.connect(root, memory_mb=256)
    try:
        engine.register_procedures(con, procedures_frame(session))
        engine.register_current(con, store.version_files(root, batches_, months),
                                store.superseded_files(root, batches_, months))
        engine.procedure_counts(con)
        long = _indicator_rows(con, UnitResolver(session), engine.grp_unit_months(con),
                               current=current)
    finally:
        con.close()
    ids = indicator_ids(session)
    return long.filter(pl.col("unit_id") == unit_id).join(ids, on="indicator_code").select(
        "month", "indicator_code", "numerator", "denominator",
        pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator") * pl.col("scale")).alias("value"))


def procedures_without_online(session: Session, unit_id: int, months: list[int]
                              ) -> pl.DataFrame:
    """Online procedures the unit (and its sub-units) offer with no online dossier in
    these months: code, name, service_level, field, dossiers."""
    resolver = UnitResolver(session)
    below = resolver.subtree(unit_id)
    codes = sorted({resolver.units[i].code for i in below})
    root = store.store_dir()
    con = engine.connect(root, memory_mb=256)
    try:
        procedures = procedures_frame(session)
        engine.register_procedures(con, procedures)
        batches_ = store.committed_batch_ids(session)
        engine.register_current(con, store.version_files(root, batches_, months),
                                store.superseded_files(root, batches_, months))
        found = engine.procedures_without_online(con, codes, months)
    finally:
        con.close()
    return found.join(procedures.select("code", "name"), on="code", how="left")


def month_range(year: int, today: dt.date | None = None) -> list[int]:
    last = 12 if today is None or today.year != year else today.month
    return [year * 100 + m for m in range(1, last + 1)]


ONLINE_SERVICE_LEVELS = (ServiceLevel.FULL.value, ServiceLevel.PARTIAL.value)


def load_generated_feed(session: Session, *, province: str, months: int, seed: int,
                        end: dt.date, rows: int | None = None,
                        adoption: Adoption | None = None) -> IngestResult:
    """Generate a synthetic feed for `province` and ingest it (the demo's live records):
    the procedure catalogue first, then the dossiers, as one batch."""
    from chiso.records.generator import Adoption, generate

    with tempfile.TemporaryDirectory() as tmp:
        feed_path = Path(tmp) / f"mot-cua-{province}.parquet"
        generated = generate(session, feed_path, province=province, months=months, seed=seed,
                             rows=rows, end=end, adoption=adoption or Adoption())
        load_procedures(session, generated.procedures_path)
        session.flush()
        return ingest_file(session, feed_path, display_name=feed_path.name)

"""Records feed services: load the procedure catalogue, ingest dossier batches (files or API
posts), recompute indicators, and read what the pages and the API show.

Every ingestion is all-or-nothing: the Parquet files of a batch are written first but
become visible only when its `record_batch` row is committed as `committed`, in the same
SQL transaction as the data values computed from it and the audit event. That commit
happens under the store's writer lock, so no other batch can mistake the files for a
crashed batch's leftovers or miss the versions they hold.

Every write takes an `Access` (a person's, a token's, or `Access.system(session,
"records-feed")` for a feed or the operator's CLI) and needs CAPTURE on every unit whose
records it changes — the units its dossiers name and the current owners of the dossiers it
replaces. Dossiers are placed in periods by the calendar of the data set their indicator
belongs to (standard or Nghị định 09/2019, `chiso.values.calendars`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, PermissionDenied
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.db.base import utcnow
from chiso.db.engine import defer_checkpoint
from chiso.errors import NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.periods import Calendar, PeriodType, period_containing
from chiso.records import engine, feed, keyindex, store
from chiso.records.models import BatchStatus, RecordBatch, RecordProcedure, ServiceLevel
from chiso.records.unitmap import UnitResolver, unit_codes
from chiso.text import accent_free_key, nfc
from chiso.values.calendars import indicator_calendars
from chiso.values.models import DataValue
from chiso.values.service import BatchEvent, upsert_values

SOURCE = "records"
DEMO_SOURCE = "demo"  # the demo builder's job name and its values' source
Step = Callable[[str], None]


if TYPE_CHECKING:
    from chiso.records.generator import Adoption


class RecordsError(UserError):
    """A problem with the records feed that is not about one row (422)."""


FIRST_YEAR, LAST_YEAR = 1900, 2200  # as the overview's; beyond them a year is a typing slip


class YearOutOfRange(UserError):
    """A year no record can be of (422), e.g. year=-1 typed into a URL."""

    def __init__(self, year: int) -> None:
        super().__init__(f"Năm {year} nằm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}",
                         f"the year {year} is outside {FIRST_YEAR}–{LAST_YEAR}",
                         issues=[{"column": "year", "rule": "year_range", "value": year}])


def checked_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise YearOutOfRange(year)
    return year


class UnitUnknown(NotFound):
    """No unit has the code asked for (404)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'")


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


def load_procedures(session: Session, path: Path, *, access: Access) -> dict[str, int]:
    """Insert or update the procedure catalogue from a CSV (columns code, name, level,
    service_level, field). All-or-nothing; unchanged rows are left alone. The catalogue is
    the whole installation's: MANAGE system-wide."""
    access.require(Action.MANAGE)
    frame = pl.read_csv(path, infer_schema=False)
    missing = [c for c in PROCEDURE_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordsError(f"Tệp '{path.name}': thiếu cột {', '.join(missing)}",
                           f"file '{path.name}': missing column(s) {', '.join(missing)}")
    rows = [_procedure_row(path.name, n, r) for n, r in enumerate(frame.iter_rows(named=True), 2)]
    existing = {p.code: p for p in session.scalars(select(RecordProcedure))}
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        counts[_upsert_procedure(session, existing.get(row["code"]), row)] += 1
    record_event(session, action="records.procedures", object_type="record_procedure",
                 actor=access.actor, after={"file": path.name, **counts})
    return counts


SERVICE_LEVELS = {alias: code.value for code, words in feed.SERVICE_LEVEL_ALIASES.items()
                  for alias in words}


def _procedure_row(file: str, line: int, raw: dict[str, str | None]) -> dict[str, str]:
    row = {c: nfc((raw.get(c) or "").strip()) for c in PROCEDURE_COLUMNS}
    row["service_level"] = SERVICE_LEVELS.get(_plain(row["service_level"]), "")
    for column in ("code", "name", "level"):
        if not row[column]:
            raise RecordsError(f"Tệp '{file}', dòng {line}, cột '{column}': thiếu giá trị",
                               f"file '{file}', row {line}, column '{column}': missing")
    if not row["service_level"]:
        raise RecordsError(
            f"Tệp '{file}', dòng {line}, cột 'service_level': phải là toàn trình, một phần "
            "hoặc không", f"file '{file}', row {line}, column 'service_level': must be "
            "toàn trình, một phần or không")
    return row


def _plain(text: str) -> str:
    """'Toàn trình' → 'toan_trinh': the feed's rule for spellings (`feed._key`)."""
    return "_".join(re.findall(r"[a-z0-9]+", accent_free_key(text)))


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


def ingest_file(session: Session, path: Path, *, access: Access, source: str = "file",
                display_name: str | None = None, memory_mb: int = engine.DEFAULT_MEMORY_MB,
                step: Step | None = None, recorded_at: dt.datetime | None = None
                ) -> IngestResult:
    """Ingest one feed file as one batch and commit it; raises feed.FeedRejected (nothing
    stored) when any row is bad, PermissionDenied when `access` may not capture for a unit
    whose records it changes. The same file a second time changes nothing. `recorded_at`
    (a system job only, as `upsert_values`: the demo replaying a year of monthly batches,
    so that a past quarter's report sees what was known then) dates the batch and the
    versions of the values computed from it; default now."""
    require_booted()  # the values' write guards must be installed before anything is stored
    if recorded_at is not None and not access.system_name:
        raise PermissionDenied(Action.ADMIN)  # people never backdate what they send
    started = time.perf_counter()
    name = display_name or path.name
    sha = file_sha256(path)
    if _committed_with_sha(session, sha):
        return IngestResult(None, name, already_ingested=True)
    root = store.store_dir()
    # The batch's figures should show as soon as it commits: SQLite's log checkpoint runs
    # after that, in the background.
    defer_checkpoint(session)
    # Held until the batch is committed: another batch's orphan clean-up must not take
    # this one's files for a crashed batch's, nor miss the versions they hold.
    with store.writer_lock(root):
        con = engine.connect(root, memory_mb=memory_mb)
        try:
            _announce(step, "check")
            rows = _stage(session, con, path, name)
            # Under the lock no other batch is being written: any file of an uncommitted
            # batch is left over from a crash (and its id may be handed out again).
            committed = store.committed_batch_ids(session)
            store.remove_orphans(root, committed)
            _announce(step, "store")
            plan = _plan(con, root, committed)
            access = _require_capture(session, access, con)
            batch_id = _open_batch(session, source, name, sha, access, recorded_at)
            with _undone_on_failure(session, root, batch_id):
                result = IngestResult(batch_id, name, rows_read=rows)
                _write_and_compute(session, con, root, committed, plan, result, access, step,
                                   recorded_at)
                result.seconds = time.perf_counter() - started
                _close_batch(session, result, access, recorded_at)
                store.publish_batch(session, root, batch_id)
                session.commit()
        finally:
            con.close()
    return result


def ingest_records(session: Session, records: list[dict[str, Any]], *, access: Access,
                   step: Step | None = None) -> IngestResult:
    """An API batch: the records are written to a JSON Lines file and ingested as one."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        return ingest_file(session, path, access=access, source="api", display_name="API",
                           step=step)


def _announce(step: Step | None, name: str) -> None:
    if step is not None:
        step(name)


def _committed_with_sha(session: Session, sha: str) -> bool:
    return session.scalar(select(RecordBatch.id).where(
        RecordBatch.sha256 == sha, RecordBatch.status == BatchStatus.COMMITTED)) is not None


def _stage(session: Session, con: duckdb.DuckDBPyConnection, path: Path, name: str) -> int:
    # Only the codes: the unit tree is loaded (or reused) when the figures are computed.
    engine.register_units(con, unit_codes(session))
    engine.register_procedures(con, procedures_frame(session))
    feed.prepare(con, path, name)
    return feed.stage(con, name)


def _plan(con: duckdb.DuckDBPyConnection, root: Path, committed: set[int]
          ) -> engine.BatchPlan:
    """What the staged batch changes in the committed store."""
    index = keyindex.for_store(root)
    months = None  # every month, unless this process keeps the key index (a server)
    if index.ready:
        # Earlier versions of the staged dossiers can only be in the months that hold
        # their keys: read those, not the whole store.
        index.follow(con, root, committed)
        months = index.months_holding(
            con.execute("SELECT DISTINCT k FROM staged").fetchnumpy()["k"])
    engine.register_current(con, store.version_files(root, committed, months),
                            store.superseded_files(root, committed, months), months=months)
    return engine.plan_batch(con)


def _require_capture(session: Session, access: Access, con: duckdb.DuckDBPyConnection
                     ) -> Access:
    """CAPTURE on the unit each changed dossier counts under, before and after: a dossier
    re-sent under another unit needs the right to change its current owner's records too.
    A unit abolished since (an old commune code) may be captured for by whoever may
    capture for the unit that carries it on today. Returns the access the batch's figures
    are written with (`RollUp`)."""
    if access.can(Action.CAPTURE):  # the whole installation (admin, a system job)
        return access
    resolver = UnitResolver.cached(session)
    above: set[int] = set()
    for leaf in sorted(set(resolver.umap(engine.owners(con)).get_column("leaf_id").to_list())):
        if not access.can(Action.CAPTURE, resolver.successor_today(leaf)):
            access.require(Action.CAPTURE, leaf)
        for unit_id in resolver.lineage(leaf):
            above.update(resolver.ancestors(unit_id))
    return RollUp(access.session, access.user, access.scope, above=frozenset(above))


@dataclass
class RollUp(Access):
    """The access a batch's figures are written with: the sender's rights, plus CAPTURE on
    the units above those whose records they changed (and their successors). Those totals
    are computed from the records, never typed, and must follow a commune's batch; the
    audit still names the sender, and a token's scope and the approval lock still hold."""

    above: frozenset[int] = frozenset()

    def can(self, action: Action, unit_id: int | None = None) -> bool:
        if action is Action.CAPTURE and unit_id is not None and unit_id in self.above:
            return True
        return super().can(action, unit_id)


def _open_batch(session: Session, source: str, name: str, sha: str, access: Access,
                recorded_at: dt.datetime | None) -> int:
    """The batch row, flushed for its id (which names the files) but committed only with
    the values computed from it: until then no reader sees the batch."""
    batch = RecordBatch(source=source, file_name=name[:400], sha256=sha,
                        user_id=access.user.id if access.user else None,
                        started_at=recorded_at or utcnow())
    session.add(batch)
    session.flush()
    return batch.id


@contextmanager
def _undone_on_failure(session: Session, root: Path, batch_id: int) -> Iterator[None]:
    """Any failure before the commit rolls the transaction back and deletes the files the
    batch wrote (they were never visible)."""
    try:
        yield
    except BaseException:
        session.rollback()
        store.remove_batch_files(root, batch_id)
        raise


def _close_batch(session: Session, result: IngestResult, access: Access,
                 recorded_at: dt.datetime | None) -> None:
    """Mark the batch committed; its audit event is the values' one (`_batch_event`), or
    its own when no value changed."""
    batch = session.get(RecordBatch, result.batch_id)
    assert batch is not None
    batch.status = BatchStatus.COMMITTED
    batch.rows_read, batch.rows_stored = result.rows_read, result.rows_stored
    batch.rows_ignored = result.rows_ignored
    batch.months = ",".join(map(str, result.months))
    batch.values_inserted, batch.values_updated = result.values_inserted, result.values_updated
    batch.seconds, batch.finished_at = result.seconds, recorded_at or utcnow()
    if not (result.values_inserted or result.values_updated):
        event = _batch_event(result)
        record_event(session, action=event.action, object_type=event.object_type,
                     object_id=event.object_id, actor=access.actor, after=event.after)
    session.flush()


def _batch_event(result: IngestResult) -> BatchEvent:
    """The one audit event of a batch (the values service adds the value counts)."""
    return BatchEvent(action="records.ingest", object_type="record_batch",
                      object_id=result.batch_id or "",
                      after={"file_name": result.file_name, "rows_read": result.rows_read,
                             "rows_stored": result.rows_stored,
                             "rows_ignored": result.rows_ignored})


def _write_and_compute(session: Session, con: duckdb.DuckDBPyConnection, root: Path,
                       committed: set[int], plan: engine.BatchPlan, result: IngestResult,
                       access: Access, step: Step | None, recorded_at: dt.datetime | None
                       ) -> None:
    """Write the planned batch's files and the values of the periods it touched."""
    assert result.batch_id is not None
    written = engine.store_batch(con, root, result.batch_id, plan)
    index = keyindex.for_store(root)
    if index.ready:
        index.add_batch(con, root, result.batch_id)
    result.rows_stored, result.rows_ignored = written.rows_stored, written.rows_ignored
    if written.touched.is_empty():
        return
    _announce(step, "compute")
    summary = recompute_touched(session, con, root, committed | {result.batch_id},
                                written.touched, access=access, event=_batch_event(result),
                                step=step, recorded_at=recorded_at)
    result.months = sorted(written.touched.get_column("month").unique().to_list())
    result.values_inserted, result.values_updated, result.values_unchanged = summary


# ----------------------------------------------------------------------- computation

def calendar_groups(session: Session) -> dict[Calendar, list[str]]:
    """The seven indicators by the calendar their dossiers are placed in periods with:
    the calendar of the data set each belongs to (NĐ 09 or standard)."""
    ids = indicator_ids(session)
    calendars = indicator_calendars(session, ids.get_column("indicator_id").to_list())
    groups: dict[Calendar, list[str]] = {}
    for code, indicator_id in ids.select("indicator_code", "indicator_id").iter_rows():
        groups.setdefault(calendars[indicator_id], []).append(code)
    return groups


def recompute_touched(session: Session, con: duckdb.DuckDBPyConnection, root: Path,
                      batches: set[int], touched: pl.DataFrame, *, access: Access,
                      event: BatchEvent, step: Step | None = None,
                      recorded_at: dt.datetime | None = None) -> tuple[int, int, int]:
    """Recompute the periods in `touched` (`p_<calendar>` columns) and write the values of
    the touched units and every unit above them (their versions dated `recorded_at`, see
    `ingest_file`). Returns (inserted, updated, unchanged)."""
    engine.register_procedures(con, procedures_frame(session))
    resolver = UnitResolver.cached(session)
    frames = []
    for calendar, codes in calendar_groups(session).items():
        periods = touched.select("unit_code", pl.col(f"p_{calendar.value}").alias("month"))
        long = _compute(con, root, batches, resolver, calendar,
                        sorted(periods.get_column("month").unique().to_list()),
                        scope=_scope_codes(resolver, periods, calendar))
        long = long.join(_target_units(resolver, periods, calendar), on=["unit_id", "month"],
                         how="semi")
        frames.append(_valid(long, resolver, calendar, codes))
    return _save(session, pl.concat(frames), access, event, step, recorded_at)


def _compute(con: duckdb.DuckDBPyConnection, root: Path, batches: set[int],
             resolver: UnitResolver, calendar: Calendar, periods: list[int] | None, *,
             scope: list[str] | None = None, current: bool = False) -> pl.DataFrame:
    """Long frame (unit_id, month, indicator_code, numerator, denominator) of `periods`
    (period months under `calendar`; None: every stored one), from the records of the
    units in `scope` (None: all). `register_procedures` must have run on `con`."""
    months = None if periods is None else engine.store_months(periods, calendar)
    engine.register_current(con, store.version_files(root, batches, months),
                            store.superseded_files(root, batches, months), calendar, months)
    engine.procedure_counts(con, periods=periods, unit_codes=scope)
    return _indicator_rows(con, resolver, engine.grp_unit_months(con), calendar=calendar,
                           current=current)


def _valid(long: pl.DataFrame, resolver: UnitResolver, calendar: Calendar,
           codes: list[str]) -> pl.DataFrame:
    """The rows of these indicators for units that exist in the period, with a value."""
    long = long.filter(pl.col("indicator_code").is_in(codes))
    return long.filter(resolver.valid_mask(long, calendar) & (pl.col("denominator") > 0))


def _scope_codes(resolver: UnitResolver, touched: pl.DataFrame, calendar: Calendar
                 ) -> list[str]:
    """Codes of every unit under the top-level units above the touched ones: the records
    that can change a touched unit's figures (a province batch reads only its province)."""
    umap = resolver.umap(touched, calendar=calendar)
    roots = {resolver.root_of[leaf] for leaf in umap.get_column("leaf_id").unique()}
    codes: set[str] = set(touched.get_column("unit_code").unique())
    for root in roots:
        # Old codes of merged units still count under their successors in this subtree.
        codes |= resolver.codes_by_root.get(root, frozenset())
    return sorted(codes)


def _indicator_rows(con: duckdb.DuckDBPyConnection, resolver: UnitResolver,
                    pairs: pl.DataFrame, *, calendar: Calendar = Calendar.STANDARD,
                    current: bool = False) -> pl.DataFrame:
    umap = resolver.umap(pairs, current=current, calendar=calendar)
    closure = resolver.closure(umap.get_column("leaf_id").to_list())
    return engine.indicator_table(con, umap, closure)


def _target_units(resolver: UnitResolver, touched: pl.DataFrame, calendar: Calendar
                  ) -> pl.DataFrame:
    """(unit_id, month) of each touched leaf and all its ancestors."""
    umap = resolver.umap(touched, calendar=calendar)
    closure = resolver.closure(umap.get_column("leaf_id").to_list())
    return umap.join(closure, on="leaf_id").select("unit_id", "month").unique()


def _save(session: Session, long: pl.DataFrame, access: Access, event: BatchEvent,
          step: Step | None = None, recorded_at: dt.datetime | None = None
          ) -> tuple[int, int, int]:
    """Write the values through the values service as `access`, with `event` as the one
    audit event of the write and their versions dated `recorded_at` (default now)."""
    _announce(step, "save")
    if long.is_empty():
        return (0, 0, 0)
    rows = long.join(indicator_ids(session), on="indicator_code").select(
        "unit_id", "indicator_id",
        pl.col("month").cast(pl.String).alias("period"),
        "numerator", "denominator",
        (pl.col("numerator") / pl.col("denominator") * pl.col("scale")).alias("value"))
    if rows.is_empty():
        return (0, 0, 0)
    # Figures computed by the demo builder from its generated dossiers are invented: they
    # carry the demo's source, so every page and report marks them illustrative.
    source = DEMO_SOURCE if access.system_name == DEMO_SOURCE else SOURCE
    summary = upsert_values(session, rows, source=source, access=access, event=event,
                            recorded_at=recorded_at)
    return (summary.inserted, summary.updated, summary.unchanged)


def indicator_ids(session: Session) -> pl.DataFrame:
    codes = list(engine.INDICATORS)
    found = session.execute(select(Indicator.code, Indicator.id, Indicator.scale)
                            .where(Indicator.code.in_(codes))).all()
    missing = sorted(set(codes) - {r.code for r in found})
    if missing:
        raise RecordsError(
            f"Chưa có chỉ tiêu {', '.join(missing)} trong danh mục (chạy chiso init)",
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


def recompute(session: Session, *, access: Access, unit_code: str | None = None,
              month_from: int | None = None, month_to: int | None = None,
              memory_mb: int = engine.DEFAULT_MEMORY_MB) -> RecomputeResult:
    """Full recompute for repairs, committed: every period month in [from, to] (all by
    default), for every unit (CAPTURE everywhere) or for one unit and the units below it
    (CAPTURE on it)."""
    started = time.perf_counter()
    root = store.store_dir()
    only = _units_below(session, access, unit_code) if unit_code else None
    if only is None:
        access.require(Action.CAPTURE)
    with store.writer_lock(root):
        con = engine.connect(root, memory_mb=memory_mb)
        try:
            periods, frames = _recompute_frames(session, con, root, month_from, month_to, only)
        finally:
            con.close()
        event = BatchEvent(action="records.recompute", object_type="record_batch",
                           after={"unit": unit_code or "", "months": len(periods)})
        counts = _save(session, pl.concat(frames), access, event) if frames else (0, 0, 0)
        if not (counts[0] or counts[1]):  # the values service wrote no event
            record_event(session, action=event.action, object_type=event.object_type,
                         actor=access.actor, after=event.after)
        session.commit()
    return RecomputeResult(periods, *counts, seconds=time.perf_counter() - started)


def _recompute_frames(session: Session, con: duckdb.DuckDBPyConnection, root: Path,
                      month_from: int | None, month_to: int | None, only: set[int] | None
                      ) -> tuple[list[int], list[pl.DataFrame]]:
    """The period months recomputed and the values of each calendar's indicators."""
    batches = store.committed_batch_ids(session)
    stored = store.stored_months(root)
    if not (stored and batches):
        return [], []
    engine.register_procedures(con, procedures_frame(session))
    periods: set[int] = set()
    frames = []
    for calendar, codes in calendar_groups(session).items():
        wanted = _periods_in(stored, calendar, month_from, month_to)
        periods |= set(wanted)
        frames.append(_recompute_calendar(session, con, root, batches, calendar, codes,
                                          wanted, only))
    return sorted(periods), frames


def _periods_in(stored: list[int], calendar: Calendar, first: int | None,
                last: int | None) -> list[int]:
    """The period months (under `calendar`) the stored civil months hold, within [first,
    last]: under NĐ 09 the second half of December is January's."""
    periods = set(stored)
    if calendar is Calendar.CUTOFF_ND09:
        periods |= {m + 1 if m % 100 < 12 else m + 89 for m in stored}
    return sorted(p for p in periods
                  if (first is None or p >= first) and (last is None or p <= last))


def _recompute_calendar(session: Session, con: duckdb.DuckDBPyConnection, root: Path,
                        batches: set[int], calendar: Calendar, codes: list[str],
                        periods: list[int], only: set[int] | None) -> pl.DataFrame:
    resolver = UnitResolver(session)
    long = _compute(con, root, batches, resolver, calendar, periods)
    if only is not None:
        long = long.filter(pl.col("unit_id").is_in(list(only)))
    return _valid(long, resolver, calendar, codes)


def _units_below(session: Session, access: Access, unit_code: str) -> set[int]:
    resolver = UnitResolver(session)
    units = resolver.by_code.get(unit_code)
    if not units:
        raise UnitUnknown(unit_code)
    found: set[int] = set()
    for unit in units:
        access.require(Action.CAPTURE, unit.id)
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
    resolver = UnitResolver(session)
    con = engine.connect(root, memory_mb=256)
    frames = []
    try:
        engine.register_procedures(con, procedures_frame(session))
        for calendar, codes in calendar_groups(session).items():
            long = _compute(con, root, batches_, resolver, calendar, months, current=current)
            frames.append(long.filter(pl.col("unit_id") == unit_id,
                                      pl.col("indicator_code").is_in(codes)))
    finally:
        con.close()
    return pl.concat(frames).join(indicator_ids(session), on="indicator_code").select(
        "month", "indicator_code", "numerator", "denominator",
        pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator") * pl.col("scale")).alias("value"))


SERVICES_INDICATOR = "CQS.DVCTT_PHAT_SINH_HS"  # the one about online services offered


def procedures_without_online(session: Session, unit_id: int, months: list[int]
                              ) -> pl.DataFrame:
    """Online procedures the unit (and its sub-units) offer with no online dossier in
    these period months (under the services indicator's calendar): code, name,
    service_level, field, dossiers."""
    resolver = UnitResolver(session)
    below = resolver.subtree(unit_id)
    codes = sorted({resolver.units[i].code for i in below})
    calendar = _calendar_of(session, SERVICES_INDICATOR)
    root = store.store_dir()
    con = engine.connect(root, memory_mb=256)
    try:
        procedures = procedures_frame(session)
        engine.register_procedures(con, procedures)
        batches_ = store.committed_batch_ids(session)
        files = engine.store_months(months, calendar)
        engine.register_current(con, store.version_files(root, batches_, files),
                                store.superseded_files(root, batches_, files), calendar, files)
        found = engine.procedures_without_online(con, codes, months)
    finally:
        con.close()
    return found.join(procedures.select("code", "name"), on="code", how="left")


def _calendar_of(session: Session, code: str) -> Calendar:
    return next((c for c, codes in calendar_groups(session).items() if code in codes),
                Calendar.STANDARD)


def month_range(year: int, today: dt.date | None = None,
                calendars: Iterable[Calendar] = (Calendar.STANDARD,)) -> list[int]:
    """The period months of `year` up to the current one (all twelve for a past year); with
    several calendars, up to the latest current period (NĐ 09 starts January on 15/12)."""
    if today is None:
        return [year * 100 + m for m in range(1, 13)]
    current = max(int(period_containing(today, PeriodType.MONTH, c).id) for c in calendars)
    last = 12 if current // 100 > year else current % 100 if current // 100 == year else 0
    return [year * 100 + m for m in range(1, last + 1)]


def year_months(session: Session, year: int, today: dt.date) -> list[int]:
    """`month_range` under the calendars the seven indicators follow."""
    return month_range(year, today, calendar_groups(session))


ONLINE_SERVICE_LEVELS = (ServiceLevel.FULL.value, ServiceLevel.PARTIAL.value)


def load_generated_feed(session: Session, *, access: Access, province: str, months: int,
                        seed: int, end: dt.date, rows: int | None = None,
                        adoption: Adoption | None = None,
                        recorded_at: dt.datetime | None = None) -> IngestResult:
    """Generate a synthetic feed for `province` and ingest it: the procedure catalogue
    first, then the dossiers, as one batch (dated `recorded_at`, see `ingest_file`)."""
    from chiso.records.generator import Adoption, generate

    with tempfile.TemporaryDirectory() as tmp:
        feed_path = Path(tmp) / f"mot-cua-{province}.parquet"
        generated = generate(session, feed_path, province=province, months=months, seed=seed,
                             rows=rows, end=end, adoption=adoption or Adoption())
        load_procedures(session, generated.procedures_path, access=access)
        session.flush()
        return ingest_file(session, feed_path, access=access, display_name=feed_path.name,
                           recorded_at=recorded_at)


@dataclass
class MonthlyFeed:
    """What `load_generated_months` ingested: each month's batch, and the dossiers received
    in those months."""

    batches: list[IngestResult]
    dossiers: int


def load_generated_months(session: Session, *, access: Access, province: str, year: int,
                          seed: int, sent_at: Mapping[int, dt.datetime],
                          adoption: Adoption | None = None) -> MonthlyFeed:
    """The demo's live records: a synthetic feed of `province`'s whole `year`, sent month by
    month (`generator.monthly_batches`: a dossier when received, again when finished). The
    months in `sent_at` (yyyymm → the instant that month's batch came) are ingested in
    order, each batch committed with its values' versions dated when it came (a system job
    only, see `ingest_file`), so a past quarter's report reads the figures its closing date
    knew. A month already ingested is skipped by its file's hash. The year is generated
    whole whatever the months asked for, so a month's batch does not depend on them."""
    from chiso.records.generator import Adoption, generate, monthly_batches

    with tempfile.TemporaryDirectory() as tmp:
        whole = Path(tmp) / f"mot-cua-{province}-{year}.parquet"
        generated = generate(session, whole, province=province, months=12, seed=seed,
                             end=dt.date(year, 12, 31), adoption=adoption or Adoption())
        load_procedures(session, generated.procedures_path, access=access)
        session.flush()
        feed_rows = pl.read_parquet(whole)
        batches = monthly_batches(feed_rows)
        results = []
        for month in sorted(set(sent_at) & set(batches)):
            path = Path(tmp) / f"mot-cua-{province}-{month}.parquet"
            batches[month].write_parquet(path)
            results.append(ingest_file(session, path, access=access, display_name=path.name,
                                       recorded_at=sent_at[month]))
    received = feed_rows.filter((pl.col("received_at").dt.year() * 100 + pl.col(
        "received_at").dt.month()).is_in(list(sent_at)))
    return MonthlyFeed(results, received.get_column("dossier_code").n_unique())

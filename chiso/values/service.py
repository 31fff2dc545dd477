"""The one way data values change (số liệu): single saves from forms and the API, and the
set-based bulk path used by imports, record feeds and the demo.

Every write takes a required `access` — a person's (with an API token's scope), or
`Access.system(session, "job")` for an internal job — checks CAPTURE on every unit it
touches, runs the write guards (the reporting cycle's approval lock) with that access,
and writes one audit event, in the caller's transaction. Writing before
`chiso.boot.boot()` is refused (`require_booted`), so no script can skip a guard.

Nothing is overwritten in place: every insert, update, soft delete and restore appends a
`DataValueVersion`. A value for a period that has not begun yet is refused unless its source
is one of `CHISO_FUTURE_VALUE_SOURCES` (planned figures). An estimate (ước) is the current
figure until the official one replaces it, and stays beside it (`chiso.values.estimates`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import polars as pl
from sqlalchemy import Connection, CursorResult, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, Actor, PermissionDenied
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.db.base import utcnow
from chiso.errors import Conflict, NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.periods import Calendar, PeriodError, parse_period, period_of_cell
from chiso.settings import get_settings
from chiso.text import format_date, name_key, nfc, to_utc, vn_today
from chiso.text.columns import cell_text, parse_number_columns
from chiso.units.models import OrgUnit
from chiso.values import changes, estimates
from chiso.values.calendars import calendar_for_indicator, with_calendars
from chiso.values.models import DataValue, DataValueVersion
from chiso.values.rules import check_values, empty_errors, error_rows

VALUES = cast(Table, DataValue.__table__)
VERSIONS = cast(Table, DataValueVersion.__table__)
KEY = ["unit_id", "indicator_id", "period"]
NUMBER_FIELDS = ("numerator", "denominator", "value")
# Bound parameters per statement stay well under SQLite's limit (32,766; 999 before 3.32).
IN_CHUNK = 400
SOURCE_MAX = 32


class ValueRejected(UserError):
    """Input that breaks a rule (422); `issues` carries every problem, each a dict with
    column, rule, message_vi and message_en."""

    status = 422

    def __init__(self, issues: Sequence[dict[str, Any]]) -> None:
        super().__init__("; ".join(_issue_text(i, "vi") for i in issues),
                         "; ".join(_issue_text(i, "en") for i in issues), issues=issues)


def _issue_text(issue: dict[str, Any], locale: str) -> str:
    column = issue.get("column") or ""
    prefix = ("cột" if locale == "vi" else "column") + f" '{column}': " if column else ""
    return prefix + str(issue[f"message_{locale}"])


class StaleVersion(Conflict):
    """Someone saved this value after you read it (409): reload and re-apply your change.
    The API answer carries `current_version`."""

    def __init__(self, *, expected: int | None, current: int | None) -> None:
        self.expected, self.current = expected, current
        if expected is None or current is None:  # a bulk write overtaken: no one version
            super().__init__(
                "Trong lúc lưu, người khác vừa cập nhật một số liệu của tệp nên chưa có gì "
                "được lưu. Hãy lưu lại.",
                "While saving, someone else changed one of these values, so nothing was "
                "stored. Save again.", data={"current_version": current})
            return
        super().__init__(
            f"Số liệu đã được người khác cập nhật (phiên bản {current}, bạn đang sửa phiên bản "
            f"{expected}). Hãy tải lại và nhập lại thay đổi.",
            f"This value was changed by someone else (version {current}; you edited version "
            f"{expected}). Reload it and apply your change again.",
            data={"current_version": current})


class ValueNotFound(NotFound):
    """No stored value with that id (404)."""

    def __init__(self, data_value_id: int) -> None:
        super().__init__(f"Không có số liệu #{data_value_id}", f"no data value #{data_value_id}")


class UpsertSummary(NamedTuple):
    inserted: int
    updated: int
    unchanged: int


# ------------------------------------------------------------------ write guards

WriteGuard = Callable[[Session, pl.DataFrame, Access], None]
# The one extension point for other domains (used by the reporting cycle's approval lock,
# chiso/collection/service.py::guard_value_writes, installed by chiso.boot.boot()). Every
# write path — save_value, delete_value and apply_changes (so upsert_values and every
# import) — calls each guard, in the writer's transaction and before writing, with the
# keys about to change (a frame of unit_id, indicator_id, period; unchanged rows are not
# included) and the writer's Access (its token scope included). A guard may raise
# ValueRejected to refuse the whole write, or record what it needs.
WRITE_GUARDS: list[WriteGuard] = []


def run_write_guards(session: Session, keys: pl.DataFrame, access: Access) -> None:
    """Ask every guard about the keys about to change, then log them in the change log
    (`chiso.values.changes`), which memoised analytics answers are refreshed from."""
    if keys.is_empty():
        return
    frame = keys.select(pl.col("unit_id").cast(pl.Int64), pl.col("indicator_id").cast(pl.Int64),
                        pl.col("period").cast(pl.String))
    for guard in list(WRITE_GUARDS):
        guard(session, frame, access)
    changes.record(session, frame)


def _key_frame(unit_id: int, indicator_id: int, period: str) -> pl.DataFrame:
    return pl.DataFrame({"unit_id": [unit_id], "indicator_id": [indicator_id],
                         "period": [period]})


# ------------------------------------------------------------------ single value


SAVE_ATTEMPTS = 3  # a save without an expected version, when another one overtook it


def save_value(
    session: Session,
    *,
    unit_id: int,
    indicator_id: int,
    period: str,
    numerator: object = None,
    denominator: object = None,
    value: object = None,
    source: str = "manual",
    comment: str = "",
    expected_version: int | None = None,
    access: Access,
    import_batch_id: int | None = None,
    estimate: bool = False,
) -> DataValue:
    """Save one figure (a ratio's value is computed from its parts) as a new version, as
    `access` (CAPTURE on the unit). `period` may be any spelling of a period, or a date
    (placed by the calendar of the indicator's data set). `estimate` marks an estimate
    (ước): it never replaces an official figure, which replaces it and keeps it beside.

    Numbers may be Python numbers or text as users type it ("76,6%", "1.234.567").
    Saving the same figure again changes nothing and writes no version. With
    `expected_version`, a save finding another version is refused (`StaleVersion`, 409);
    without it, a save overtaken by another between its read and its write is applied on
    top of that one, as it would have been a moment later.
    """
    require_booted()
    access.require(Action.CAPTURE, unit_id)
    actor = access.actor
    indicator = _indicator_or_reject(session, indicator_id)
    calendar = calendar_for_indicator(session, indicator.id)
    period_id = canonical_period(period, calendar)
    _check_period_begun(period_id, calendar, source)
    _check_unit_in_period(session, unit_id, period_id)
    computed = _checked_single(indicator, numerator, denominator, value)
    for attempt in range(SAVE_ATTEMPTS):
        existing = session.scalar(
            select(DataValue).where(DataValue.unit_id == unit_id,
                                    DataValue.indicator_id == indicator_id,
                                    DataValue.period == period_id).with_for_update())
        _check_expected_version(existing, expected_version)
        if estimate and estimates.official_stands(existing):
            assert existing is not None
            if estimates.same_estimate(existing, computed):
                return existing
            raise ValueRejected([estimates.official_exists_issue(period_id)])
        new_state = {**computed, "comment": nfc(comment), "source": _source(source),
                     **estimates.columns(existing, computed, estimate)}
        if existing is not None and not existing.deleted and _same_state(existing, new_state):
            return existing
        run_write_guards(session, _key_frame(unit_id, indicator_id, period_id), access)
        if existing is None:
            return _insert_single(session, unit_id, indicator_id, period_id, new_state,
                                  actor, import_batch_id)
        try:
            return _update_single(session, existing, new_state, actor, import_batch_id)
        except StaleVersion:
            # A caller without `expected_version` asked for "this figure now", not for a
            # change to a version they read: another save between our read and our write
            # is no conflict for them. It happens on SQLite, which has no row locks
            # (PostgreSQL's FOR UPDATE above waits instead); the failed UPDATE left
            # nothing changed and holds the write lock, so reading again sees that save
            # and no other can commit before ours.
            if expected_version is not None or attempt == SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def delete_value(
    session: Session,
    data_value_id: int,
    *,
    expected_version: int | None = None,
    comment: str = "",
    access: Access,
) -> DataValue:
    """Soft delete, as `access` (CAPTURE on the value's unit): the value disappears from
    views but stays, with its history, as a new version marked deleted. Saving it again
    restores it."""
    require_booted()
    existing = session.get(DataValue, data_value_id, with_for_update=True)
    if existing is None:
        raise ValueNotFound(data_value_id)
    access.require(Action.CAPTURE, existing.unit_id)
    _check_expected_version(existing, expected_version)
    if existing.deleted:
        return existing
    run_write_guards(session, _key_frame(existing.unit_id, existing.indicator_id,
                                         existing.period), access)
    state = {"numerator": existing.numerator, "denominator": existing.denominator,
             "value": existing.value, "comment": nfc(comment) or existing.comment,
             "source": existing.source,
             **{name: getattr(existing, name) for name in estimates.ESTIMATE_COLUMNS}}
    return _update_single(session, existing, state, access.actor, None, change="delete")


def value_history(session: Session, data_value_id: int) -> list[DataValueVersion]:
    """Every saved state of one value, oldest first."""
    return list(session.scalars(
        select(DataValueVersion).where(DataValueVersion.data_value_id == data_value_id)
        .order_by(DataValueVersion.version)))


def _indicator_or_reject(session: Session, indicator_id: int) -> Indicator:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise ValueRejected([{"column": "indicator_code", "rule": "indicator_unknown",
                              "message_vi": f"không có chỉ tiêu #{indicator_id}",
                              "message_en": f"no indicator #{indicator_id}"}])
    return indicator


def canonical_period(period: object, calendar: Calendar = Calendar.STANDARD) -> str:
    """'Quý III/2025' → '2025Q3': the period id for any spelling `chiso.periods` reads; a
    date stands for the month holding it under `calendar`. Raises ValueRejected (rule
    period_format)."""
    cell = period if isinstance(period, str | dt.date) else cell_text(period)
    try:
        return period_of_cell(cell, calendar).id
    except PeriodError:
        raise ValueRejected([period_issue(str(period))]) from None


def _period_to_read(text: str) -> str:
    """A period asked for: any spelling, and 'lũy kế từ đầu năm' (January to this month)."""
    try:
        return parse_period(text, as_of=vn_today()).id
    except PeriodError:
        return canonical_period(text)  # a date, or the bilingual refusal


def period_issue(text: str) -> dict[str, str]:
    return {"column": "period", "rule": "period_format",
            "message_vi": f"kỳ báo cáo '{text}' không hợp lệ (ghi 2025, 2025S1, 2025Q3, "
                          "202509 hoặc Quý III/2025, Tháng 9/2025)",
            "message_en": f"period '{text}' is not valid (write 2025, 2025S1, 2025Q3, "
                          "202509, or Quý III/2025, Tháng 9/2025)"}


def future_sources() -> set[str]:
    """Sources allowed to carry figures for periods not begun (`CHISO_FUTURE_VALUE_SOURCES`),
    as name keys: 'Kế hoạch' and 'kế hoạch' are one source."""
    return {name_key(s) for s in get_settings().future_value_sources.split(",") if s.strip()}


def _check_period_begun(period_id: str, calendar: Calendar, source: str | None) -> None:
    begins = parse_period(period_id).start(calendar)
    if begins > vn_today() and name_key(_source(source)) not in future_sources():
        raise ValueRejected([future_period_issue(period_id, begins)])


def future_period_issue(period_id: str, begins: dt.date | str) -> dict[str, str]:
    """A value for a period that has not begun: an actual figure for next quarter is a
    mistake; planned figures need a source listed in CHISO_FUTURE_VALUE_SOURCES."""
    period = parse_period(period_id)
    day = format_date(begins) if isinstance(begins, dt.date) else begins
    return {"column": "period", "rule": "period_not_begun",
            "message_vi": f"kỳ {period.label_vi()} chưa bắt đầu (bắt đầu ngày {day}): không "
                          "nhận số liệu cho kỳ chưa đến; số liệu kế hoạch cần ghi nguồn được "
                          "quản trị hệ thống cho phép",
            "message_en": f"period {period.label_en()} has not begun (it starts on {day}): "
                          "values for a period not yet begun are refused; planned figures "
                          "need a source the administrator allows "
                          "(CHISO_FUTURE_VALUE_SOURCES)"}


def _check_unit_in_period(session: Session, unit_id: int, period_id: str) -> None:
    unit = session.get(OrgUnit, unit_id)
    period = parse_period(period_id)
    if unit is None:
        raise ValueRejected([{"column": "unit_code", "rule": "unit_unknown",
                              "message_vi": f"không có đơn vị #{unit_id}",
                              "message_en": f"no unit #{unit_id}"}])
    starts_after = unit.valid_from > period.end()
    ended_before = unit.valid_to is not None and unit.valid_to < period.start()
    if starts_after or ended_before:
        raise ValueRejected([unit_validity_issue(unit.code, period_id)])


def unit_validity_issue(code: str, period_id: str) -> dict[str, str]:
    return {"column": "unit_code", "rule": "unit_not_valid_in_period",
            "message_vi": f"đơn vị mã '{code}' không có hiệu lực trong kỳ {period_id}",
            "message_en": f"unit '{code}' is not valid in period {period_id}"}


def _checked_single(indicator: Indicator, numerator: object, denominator: object,
                    value: object) -> dict[str, float | None]:
    raw = {"numerator": cell_text(numerator), "denominator": cell_text(denominator),
           "value": cell_text(value)}
    frame = pl.DataFrame({"_row": [1], **{k: [v] for k, v in raw.items()}},
                         schema={"_row": pl.Int64, **dict.fromkeys(raw, pl.String)})
    frame = with_parsed_numbers(frame).with_columns(
        indicator_code=pl.lit(indicator.code), kind=pl.lit(indicator.kind),
        scale=pl.lit(float(indicator.scale)), decimals=pl.lit(int(indicator.decimals)))
    checked, errors = check_values(frame)
    if not errors.is_empty():
        raise ValueRejected(errors.to_dicts())
    row = checked.row(0, named=True)
    return {"numerator": row["numerator"], "denominator": row["denominator"],
            "value": row["final_value"]}


def with_parsed_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells numerator/denominator/value → parsed Float64 plus `_text`, `_percent`."""
    return parse_number_columns(frame, NUMBER_FIELDS)


def _check_expected_version(existing: DataValue | None, expected: int | None) -> None:
    if expected is None:
        return
    current = existing.version if existing is not None else 0
    if expected != current:
        raise StaleVersion(expected=expected, current=current)


def _source(source: str | None) -> str:
    return (nfc(source) or "manual")[:SOURCE_MAX]


def _same_state(existing: DataValue, state: dict[str, Any]) -> bool:
    return all(_same_number(getattr(existing, n), state[n]) for n in NUMBER_FIELDS) and (
        existing.comment == state["comment"]) and existing.estimate == state["estimate"]


def _same_number(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return abs(old - new) <= 1e-9 * max(1.0, abs(old))


def _snapshot(row: Any) -> dict[str, Any]:
    return {"numerator": row.numerator, "denominator": row.denominator, "value": row.value,
            "comment": row.comment, "source": row.source, "version": row.version,
            "deleted": row.deleted, "estimate": row.estimate,
            "estimate_value": row.estimate_value}


def _insert_single(session: Session, unit_id: int, indicator_id: int, period_id: str,
                   state: dict[str, Any], actor: Actor | None, batch_id: int | None) -> DataValue:
    period = parse_period(period_id)
    row = DataValue(unit_id=unit_id, indicator_id=indicator_id, period=period_id,
                    period_type=period.type.value, period_start=period.start(),
                    period_end=period.end(), version=1, deleted=False,
                    updated_by_id=getattr(actor, "id", None), **state)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Someone saved the same unit, indicator and period a moment ago; the caller
        # rolls back (no savepoint: SQLite's driver would commit at its release).
        raise StaleVersion(expected=0, current=1) from None
    _add_version(session, row, "insert", actor, batch_id)
    record_event(session, action="value.create", object_type="data_value", object_id=row.id,
                 actor=actor, unit_id=unit_id, after=_snapshot(row), note=period_id)
    return row


def _update_single(session: Session, existing: DataValue, state: dict[str, Any],
                   actor: Actor | None, batch_id: int | None, change: str | None = None
                   ) -> DataValue:
    before = _snapshot(existing)
    change = change or ("restore" if existing.deleted else "update")
    # The version predicate makes a concurrent save fail instead of silently winning.
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(VALUES).where(VALUES.c.id == existing.id, VALUES.c.version == existing.version)
        .values(**state, version=existing.version + 1, deleted=(change == "delete"),
                updated_at=utcnow(), updated_by_id=getattr(actor, "id", None)))
    if result.rowcount != 1:
        session.expire(existing)
        raise StaleVersion(expected=before["version"], current=existing.version)
    session.expire(existing)
    _add_version(session, existing, change, actor, batch_id)
    record_event(session, action=f"value.{change}", object_type="data_value",
                 object_id=existing.id, actor=actor, unit_id=existing.unit_id,
                 before=before, after=_snapshot(existing), note=existing.period)
    return existing


def _add_version(session: Session, row: DataValue, change: str, actor: Actor | None,
                 batch_id: int | None) -> None:
    session.execute(insert(VERSIONS).values(
        data_value_id=row.id, version=row.version, numerator=row.numerator,
        denominator=row.denominator, value=row.value, source=row.source, comment=row.comment,
        estimate=row.estimate, deleted=row.deleted, change=change, changed_at=utcnow(),
        changed_by_id=getattr(actor, "id", None), import_batch_id=batch_id))


# ------------------------------------------------------------------ bulk path


@dataclass
class ChangePlan:
    """What a bulk upsert would do: frames of rows to insert, update and leave alone.
    `updates` carries the old figures as `<name>_old` for the dry-run diff."""

    inserts: pl.DataFrame
    updates: pl.DataFrame
    unchanged: pl.DataFrame

    def summary(self) -> UpsertSummary:
        return UpsertSummary(self.inserts.height, self.updates.height, self.unchanged.height)


def upsert_values(
    session: Session,
    rows: pl.DataFrame | Iterable[dict[str, Any]],
    *,
    source: str,
    access: Access,
    import_batch_id: int | None = None,
    event: BatchEvent | None = None,
    recorded_at: dt.datetime | None = None,
) -> UpsertSummary:
    """Insert or update many values at once (set-based), as `access` (CAPTURE on every unit
    written). `rows` has unit_id, indicator_id, period, numerator, denominator, value and
    optionally comment (null keeps the stored comment), source and estimate (ước: true for
    an estimate, which never replaces an official figure). Ratios with both parts
    get value = numerator / denominator × scale. Raises ValueRejected (nothing written) when
    any row breaks a rule. `event` names the one audit event (see `apply_changes`);
    `recorded_at` dates the versions of a system job's history backfill (`apply_changes`)."""
    frame = checked_rows(session, _as_frame(rows), source=source)
    plan = plan_changes(session, frame)
    return apply_changes(session, plan, source=source, access=access,
                         import_batch_id=import_batch_id, event=event, recorded_at=recorded_at)


def _as_frame(rows: pl.DataFrame | Iterable[dict[str, Any]]) -> pl.DataFrame:
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(list(rows),
                                                                    infer_schema_length=None)
    for name in NUMBER_FIELDS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(name))
    for name in ("comment", "source"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
    frame = estimates.with_flag(frame)
    return frame.with_columns(
        pl.col("unit_id", "indicator_id").cast(pl.Int64),
        pl.col("period").cast(pl.String),
        pl.col(*NUMBER_FIELDS).cast(pl.Float64),
        pl.col("comment", "source").cast(pl.String),
    ).with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))


def checked_rows(session: Session, frame: pl.DataFrame, *, source: str) -> pl.DataFrame:
    """Apply the value rules to numeric rows from code (no text parsing); compute ratios.
    Periods are checked under the calendar of each row's indicator."""
    frame = with_calendars(session, with_indicator_facts(session, frame))
    frame = frame.with_columns(
        *[pl.col(n).cast(pl.String).alias(f"{n}_text") for n in NUMBER_FIELDS],
        *[pl.lit(False).alias(f"{n}_percent") for n in NUMBER_FIELDS])
    checked, errors = check_values(frame)
    with_periods = with_period_dates(checked)
    errors = pl.concat([errors, period_errors(with_periods),
                        future_period_errors(with_periods, source),
                        unit_validity_errors(session, with_periods)])
    if not errors.is_empty():
        raise ValueRejected(_first_issues(errors))
    return with_periods.with_columns(value=pl.col("final_value"))


def _first_issues(errors: pl.DataFrame, limit: int = 20) -> list[dict[str, Any]]:
    rows = errors.sort("_row").head(limit).to_dicts()
    for row in rows:
        row["message_vi"] = f"dòng {row['_row']}: {row['message_vi']}"
        row["message_en"] = f"row {row['_row']}: {row['message_en']}"
    return rows


def with_indicator_facts(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    """Join kind, scale, decimals and code of each row's indicator (unknown → kind null)."""
    ids = frame.get_column("indicator_id").drop_nulls().unique().to_list()
    facts: list[Any] = []
    for chunk in _chunks(ids):
        facts += session.execute(select(
            Indicator.id, Indicator.code, Indicator.kind, Indicator.scale, Indicator.decimals)
            .where(Indicator.id.in_(chunk))).all()
    facts_frame = pl.DataFrame(
        facts, orient="row",
        schema={"indicator_id": pl.Int64, "indicator_code": pl.String, "kind": pl.String,
                "scale": pl.Float64, "decimals": pl.Int64})
    drop = [c for c in ("indicator_code", "kind", "scale", "decimals") if c in frame.columns]
    return frame.drop(drop).join(facts_frame, on="indicator_id", how="left")


def with_period_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Add canonical `period` (any spelling in), `period_type`, `period_start` and
    `period_end` (the civil bounds of the period id, as stored and queried) and
    `period_begins` (its first day under the row's `calendar` column — NĐ 09/2019 or
    standard — or the standard calendar without one). Unparseable periods get nulls.
    Parsing runs once per distinct period and calendar (a file has a handful)."""
    calendar = (pl.col("calendar") if "calendar" in frame.columns
                else pl.lit(Calendar.STANDARD.value)).alias("__calendar")
    frame = frame.with_columns(calendar)
    facts = []
    for text, name in frame.select("period", "__calendar").unique().iter_rows():
        try:
            period = parse_period(text)
        except PeriodError:
            continue
        facts.append((text, name, period.id, period.type.value, period.start(),
                      period.end(), period.start(Calendar(name))))
    facts_frame = pl.DataFrame(facts, orient="row", schema={
        "period": pl.String, "__calendar": pl.String, "period_id": pl.String,
        "period_type": pl.String, "period_start": pl.Date, "period_end": pl.Date,
        "period_begins": pl.Date})
    return frame.join(facts_frame, on=["period", "__calendar"], how="left").with_columns(
        period=pl.coalesce("period_id", "period")).drop("period_id", "__calendar")


def future_period_errors(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Rows for a period that has not begun (today in Vietnam, under the row's calendar),
    unless the row's source (or the batch's) is one of CHISO_FUTURE_VALUE_SOURCES."""
    late = frame.filter(pl.col("period_begins") > vn_today())
    if late.is_empty():
        return empty_errors()
    row_source = (pl.coalesce(pl.col("source"), pl.lit(source)) if "source" in late.columns
                  else pl.lit(source))
    late = late.with_columns(row_source.alias("__source"))
    allowed = future_sources()
    allowed_here = [text for text in late.get_column("__source").unique().to_list()
                    if name_key(_source(text)) in allowed]
    late = late.filter(~pl.col("__source").is_in(allowed_here))
    issues = {period: future_period_issue(period, begins) for period, begins
              in late.select("period", "period_begins").unique().iter_rows()}
    return error_rows(late, pl.lit(True), column="period", rule="period_not_begun",
                      vi=pl.col("period").replace_strict(
                          {p: i["message_vi"] for p, i in issues.items()}),
                      en=pl.col("period").replace_strict(
                          {p: i["message_en"] for p, i in issues.items()}))


def period_errors(frame: pl.DataFrame) -> pl.DataFrame:
    text = pl.col("period_text") if "period_text" in frame.columns else pl.col("period")
    issue = period_issue("{}")
    return error_rows(
        frame, pl.col("period_type").is_null(), column="period", rule="period_format",
        vi=pl.format(issue["message_vi"], text.fill_null("")),
        en=pl.format(issue["message_en"], text.fill_null("")))


def unit_validity_errors(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose unit (by id) did not exist during the row's period."""
    units = units_frame(session, frame.get_column("unit_id").drop_nulls().unique().to_list())
    joined = frame.join(units.rename({"id": "unit_id", "code": "unit_code_db"}),
                        on="unit_id", how="left")
    invalid = pl.col("period_type").is_not_null() & (
        pl.col("unit_code_db").is_null()
        | (pl.col("valid_from") > pl.col("period_end"))
        | (pl.col("valid_to").is_not_null() & (pl.col("valid_to") < pl.col("period_start"))))
    issue = unit_validity_issue("{}", "{}")
    return error_rows(joined, invalid, column="unit_code", rule="unit_not_valid_in_period",
                      vi=pl.format(issue["message_vi"],
                                   pl.coalesce("unit_code_db", pl.col("unit_id").cast(pl.String)),
                                   pl.col("period")),
                      en=pl.format(issue["message_en"],
                                   pl.coalesce("unit_code_db", pl.col("unit_id").cast(pl.String)),
                                   pl.col("period")))


def units_frame(session: Session, ids: list[int] | None = None) -> pl.DataFrame:
    """id, code, valid_from, valid_to of the given units (all units when ids is None)."""
    columns = (OrgUnit.id, OrgUnit.code, OrgUnit.valid_from, OrgUnit.valid_to)
    rows: list[Any] = []
    if ids is None:
        rows = list(session.execute(select(*columns)).all())
    for chunk in _chunks(ids or []):
        rows += session.execute(select(*columns).where(OrgUnit.id.in_(chunk))).all()
    return pl.DataFrame(rows, orient="row", schema={
        "id": pl.Int64, "code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date})


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


EXISTING_SCHEMA = {
    "id": pl.Int64, "unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.String,
    "numerator_old": pl.Float64, "denominator_old": pl.Float64, "value_old": pl.Float64,
    "comment_old": pl.String, "source_old": pl.String, "version_old": pl.Int64,
    "deleted_old": pl.Boolean, "estimate_old": pl.Boolean,
    "estimate_numerator_old": pl.Float64, "estimate_denominator_old": pl.Float64,
    "estimate_value_old": pl.Float64,
}


# Between these key counts the keys are staged and joined in the database: a batch of a few
# thousand scattered keys (a records feed batch) otherwise fetches a superset several times
# its size. Below, the IN lists are exact enough; above, staging costs more than it saves
# (a first national load finds nothing, a full recompute finds nearly every row).
STAGED_KEYS = (IN_CHUNK, 50_000)
KEY_STAGE = "chiso_value_key_stage"
EXISTING_COLUMNS = ("id", "unit_id", "indicator_id", "period", "numerator", "denominator",
                    "value", "comment", "source", "version", "deleted",
                    *estimates.ESTIMATE_COLUMNS)


def existing_values(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    """Stored rows that share unit, indicator and period with `frame`, fetched with one
    query per chunk of keys (a superset, narrowed by the join in `plan_changes`), or for a
    mid-sized frame with one join on the staged keys (exact)."""
    if STAGED_KEYS[0] < frame.height <= STAGED_KEYS[1]:
        return _existing_by_stage(session, frame)
    return _existing_by_chunks(session, frame)


def _existing_by_chunks(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    unit_ids = frame.get_column("unit_id").unique().sort().to_list()
    indicator_ids = frame.get_column("indicator_id").unique().sort().to_list()
    periods = frame.get_column("period").unique().sort().to_list()
    columns = [VALUES.c[name] for name in EXISTING_COLUMNS]
    v = VALUES.c
    rows: list[Any] = []
    for units in _chunks(unit_ids):
        for indicators in _chunks(indicator_ids, 200):
            for period_chunk in _chunks(periods, 200):
                rows += session.execute(select(*columns).where(
                    v.unit_id.in_(units), v.indicator_id.in_(indicators),
                    v.period.in_(period_chunk))).all()
    return pl.DataFrame(rows, orient="row", schema=EXISTING_SCHEMA)


def _existing_by_stage(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    connection = session.connection()
    _stage(connection, KEY_STAGE, frame.select(KEY).unique())
    columns = ", ".join(f"v.{name}" for name in EXISTING_COLUMNS)
    # The driver's own cursor: plain tuples straight into Polars, no Row object per value.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f"SELECT {columns} FROM {KEY_STAGE} s JOIN {VALUES.name} v ON v.unit_id = "
            "s.unit_id AND v.indicator_id = s.indicator_id AND v.period = s.period")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    _drop_stage(connection, KEY_STAGE)
    return pl.DataFrame(rows, orient="row", schema=EXISTING_SCHEMA)


def _differs(name: str) -> pl.Expr:
    new, old = pl.col(name), pl.col(f"{name}_old")
    tolerance = 1e-9 * pl.max_horizontal(pl.lit(1.0), old.abs())
    return (new.is_null() != old.is_null()) | ((new - old).abs() > tolerance).fill_null(False)


def plan_changes(session: Session, frame: pl.DataFrame) -> ChangePlan:
    """Compare checked rows with what is stored: insert, update or unchanged.
    A null comment keeps the stored one; a deleted value that comes back is an update; an
    estimate for a value whose official figure stands changes nothing when it is the
    estimate already kept, and is refused (ValueRejected, rule official_exists) otherwise."""
    frame = estimates.with_flag(frame)
    joined = frame.join(existing_values(session, frame), on=KEY, how="left")
    _refuse_estimates_over_official(joined)
    changed = ~estimates.kept_official() & (
        pl.col("deleted_old").fill_null(False) | _differs("numerator")
        | _differs("denominator") | _differs("value")
        | (pl.col("comment").is_not_null() & (pl.col("comment") != pl.col("comment_old")))
        | (pl.col("estimate") != pl.col("estimate_old").fill_null(False))
    )
    is_new = pl.col("id").is_null()
    return ChangePlan(
        inserts=joined.filter(is_new),
        updates=joined.filter(~is_new & changed),
        unchanged=joined.filter(~is_new & ~changed),
    )


def _refuse_estimates_over_official(joined: pl.DataFrame) -> None:
    refused = estimates.conflicts(joined)
    if refused.is_empty():
        return
    issues = []
    for row in refused.sort("_row" if "_row" in refused.columns else KEY).head(20).iter_rows(
            named=True):
        issue = estimates.official_exists_issue(row["period"])
        if row.get("_row") is not None:
            issue = {**issue, "_row": row["_row"],
                     "message_vi": f"dòng {row['_row']}: {issue['message_vi']}",
                     "message_en": f"row {row['_row']}: {issue['message_en']}"}
        issues.append(issue)
    raise ValueRejected(issues)


@dataclass(frozen=True)
class BatchEvent:
    """How the one audit event of a bulk write is recorded: an import names its batch, a
    reporting form its upload. The counts (inserted, updated, unchanged) and the source are
    added to `after`."""

    action: str = "values.upsert"
    object_type: str = "data_value"
    object_id: int | str = ""
    unit_id: int | None = None
    note: str = ""
    after: dict[str, Any] = field(default_factory=dict)


def apply_changes(session: Session, plan: ChangePlan, *, source: str, access: Access,
                  import_batch_id: int | None = None, event: BatchEvent | None = None,
                  recorded_at: dt.datetime | None = None) -> UpsertSummary:
    """Write a plan as `access`: CAPTURE on every unit inserted or updated, the write
    guards, driver-level inserts and updates, one version row per change, and one audit
    event for the batch (`event`; the version rows carry the per-value history).
    `recorded_at` (a system job only, e.g. the demo backfilling a history, so that a past
    quarter's report sees what was known then) dates the versions; default now."""
    require_booted()
    if recorded_at is not None and not access.system_name:
        raise PermissionDenied(Action.ADMIN)  # people never backdate what they enter
    keys = pl.concat([plan.inserts.select(KEY), plan.updates.select(KEY)])
    _require_capture(access, keys)
    run_write_guards(session, keys, access)
    now, user_id = recorded_at or utcnow(), getattr(access.actor, "id", None)
    inserted = _bulk_insert(session, plan.inserts, source, now, user_id, import_batch_id)
    updated = _bulk_update(session, plan.updates, source, now, user_id, import_batch_id)
    summary = UpsertSummary(inserted, updated, plan.unchanged.height)
    if inserted or updated:
        _record_batch(session, event or _default_event(import_batch_id), access, summary,
                      source)
    return summary


def _require_capture(access: Access, keys: pl.DataFrame) -> None:
    """CAPTURE on each distinct unit (a batch names a few; a system job may write all)."""
    if access.can(Action.CAPTURE):
        return
    for unit_id in keys.get_column("unit_id").unique().sort().to_list():
        access.require(Action.CAPTURE, unit_id)


def _default_event(import_batch_id: int | None) -> BatchEvent:
    if import_batch_id:
        return BatchEvent(object_type="import_batch", object_id=import_batch_id)
    return BatchEvent()


def _record_batch(session: Session, event: BatchEvent, access: Access,
                  summary: UpsertSummary, source: str) -> None:
    record_event(session, action=event.action, object_type=event.object_type,
                 object_id=event.object_id, actor=access.actor, unit_id=event.unit_id,
                 note=event.note, after={**event.after, **summary._asdict(), "source": source})


def _row_source(frame: pl.DataFrame, source: str) -> pl.Expr:
    fallback = pl.lit(_source(source))
    if "source" not in frame.columns:
        return fallback
    cleaned = pl.col("source").str.slice(0, SOURCE_MAX)
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned).otherwise(fallback)


def _bulk_insert(session: Session, inserts: pl.DataFrame, source: str, now: dt.datetime,
                 user_id: int | None, batch_id: int | None) -> int:
    """Stage the new rows in a temporary table, then one INSERT … SELECT writes the values
    and one more writes their first version rows, both inside the database engine."""
    if inserts.is_empty():
        return 0
    inserts = estimates.with_flag(inserts)
    staged = inserts.select(
        *KEY, "period_type", "period_start", "period_end", *NUMBER_FIELDS,
        _row_source(inserts, source).alias("source"),
        pl.col("comment").fill_null(""),
        *estimates.staged_columns(inserts, update=False),
    # Period first: a period's values share table pages, so a later batch that revises
    # one or two months (a records feed) rewrites few pages instead of one per value.
    # The indexes still grow at a few ends (one per period, unit or indicator).
    ).sort("period", "unit_id", "indicator_id")
    connection = session.connection()
    _stage(connection, STAGE, staged)
    columns = ", ".join(staged.columns)
    mark = _marker(session)
    # The stage is read in the order it was filled (key order), so no ORDER BY is needed.
    connection.exec_driver_sql(
        f"INSERT INTO {VALUES.name} ({columns}, version, deleted, updated_at, updated_by_id)"
        f" SELECT {columns}, 1, {mark}, {mark}, {mark} FROM {STAGE}",
        (False, _db_time(connection, now), user_id))
    change_time = _db_time(connection, now)
    new_rows = _new_rows_predicate(connection, staged.height)
    connection.exec_driver_sql(
        f"INSERT INTO {VERSIONS.name} ({VERSION_COLUMNS}) SELECT v.id, v.version, "
        f"v.numerator, v.denominator, v.value, v.source, v.comment, v.estimate, v.deleted, "
        f"'insert', {mark}, {mark}, {mark} FROM {VALUES.name} v {new_rows}",
        (change_time, user_id, batch_id))
    _drop_stage(connection, STAGE)
    return staged.height


STAGE = "chiso_value_stage"
VERSION_COLUMNS = ("data_value_id, version, numerator, denominator, value, source, comment, "
                   "estimate, deleted, change, changed_at, changed_by_id, import_batch_id")


def _new_rows_predicate(connection: Connection, count: int) -> str:
    """The rows the INSERT … SELECT from the stage just created.

    SQLite has one writer: after our insert we hold the write lock, and each row got
    max(id) + 1 in turn, so they are the last `count` ids. Elsewhere they are found by key
    through the stage (the unique index makes that one probe per row)."""
    if connection.dialect.name == "sqlite":
        last = connection.exec_driver_sql(f"SELECT max(id) FROM {VALUES.name}").scalar_one()
        return f"WHERE v.id > {int(last) - count}"
    return (f"JOIN {STAGE} s ON v.unit_id = s.unit_id AND v.indicator_id = s.indicator_id "
            "AND v.period = s.period")


def _bulk_update(session: Session, updates: pl.DataFrame, source: str, now: dt.datetime,
                 user_id: int | None, batch_id: int | None) -> int:
    """Stage the changed rows, then one UPDATE … FROM and one INSERT … SELECT of versions."""
    if updates.is_empty():
        return 0
    updates = estimates.with_flag(updates)
    staged = updates.select(
        pl.col("id").alias("data_value_id"), pl.col("version_old"),
        (pl.col("version_old") + 1).alias("version"), *NUMBER_FIELDS,
        _row_source(updates, source).alias("source"),
        pl.coalesce("comment", "comment_old").fill_null("").alias("comment"),
        *estimates.staged_columns(updates, update=True),
        pl.when(pl.col("deleted_old")).then(pl.lit("restore")).otherwise(pl.lit("update"))
        .alias("change"),
    ).sort("data_value_id")
    connection = session.connection()
    _stage(connection, STAGE, staged)
    mark = _marker(session)
    sets = ", ".join(f"{name} = s.{name}" for name in (
        *NUMBER_FIELDS, "source", "comment", "version", *estimates.ESTIMATE_COLUMNS))
    # The version predicate makes a concurrent change fail instead of being overwritten.
    changed = connection.exec_driver_sql(
        f"UPDATE {VALUES.name} SET {sets}, deleted = {mark}, updated_at = {mark}, "
        f"updated_by_id = {mark} FROM {STAGE} s "
        f"WHERE {VALUES.name}.id = s.data_value_id AND {VALUES.name}.version = s.version_old",
        (False, _db_time(connection, now), user_id)).rowcount
    if changed not in (-1, staged.height):
        raise StaleVersion(expected=None, current=None)
    connection.exec_driver_sql(
        f"INSERT INTO {VERSIONS.name} ({VERSION_COLUMNS}) SELECT v.id, v.version, "
        f"v.numerator, v.denominator, v.value, v.source, v.comment, v.estimate, v.deleted, "
        f"s.change, {mark}, {mark}, {mark} FROM {VALUES.name} v "
        f"JOIN {STAGE} s ON v.id = s.data_value_id",
        (_db_time(connection, now), user_id, batch_id))
    _drop_stage(connection, STAGE)
    return staged.height


def _marker(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


STAGE_TYPES: dict[Any, str] = {pl.Int64: "BIGINT", pl.Float64: "DOUBLE PRECISION",
                               pl.String: "TEXT", pl.Boolean: "BOOLEAN"}


def _stage(connection: Connection, name: str, frame: pl.DataFrame) -> None:
    """A temporary table `name` holding `frame` (dates as dates). PostgreSQL loads it with
    COPY from CSV that Polars writes (no Python object per value); SQLite, in-process,
    through the driver's executemany with one prepared statement."""
    _drop_stage(connection, name)
    sqlite = connection.dialect.name == "sqlite"
    columns = ", ".join(
        f"{column} {'TEXT' if sqlite else 'DATE'}" if kind == pl.Date
        else f"{column} {STAGE_TYPES[kind]}" for column, kind in frame.schema.items())
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")
    if sqlite:
        # A bigger page cache for this connection keeps the indexes in memory while
        # 100,000 rows go in (the default is 2 MB). Durability settings are untouched.
        connection.exec_driver_sql("PRAGMA cache_size = -65536")
        frame = frame.with_columns(pl.col(c).dt.strftime("%Y-%m-%d")
                                   for c, t in frame.schema.items() if t == pl.Date)
        marks = ", ".join("?" * frame.width)
        connection.exec_driver_sql(f"INSERT INTO {name} VALUES ({marks})", frame.rows())
        return
    # Text is quoted, so a comment that reads \N stays text; only unquoted \N is null.
    payload = frame.write_csv(include_header=False, null_value=r"\N",
                              quote_style="non_numeric").encode()
    driver_connection = connection.connection.dbapi_connection
    with driver_connection.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY {name} ({', '.join(frame.columns)}) FROM STDIN "
            r"(FORMAT csv, NULL '\N')") as copy:
        copy.write(payload)
    # Autovacuum never sees temporary tables: without statistics the planner guesses.
    connection.exec_driver_sql(f"ANALYZE {name}")


def _drop_stage(connection: Connection, name: str) -> None:
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _db_time(connection: Connection, moment: dt.datetime) -> Any:
    """A timestamp as SQLAlchemy stores it on this backend (SQLite keeps naive UTC text:
    an aware moment in Vietnam time is converted first, not stripped of its zone)."""
    if connection.dialect.name == "sqlite":
        return to_utc(moment).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


# ------------------------------------------------------------------ reading


def unit_for_code(session: Session, code: str, period_id: str | None = None) -> OrgUnit | None:
    """The unit carrying `code` at the end of the period (today's unit without a period):
    codes are re-used, so the date decides."""
    day = parse_period(period_id).end() if period_id else vn_today()
    candidates = session.scalars(select(OrgUnit).where(OrgUnit.code == code.strip())).all()
    valid = [u for u in candidates if u.is_valid_on(day)]
    if valid:
        return valid[0]
    return max(candidates, key=lambda u: u.valid_from) if candidates else None


def find_values(session: Session, *, unit_ids: Sequence[int] | None = None,
                indicator_code: str | None = None, period: str | None = None,
                year: int | None = None, limit: int = 5000) -> list[dict[str, Any]]:
    """Current (non-deleted) values as dicts, newest periods first; `estimate` is true
    while the figure is an estimate (ước), `estimate_value` the estimate (kept once the
    official figure replaced it)."""
    statement = (
        select(DataValue.id, OrgUnit.code, OrgUnit.name, Indicator.code, DataValue.period,
               DataValue.numerator, DataValue.denominator, DataValue.value, DataValue.source,
               DataValue.comment, DataValue.version, DataValue.updated_at, DataValue.estimate,
               DataValue.estimate_value)
        .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.deleted.is_(False))
        .order_by(DataValue.period_start.desc(), OrgUnit.code, Indicator.code).limit(limit)
    )
    if unit_ids is not None:
        statement = statement.where(DataValue.unit_id.in_(list(unit_ids)))
    if indicator_code:
        statement = statement.where(Indicator.code == indicator_code.strip().upper())
    if period:
        statement = statement.where(DataValue.period == _period_to_read(period))
    if year:
        statement = statement.where(DataValue.period_start >= dt.date(year, 1, 1),
                                    DataValue.period_end <= dt.date(year, 12, 31))
    keys = ("id", "unit_code", "unit_name", "indicator_code", "period", "numerator",
            "denominator", "value", "source", "comment", "version", "updated_at", "estimate",
            "estimate_value")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(statement)]

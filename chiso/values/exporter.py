"""Export data values in the long format (docs/data-format.md), to CSV or XLSX.

What is exported re-imports with no change: numbers are written exactly (a CSV decimal
uses a comma and no thousands separator, because "1.234" would read as 1234), codes and
periods as text, the current, non-deleted values only, an estimate (ước) marked 'x' in the
`estimate` column, and text that a spreadsheet would run as a formula guarded by a quote
(`chiso.text.spreadsheet_safe`; the importer removes it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.errors import UserError
from chiso.indicators.models import Indicator
from chiso.periods import parse_period
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue

EXPORT_COLUMNS = ("unit_code", "indicator_code", "period", "numerator", "denominator",
                  "value", "source", "comment", "estimate", "unit_name", "indicator_name")
TEXT_COLUMNS = ("source", "comment", "unit_name", "indicator_name")
FORMULA_START = r"^[=+\-@\t\r]"  # chiso.text.cells.FORMULA_STARTS, as a pattern
NUMBER_COLUMNS = ("numerator", "denominator", "value")


class ExportError(UserError, ValueError):
    """A filter that names nothing (unknown unit or indicator, bad period): 422."""

    status = 422


def export_frame(session: Session, *, unit: str | None = None, indicator: str | None = None,
                 period_from: str | None = None, period_to: str | None = None,
                 year: int | None = None, unit_ids: list[int] | None = None
                 ) -> pl.DataFrame:
    """Current values as a frame in the long format. `unit` is a unit code: that unit and
    everything under it today. `unit_ids`, when given, limits the rows to those units
    (what the requesting user may read)."""
    statement = (
        select(OrgUnit.code, Indicator.code, DataValue.period, DataValue.numerator,
               DataValue.denominator, DataValue.value, DataValue.source, DataValue.comment,
               DataValue.estimate, OrgUnit.name, Indicator.name_vi, DataValue.unit_id,
               DataValue.period_start)
        .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.deleted.is_(False))
    )
    if indicator:
        statement = statement.where(Indicator.code == indicator.strip().upper())
    if year:
        statement = statement.where(DataValue.period_start >= dt.date(year, 1, 1),
                                    DataValue.period_end <= dt.date(year, 12, 31))
    if period_from:
        statement = statement.where(DataValue.period_start >= parse_period(period_from).start())
    if period_to:
        statement = statement.where(DataValue.period_end <= parse_period(period_to).end())
    rows = session.execute(statement).all()
    frame = pl.DataFrame(rows, orient="row", schema={
        **{c: pl.String for c in EXPORT_COLUMNS[:3]},
        **dict.fromkeys(NUMBER_COLUMNS, pl.Float64),
        "source": pl.String, "comment": pl.String, "estimate": pl.Boolean,
        "unit_name": pl.String, "indicator_name": pl.String, "unit_id": pl.Int64,
        "period_start": pl.Date})
    allowed = subtree_ids(session, unit) if unit else None
    if unit_ids is not None:
        allowed = set(unit_ids) if allowed is None else allowed & set(unit_ids)
    if allowed is not None:
        frame = frame.filter(pl.col("unit_id").is_in(list(allowed)))
    frame = frame.with_columns(
        pl.when(pl.col("estimate")).then(pl.lit("x")).otherwise(pl.lit(None, pl.String))
        .alias("estimate"),
        *[_guarded(name) for name in TEXT_COLUMNS])
    return frame.sort("unit_code", "indicator_code", "period_start").select(EXPORT_COLUMNS)


def _guarded(name: str) -> pl.Expr:
    """`spreadsheet_safe` on a text column: a quote before text a spreadsheet would run."""
    text = pl.col(name)
    return pl.when(text.str.contains(FORMULA_START)).then(pl.lit("'") + text).otherwise(
        text).alias(name)


def subtree_ids(session: Session, code: str) -> set[int]:
    """Ids of every unit with this code (old and re-used) and all their descendants."""
    tree = pl.DataFrame(session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.code))
                        .all(), orient="row",
                        schema={"id": pl.Int64, "parent_id": pl.Int64, "code": pl.String})
    found = set(tree.filter(pl.col("code") == code.strip()).get_column("id").to_list())
    if not found:
        raise ExportError(f"Không có đơn vị mã '{code}' / no unit with code '{code}'")
    frontier = found
    while frontier:  # one vectorised step per level of the tree (a handful)
        children = set(tree.filter(pl.col("parent_id").is_in(list(frontier)))
                       .get_column("id").to_list()) - found
        found |= children
        frontier = children
    return found


def write_export(frame: pl.DataFrame, path: Path) -> Path:
    """Write to .csv (UTF-8 with BOM, so Excel shows Vietnamese correctly) or .xlsx."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _write_csv(frame, path)
    elif suffix == ".xlsx":
        _write_xlsx(frame, path)
    else:
        raise ExportError(f"Chỉ xuất .csv hoặc .xlsx: '{path.name}' / export to .csv or "
                          f".xlsx only: '{path.name}'")
    return path


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    # Decimal comma, never scientific: read back by the importer to the identical float.
    text = frame.write_csv(decimal_comma=True, float_scientific=False)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                               "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Số liệu")
    header = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    number = workbook.add_format({"num_format": "#,##0.####"})
    widths = {"unit_code": 10, "indicator_code": 24, "period": 9, "comment": 30, "estimate": 8,
              "unit_name": 28, "indicator_name": 40}
    for position, name in enumerate(EXPORT_COLUMNS):
        sheet.set_column(position, position, widths.get(name, 13))
        sheet.write_string(0, position, name, header)
    for row_index, row in enumerate(frame.iter_rows(), start=1):
        for position, cell in enumerate(row):
            if cell is None:
                continue
            if EXPORT_COLUMNS[position] in NUMBER_COLUMNS:
                sheet.write_number(row_index, position, cell, number)
            else:
                sheet.write_string(row_index, position, str(cell))
    sheet.freeze_panes(1, 0)
    workbook.close()

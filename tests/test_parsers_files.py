"""Property-based tests (hypothesis) of the file readers: CSV and XLSX value files and the
JSON Lines / CSV records feed. Whatever bytes arrive, a reader either reads them or raises
its own bilingual error; what a spreadsheet holds is read back exactly."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiso.records.engine import register_procedures, register_units
from chiso.records.feed import FeedRejected, prepare, stage
from chiso.text import nfc
from chiso.values.reader import FileUnreadable, read_value_file

FILES = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
HEADER = ["Mã đơn vị", "Mã chỉ tiêu", "Kỳ báo cáo", "Tử số", "Mẫu số", "Ghi chú"]
cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                    min_size=1, max_size=25).map(nfc).filter(bool)
value_rows = st.lists(st.tuples(
    st.from_regex(r"\A[0-9]{5}\Z"), st.from_regex(r"\A[A-Z]{3}\.[A-Z_]{2,12}\Z"),
    st.sampled_from(["2025", "2025Q3", "202509", "2025S1"]),
    st.sampled_from(["76,6%", "1.234.567", "12", "0,5", "-3"]),
    st.sampled_from(["100", "1.000", ""]), cell_text), min_size=1, max_size=15)


def _scratch(suffix: str, data: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    with handle:
        handle.write(data)
    return Path(handle.name)


def _read_back(path: Path) -> list[list[str | None]]:
    try:
        (table,) = read_value_file(path)
    finally:
        path.unlink()
    cells = table.cells
    return [[cells["unit_code"][i], cells["indicator_code"][i], cells["period"][i],
             cells["numerator"][i], cells["denominator"][i], cells["comment"][i]]
            for i in range(cells.height)]


@FILES
@given(value_rows, st.sampled_from([",", ";", "\t"]), st.sampled_from(["utf-8", "utf-8-sig"]))
def test_csv_value_files_read_back(rows, separator: str, encoding: str) -> None:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = _scratch(".csv", buffer.getvalue().encode(encoding))
    assert _read_back(path) == [[c or None for c in row] for row in rows]


@FILES
@given(value_rows)
def test_xlsx_value_files_read_back(rows) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["BÁO CÁO SỐ LIỆU CHUYỂN ĐỔI SỐ"])  # a title above the header
    sheet.append(HEADER)
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            # openpyxl stores text starting with '=' as a formula with no computed value
            # (Excel would store the value too): keep the cell text, as a user typed it.
            cell.data_type = "s" if isinstance(cell.value, str) else cell.data_type
    buffer = io.BytesIO()
    book.save(buffer)
    path = _scratch(".xlsx", buffer.getvalue())
    assert _read_back(path) == [[c or None for c in row] for row in rows]


@FILES
@given(st.binary(max_size=600), st.sampled_from([".csv", ".xlsx", ".xls"]))
def test_value_reader_refuses_junk_with_its_own_error(data: bytes, suffix: str) -> None:
    path = _scratch(suffix, data)
    try:
        read_value_file(path)
    except FileUnreadable as exc:
        assert " / " in str(exc)
    finally:
        path.unlink()


json_lines = st.one_of(
    st.binary(max_size=300),
    st.lists(st.dictionaries(
        st.sampled_from(["unit_code", "procedure_code", "received_at", "finished_at",
                         "online", "fee", "x"]),
        st.one_of(st.none(), st.booleans(), st.integers(), cell_text,
                  st.floats(allow_nan=False)), max_size=7), max_size=8)
    .map(lambda items: "\n".join(__import__("json").dumps(i, ensure_ascii=False)
                                 for i in items).encode()),
)


@pytest.mark.slow
@FILES
@given(json_lines)
def test_records_feed_refuses_bad_csv_with_its_own_error(data: bytes) -> None:
    _feed_check(data, ".csv")


@pytest.mark.slow
@FILES
@given(json_lines)
def test_records_feed_refuses_bad_json_lines_with_its_own_error(data: bytes) -> None:
    _feed_check(data, ".jsonl")


def _feed_check(data: bytes, suffix: str) -> None:
    path = _scratch(suffix, data)
    con = duckdb.connect()
    register_units(con, ["06187", "05986"])
    register_procedures(con, pl.DataFrame(
        {"code": ["1.001"], "level": ["province"], "field": ["Tư pháp"],
         "service_level": ["full"]}))
    try:
        prepare(con, path, path.name)
        stage(con, path.name)
    except FeedRejected as exc:
        assert " / " in str(exc)
    finally:
        con.close()
        path.unlink()

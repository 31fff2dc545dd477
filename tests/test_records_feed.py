"""The feed reads channel, service level and yes/no spellings once per distinct spelling of
the file; the result must be the same as reading every row with the accent-stripping rule,
including for a file with more spellings than the look-up takes. Typed and text files of
the same rows are read alike. DuckDB only, no database."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from chiso.records import engine, feed

SPELLINGS = {
    "channel": ["Trực tuyến", "  TRỰC   TUYẾN ", "online", "truc_tiep", "Trực tiếp", "2",
                "Bưu-chính", "BCCI", "bưu chính công ích", "fax"],
    "service_level": ["toàn trình", unicodedata.normalize("NFD", "Toàn trình"), "MỘT PHẦN",
                      "partial", "không", "muc_4", "", "lung tung"],
    "digitised": ["1", "có", "Có", "x", "TRUE", "0", "không", "", "sai", "maybe"],
}
EXPECTED = {
    "channel": ["truc_tuyen", "truc_tuyen", "truc_tuyen", "truc_tiep", "truc_tiep",
                "truc_tuyen", "buu_chinh", "buu_chinh", "buu_chinh", None],
    "service_level": ["toan_trinh", "toan_trinh", "mot_phan", "mot_phan", "khong",
                      "toan_trinh", None, None],
    "digitised": [True, True, True, True, True, False, False, False, False, None],
}


def rows(column: str, values: list[str]) -> pl.DataFrame:
    n = len(values)
    frame = pl.DataFrame({
        "dossier_code": [f"D{i}" for i in range(n)], "procedure_code": ["P1"] * n,
        "unit_code": ["06200"] * n, "received_at": ["2025-08-04 08:00"] * n,
        "channel": ["truc_tuyen"] * n, "updated_at": ["2025-08-04 08:00"] * n})
    return frame.with_columns(pl.Series(column, values, dtype=pl.String))


def read(path: Path, column: str) -> list[object]:
    con = engine.connect(path.parent, memory_mb=256)  # times without offset: Vietnam time
    try:
        engine.register_units(con, ["06200"])
        engine.register_procedures(con, pl.DataFrame({
            "code": ["P1"], "level": ["xa"], "field": ["Hộ tịch"],
            "service_level": ["toan_trinh"]}))
        feed.prepare(con, path, path.name)
        return [r[0] for r in con.execute(f"SELECT {column} FROM feed ORDER BY row_no")
                .fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("column", list(SPELLINGS))
def test_each_spelling_is_read_once_and_alike(tmp_path: Path, column: str) -> None:
    path = tmp_path / f"{column}.csv"
    rows(column, SPELLINGS[column]).write_csv(path)
    assert read(path, column) == EXPECTED[column]
    # More distinct spellings than the look-up takes: read row by row, same values.
    many = SPELLINGS[column] * 2 + [f"x{i}" for i in range(feed.LOOKUP_LIMIT)]
    path = tmp_path / f"{column}-many.csv"
    rows(column, many).write_csv(path)
    found = read(path, column)
    assert found[:2 * len(SPELLINGS[column])] == EXPECTED[column] * 2
    assert set(found[2 * len(SPELLINGS[column]):]) == {None}


def test_a_typed_parquet_file_reads_like_its_text(tmp_path: Path) -> None:
    text = rows("digitised", ["1", "0", ""]).with_columns(
        pl.Series("fee_due", ["50.000", "1.234.567,5", ""]),
        pl.Series("due_at", ["05/08/2025 17:00", "", "2025-08-06T10:00+07:00"]))
    typed = text.with_columns(
        pl.Series("digitised", [True, False, None]),
        pl.Series("fee_due", [50000.0, 1234567.5, None]),
        pl.Series("due_at", [dt.datetime(2025, 8, 5, 17), None, dt.datetime(2025, 8, 6, 10)]),
        pl.col("received_at", "updated_at").str.to_datetime())
    text.write_csv(tmp_path / "text.csv")
    typed.write_parquet(tmp_path / "typed.parquet")
    columns = ("digitised", "fee_due", "due_at", "received_at")
    for column in columns:
        assert read(tmp_path / "text.csv", column) == read(tmp_path / "typed.parquet", column)


def test_a_typed_file_with_bad_rows_names_them(tmp_path: Path) -> None:
    typed = rows("digitised", ["1", "0", "1"]).with_columns(
        pl.Series("unit_code", ["06200", None, "99999"]),
        pl.Series("fee_due", [-5.0, 0.0, 0.0]),
        pl.col("received_at", "updated_at").str.to_datetime())
    path = tmp_path / "bad.parquet"
    typed.write_parquet(path)
    con = engine.connect(tmp_path, memory_mb=256)
    try:
        engine.register_units(con, ["06200"])
        engine.register_procedures(con, pl.DataFrame({
            "code": ["P1"], "level": ["xa"], "field": ["Hộ tịch"],
            "service_level": ["toan_trinh"]}))
        feed.prepare(con, path, path.name)
        with pytest.raises(feed.FeedRejected) as caught:
            feed.stage(con, path.name)
    finally:
        con.close()
    found = [(e.row, e.column, e.rule, e.value) for e in caught.value.errors]
    assert found == [(1, "fee_due", "amount", "-5.0"), (2, "unit_code", "required", ""),
                     (3, "unit_code", "unknown_unit", "99999")]
    assert "dòng 2, cột 'unit_code': thiếu giá trị bắt buộc" in caught.value.message_vi


def test_superseded_versions_are_named_by_code_and_old_files_still_read(tmp_path: Path
                                                                         ) -> None:
    versions = tmp_path / "b.parquet"
    pl.DataFrame({"k": [7, 7], "dossier_code": ["A", "B"], "batch_id": [1, 1],
                  "month": [202508, 202508]},
                 schema={"k": pl.UInt64, "dossier_code": pl.String, "batch_id": pl.Int32,
                         "month": pl.Int32}).write_parquet(versions)
    new = tmp_path / "s_new.parquet"
    pl.DataFrame({"k": [7], "dossier_code": ["A"], "batch_id": [1], "month": [202508]},
                 schema={"k": pl.UInt64, "dossier_code": pl.String, "batch_id": pl.Int32,
                         "month": pl.Int32}).write_parquet(new)
    old = tmp_path / "s_old.parquet"  # written before the code was kept: key and batch
    pl.DataFrame({"k": [7], "batch_id": [1], "month": [202508]},
                 schema={"k": pl.UInt64, "batch_id": pl.Int32,
                         "month": pl.Int32}).write_parquet(old)
    con = engine.connect(tmp_path, memory_mb=256)
    try:
        current = {}
        for name, files in (("new", [new]), ("old", [old]), ("both", [new, old])):
            engine.register_current(con, [str(versions)], [str(f) for f in files])
            current[name] = sorted(r[0] for r in con.execute(
                "SELECT dossier_code FROM cur").fetchall())
    finally:
        con.close()
    assert current == {"new": ["B"], "old": [], "both": []}

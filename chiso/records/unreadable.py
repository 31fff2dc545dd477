"""Naming the line of a feed file that DuckDB cannot read at all: text that is not UTF-8,
a broken CSV line, a JSON line that is not an object.

DuckDB refuses such a file with its own English message (and, for JSON, a line number
that can be off by one). Only on that error path the file is scanned again here, line
by line, to find the first bad line and the column it breaks, so the user gets the same
bilingual refusal as for a bad value: file, line, column and rule.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from chiso.records.feed import FeedRejected, RowError

DUCKDB_LINE = re.compile(r"[Ll]ine:? (\d+)")
JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')
SHOWN = 40


def refusal(path: Path, display_name: str, kind: str, error: Exception) -> FeedRejected:
    """The bilingual FeedRejected for a file DuckDB could not read (`error`)."""
    found = _first_bad_line(path, display_name, kind)
    if found is not None:
        return FeedRejected([found], 1)
    line = DUCKDB_LINE.search(str(error))
    if kind == "csv" and line:
        return FeedRejected([RowError(display_name, int(line.group(1)), "", "",
                                      "csv_format")], 1)
    first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return FeedRejected([], 0, (
        f"Tệp '{display_name}': không đọc được tệp {kind.upper()} ({first})",
        f"file '{display_name}': the {kind.upper()} file cannot be read ({first})"))


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with _open(path) as handle:
        for number, raw in enumerate(handle, 1):
            yield number, raw.rstrip(b"\r\n")


def _first_bad_line(path: Path, name: str, kind: str) -> RowError | None:
    try:
        if kind == "csv":
            return _csv_bad_line(path, name)
        if kind == "jsonl":
            return _json_bad_line(path, name)
    except OSError:  # a .gz that is not gzip: fall back to DuckDB's own words
        return None
    return None


def _csv_bad_line(path: Path, name: str) -> RowError | None:
    header: list[str] = []
    for number, raw in _lines(path):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            column, value = _csv_bad_cell(text, header)
            return RowError(name, number, column, value, "encoding")
        if number == 1:
            header = _csv_fields(text)
    return None


def _csv_fields(text: str) -> list[str]:
    delimiter = max(",;\t|", key=text.count)
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return text.split(delimiter)


def _csv_bad_cell(text: str, header: list[str]) -> tuple[str, str]:
    """The column holding the undecodable bytes (by the header when there is one)."""
    fields = _csv_fields(text)
    for index, value in enumerate(fields):
        if "\ufffd" in value:
            column = header[index].strip() if index < len(header) else f"#{index + 1}"
            return column or f"#{index + 1}", value[:SHOWN]
    return "", text[:SHOWN]


def _json_bad_line(path: Path, name: str) -> RowError | None:
    for number, raw in _lines(path):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            column = _json_key_before(raw[:exc.start].decode("utf-8", errors="replace"))
            return RowError(name, number, column, "", "encoding")
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            return RowError(name, number, _json_key_before(text[:exc.pos]),
                            text[exc.pos:exc.pos + SHOWN], "json")
        if not isinstance(record, dict):
            return RowError(name, number, "", text[:SHOWN], "json_object")
    return None


def _json_key_before(text: str) -> str:
    """The key whose value was being read when the line broke, if any."""
    keys = JSON_KEY.findall(text)
    return keys[-1] if keys else ""

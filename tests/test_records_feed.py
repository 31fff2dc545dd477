"""The feed's channel and service-level spellings: the exact-match fast path gives the same
code as the accent-stripping path for every spelling it knows, and odd spellings still
reach the slow path. DuckDB only, no database."""

from __future__ import annotations

import unicodedata

import duckdb
import pytest

from chiso.records import feed


def _slow_case(column: str, aliases: dict) -> str:  # type: ignore[type-arg]
    """The accent-stripping path alone (what `_enum` falls back to)."""
    key = feed._key(column)
    whens = []
    for code, words in aliases.items():
        listed = ", ".join(feed._quote(a) for a in words)
        whens.append(f"WHEN {key} IN ({listed}) THEN '{code.value}'")
    return f"CASE {' '.join(whens)} END"


@pytest.mark.parametrize("aliases", [feed.CHANNEL_ALIASES, feed.SERVICE_LEVEL_ALIASES],
                         ids=["channel", "service_level"])
def test_exact_spellings_map_like_the_accent_stripping_path(aliases) -> None:  # type: ignore[no-untyped-def]
    exact = feed._exact_spellings(aliases)
    odd = ["  TRỰC   TUYẾN ", unicodedata.normalize("NFD", "Toàn trình"), "Bưu-chính",
           "MỘT PHẦN", "fax", ""]
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (v VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?)", [[v] for v in [*exact, *odd]])
        slow = _slow_case("v", aliases)
        rows = con.execute(f"SELECT v, {feed._enum('v', aliases, 'VARCHAR')}, {slow} "
                           "FROM t").fetchall()
    finally:
        con.close()
    assert len(exact) > 15
    for value, fast_code, slow_code in rows:
        assert fast_code == slow_code, value
        if value in exact:
            assert fast_code == exact[value]
    codes = dict((v, c) for v, c, _ in rows)
    assert codes["fax"] is None
    if aliases is feed.CHANNEL_ALIASES:
        assert codes["  TRỰC   TUYẾN "] == "truc_tuyen" and codes["Bưu-chính"] == "buu_chinh"
    else:
        assert codes["MỘT PHẦN"] == "mot_phan"

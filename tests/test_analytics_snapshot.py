"""The stored answers of `chiso status` (chiso/analytics/snapshot.py): which databases they
are read for, what makes one unusable, and that old ones do not pile up."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

from chiso.analytics import snapshot
from chiso.analytics.snapshot import Answer, Question

STAMP_SQL = "SELECT (SELECT MAX(id) FROM t)"
QUESTION = Question("20", 2025, dt.date(2025, 7, 2))


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "chiso.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
    return path


def _save(data: Path, database: Path, question: Question = QUESTION) -> None:
    stamp = snapshot.read_stamp(database, STAMP_SQL)
    assert stamp is not None
    snapshot.save(data, database, question, STAMP_SQL, stamp,
                  Answer([], {"CQS": ("Chính quyền số", "Digital government")}))


def test_only_a_sqlite_file_named_by_a_path_is_read_with_sqlite3() -> None:
    assert snapshot.database_file("sqlite:////srv/chiso/chiso.sqlite") == \
        Path("/srv/chiso/chiso.sqlite")
    assert snapshot.database_file("sqlite+pysqlite:///data/chiso.sqlite") == \
        Path("data/chiso.sqlite")
    for other in ("postgresql+psycopg://u@h/db", "sqlite://", "sqlite:///:memory:?cache=shared",
                  "sqlite:///x.sqlite?mode=ro"):
        assert snapshot.database_file(other) is None, other


def test_an_answer_is_read_back_until_the_stamp_moves(tmp_path: Path) -> None:
    database, data = _database(tmp_path), tmp_path / "data"
    _save(data, database)
    found = snapshot.load(data, database, QUESTION)
    assert found is not None and found.pillars == {"CQS": ("Chính quyền số", "Digital government")}
    assert snapshot.load(data, database, Question("20", 2025, dt.date(2025, 7, 3))) is None
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    assert snapshot.load(data, database, QUESTION) is None


def test_a_damaged_file_or_a_missing_table_means_computing_again(tmp_path: Path) -> None:
    database, data = _database(tmp_path), tmp_path / "data"
    _save(data, database)
    [stored] = (data / "cache" / "status").glob("*.json")
    stored.write_text("{not json", encoding="utf-8")
    assert snapshot.load(data, database, QUESTION) is None
    assert snapshot.read_stamp(database, "SELECT MAX(id) FROM no_such_table") is None
    assert snapshot.read_stamp(tmp_path / "absent.sqlite", STAMP_SQL) is None


def test_answers_not_written_for_a_week_are_dropped(tmp_path: Path) -> None:
    database, data = _database(tmp_path), tmp_path / "data"
    _save(data, database, Question("20", 2024, dt.date(2024, 12, 31)))
    [old] = (data / "cache" / "status").glob("*.json")
    eight_days_ago = time.time() - 8 * 86_400
    os.utime(old, (eight_days_ago, eight_days_ago))
    _save(data, database)
    kept = list((data / "cache" / "status").glob("*.json"))
    assert len(kept) == 1 and old not in kept


def test_stale_questions_are_todays_answers_the_data_has_moved_past(tmp_path: Path) -> None:
    """What a command that wrote computes again: answers about that day whose stamp moved —
    not another day's, not an unchanged one, not a file stored before questions were kept."""
    database, data = _database(tmp_path), tmp_path / "data"
    other_day = Question("20", 2025, dt.date(2025, 7, 1))
    _save(data, database)
    _save(data, database, other_day)
    assert snapshot.stale_questions(data, database, QUESTION.day) == []
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    assert snapshot.stale_questions(data, database, QUESTION.day) == [QUESTION]
    assert snapshot.stale_questions(data, database, dt.date(2025, 7, 3)) == []
    for path in (data / "cache" / "status").glob("*.json"):
        path.write_text('{"stamp": "x", "stamp_sql": "SELECT 1", "rows": []}',
                        encoding="utf-8")
    assert snapshot.stale_questions(data, database, QUESTION.day) == []

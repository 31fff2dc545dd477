"""The stored answers of `chiso status` (chiso/analytics/snapshot.py): which databases they
are read for, what makes one unusable, and that old ones do not pile up; with the real
stamp on SQLite and PostgreSQL, what moves it and what does not."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chiso.analytics import snapshot
from chiso.analytics.snapshot import Answer, Postgres, Question, SqliteFile, StampedDatabase
from chiso.db import new_session
from chiso.values import changes

STAMP_SQL = "SELECT (SELECT MAX(id) FROM t)"
QUESTION = Question("20", 2025, dt.date(2025, 7, 2))


def _database(tmp_path: Path) -> SqliteFile:
    path = tmp_path / "chiso.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
    return SqliteFile(path)


def _save(data: Path, database: StampedDatabase, question: Question = QUESTION,
          stamp_sql: str = STAMP_SQL) -> None:
    stamp = database.read_stamp(stamp_sql)
    assert stamp is not None
    snapshot.save(data, database, question, stamp_sql, stamp,
                  Answer([], {"CQS": ("Chính quyền số", "Digital government")}))


def test_only_a_sqlite_file_named_by_a_path_is_read_with_sqlite3() -> None:
    assert snapshot.database_file("sqlite:////srv/chiso/chiso.sqlite") == \
        Path("/srv/chiso/chiso.sqlite")
    assert snapshot.database_file("sqlite+pysqlite:///data/chiso.sqlite") == \
        Path("data/chiso.sqlite")
    for other in ("postgresql+psycopg://u@h/db", "sqlite://", "sqlite:///:memory:?cache=shared",
                  "sqlite:///x.sqlite?mode=ro"):
        assert snapshot.database_file(other) is None, other


def test_sqlite_files_and_postgresql_have_their_stamp_read_without_sqlalchemy() -> None:
    assert snapshot.stamped_database("sqlite:////srv/chiso.sqlite") == \
        SqliteFile(Path("/srv/chiso.sqlite"))
    for url in ("postgresql+psycopg://u@h/db", "postgresql://u@h:5433/db?sslmode=require"):
        assert snapshot.stamped_database(url) == Postgres(url)
    for other in ("sqlite://", "sqlite:///x.sqlite?mode=ro", "postgresql+asyncpg://u@h/db",
                  "mysql://u@h/db"):
        assert snapshot.stamped_database(other) is None, other


def test_a_postgresql_database_is_known_by_its_url_without_the_password() -> None:
    """Answers are filed under the key; the password is never part of it (nor shown)."""
    database = Postgres("postgresql+psycopg://chiso:s3cr%40t@db.local:5432/chiso"
                        "?sslmode=require&password=other")
    assert database.key == "postgresql://chiso@db.local:5432/chiso?sslmode=require"
    assert "s3cr" not in repr(database)
    assert Postgres("postgresql+psycopg://chiso@db.local/chiso").key == \
        Postgres("postgresql://chiso:changed@db.local/chiso").key


def test_an_answer_is_read_back_until_the_stamp_moves(tmp_path: Path) -> None:
    database, data = _database(tmp_path), tmp_path / "data"
    _save(data, database)
    found = snapshot.load(data, database, QUESTION)
    assert found is not None and found.pillars == {"CQS": ("Chính quyền số", "Digital government")}
    assert snapshot.load(data, database, Question("20", 2025, dt.date(2025, 7, 3))) is None
    with sqlite3.connect(database.path) as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    assert snapshot.load(data, database, QUESTION) is None


def test_a_damaged_file_or_a_missing_table_means_computing_again(tmp_path: Path) -> None:
    database, data = _database(tmp_path), tmp_path / "data"
    _save(data, database)
    [stored] = (data / "cache" / "status").glob("*.json")
    stored.write_text("{not json", encoding="utf-8")
    assert snapshot.load(data, database, QUESTION) is None
    assert database.read_stamp("SELECT MAX(id) FROM no_such_table") is None
    assert SqliteFile(tmp_path / "absent.sqlite").read_stamp(STAMP_SQL) is None
    absent = Postgres("postgresql+psycopg://postgres@127.0.0.1:1/none")  # nothing listens
    assert absent.read_stamp(STAMP_SQL) is None


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
    with sqlite3.connect(database.path) as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    assert snapshot.stale_questions(data, database, QUESTION.day) == [QUESTION]
    assert snapshot.stale_questions(data, database, dt.date(2025, 7, 3)) == []
    for path in (data / "cache" / "status").glob("*.json"):
        path.write_text('{"stamp": "x", "stamp_sql": "SELECT 1", "rows": []}',
                        encoding="utf-8")
    assert snapshot.stale_questions(data, database, QUESTION.day) == []


# ---------------------------------------------------------------- the real stamp, both databases


def _write_value(db_url: str, session: Session | None = None) -> None:
    """A value write's entry in the change log (values.changes.record), as every save
    makes; committed, unless it is made in a `session` the caller ends."""
    writer = session or new_session(db_url)
    changes.record(writer, pl.DataFrame({"unit_id": [1], "indicator_id": [1]}))
    if session is None:
        writer.commit()
        writer.close()


def _other_work(db_url: str) -> Session:
    """A transaction that writes nothing the stamp reads (a sign-in, a notification…),
    left open; on PostgreSQL it holds a transaction id, as writers do, so its end moves
    the snapshot's xmin."""
    other = new_session(db_url)
    if db_url.startswith("postgresql"):
        other.execute(text("SELECT pg_current_xact_id()"))
    other.execute(text("DELETE FROM auth_throttle WHERE 1 = 0"))
    return other


def test_the_stored_answer_stands_until_a_value_is_written(db_url: str, tmp_path: Path
                                                           ) -> None:
    """With the stamp `chiso status` stores (cache.SQLITE_STAMP / POSTGRES_STAMP): work
    that writes no value or structure leaves the answer fresh — on PostgreSQL, the end of
    a transaction running at the read moves the snapshot's xmin, which the stamp must not
    mistake for a change — and a value written makes it stale, for `load` and for
    `stale_questions` alike."""
    database, data = snapshot.stamped_database(db_url), tmp_path / "data"
    assert database is not None
    running = _other_work(db_url)
    try:
        _save(data, database, stamp_sql=database.stamp_sql())
        running.commit()
    finally:
        running.close()
    with _other_work(db_url) as later:
        later.commit()
    assert snapshot.load(data, database, QUESTION) is not None
    assert snapshot.stale_questions(data, database, QUESTION.day) == []
    _write_value(db_url)
    assert snapshot.load(data, database, QUESTION) is None
    assert snapshot.stale_questions(data, database, QUESTION.day) == [QUESTION]


def test_a_value_committed_late_by_an_older_transaction_is_not_missed(db_url: str,
                                                                       tmp_path: Path
                                                                       ) -> None:
    """PostgreSQL hands out ids before commit: a write begun before the stamp was read and
    committed after it adds a log row with a smaller id than the newest. The stored answer
    must then be stale, although the log's last id has not moved."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite commits one writer at a time, in id order")
    database, data = snapshot.stamped_database(db_url), tmp_path / "data"
    assert isinstance(database, Postgres)
    older = new_session(db_url)
    try:
        _write_value(db_url, older)  # id 1, still running
        _write_value(db_url)  # id 2, committed
        _save(data, database, stamp_sql=database.stamp_sql())
        assert snapshot.load(data, database, QUESTION) is not None
        older.commit()
    finally:
        older.close()
    assert snapshot.load(data, database, QUESTION) is None
    assert snapshot.stale_questions(data, database, QUESTION.day) == [QUESTION]

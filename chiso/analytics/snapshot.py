"""A stored answer to `chiso status`, read back while the data behind it is unchanged.

The committee's first question — where do this unit's targets stand this year — is asked
from a terminal many times between two saves. Computing it loads SQLAlchemy, every table
and Polars (~0.9 s of a 1.4 s run on two cores); printing it needs none of them. So the
CLI stores each answer it computes (the targets' statuses and the pillars' names) with the
data's stamp at the moment it began reading, and the next run prints it when a fresh read
of the stamp is the same — with nothing but the standard library's sqlite3 on SQLite, and
psycopg alone on PostgreSQL (issue 13: `chiso status` ≤ 0.6 s). Each database has its
stamp reader here (`SqliteFile`, `Postgres`); the rest is one path.

The stamp is the one analytics' memo trusts (`cache.SQLITE_STAMP`, `cache.POSTGRES_STAMP`):
the state of targets, indicators, units, lineage, plans and pillars, the data generation
written by a restore, and the position of the value change log, which every value write
moves. Any of them changed → the answer is computed again. On PostgreSQL a transaction may
commit after one that began later, so the log's position holds the oldest transaction
running at the read (values.changes); the stamp is read again counting the log from that
same transaction, so a value committed late never leaves a stored answer looking fresh,
and work elsewhere on the server (other databases, sign-ins) does not make it look stale.
The stamp's SQL is stored with the answer, so this module does not keep a second copy of
it. An answer is also tied to its question (unit, year, evaluation date — today unless
`--as-of`), to the database (a SQLite file's resolved path; a PostgreSQL URL without its
password, which is never written) and to the code that computed it (chiso's version and
its source files' modification times), so a new release or an edited rule never prints an
old answer.

Two kinds of database are read this way: SQLite files named by a plain path, and
PostgreSQL (`postgresql://` or `postgresql+psycopg://`). With any other URL, or when the
data directory cannot be written, every run computes (and nothing else changes). The
files are a cache, not data: deleting `<data dir>/cache/status` loses nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString, cast
from urllib.parse import urlsplit, urlunsplit

import chiso
from chiso.analytics.answers import TargetStatus
from chiso.errors import NotFound
from chiso.settings import Settings, get_settings

# A database URL this module can open with sqlite3: a file named by a plain path. Anything
# else (query arguments, memory databases, other drivers) is computed every time.
_SQLITE_FILE = re.compile(r"^sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)$")
# A PostgreSQL URL psycopg opens as it is, once SQLAlchemy's driver name is dropped.
_POSTGRES = re.compile(r"^postgresql(?:\+psycopg)?://(?P<rest>.+)$")
CONNECT_SECONDS = 5
_PACKAGE = Path(chiso.__file__).parent
KEEP_DAYS = 7


@dataclass(frozen=True)
class Question:
    """What `chiso status` was asked: a unit's targets of a year, evaluated on `day`."""

    unit: str
    year: int
    day: dt.date


@dataclass(frozen=True)
class Answer:
    rows: list[TargetStatus]
    pillars: dict[str, tuple[str, str]]  # code → (name_vi, name_en)
    unit_names: tuple[str, str] | None = None  # the unit's (name_vi, name_en), to print


def database_file(database_url: str) -> Path | None:
    found = _SQLITE_FILE.match(database_url)
    return Path(found["path"]) if found else None


@dataclass(frozen=True)
class SqliteFile:
    """A SQLite database named by a plain path; its stamp read with the standard
    library's sqlite3, read-only."""

    path: Path

    @property
    def key(self) -> str:
        """Which database, as answers are filed: the file's resolved path."""
        return str(self.path.resolve())

    def stamp_sql(self) -> str:
        from chiso.analytics.cache import SQLITE_STAMP  # loads SQLAlchemy: compute() only

        return SQLITE_STAMP

    def read_stamp(self, stamp_sql: str, earlier: str | None = None) -> str | None:
        """The data's stamp now; None when the file or its tables are missing. One writer
        at a time commits, in id order: the read needs nothing from an `earlier` stamp."""
        if not self.path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            return None
        try:
            row = conn.execute(stamp_sql).fetchone()
        except sqlite3.Error:
            return None
        finally:
            conn.close()
        return _stamp_text(row)


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL database; its stamp read with psycopg alone, in a read-only
    transaction."""

    url: str = field(repr=False)  # as configured: it may hold a password

    @property
    def key(self) -> str:
        """Which database, as answers are filed: the URL without SQLAlchemy's driver name
        and without any password."""
        parts = urlsplit(self._conninfo())
        userinfo, at, host = parts.netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}@{host}" if at else host
        query = "&".join(arg for arg in parts.query.split("&")
                         if arg and not arg.lower().startswith("password="))
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def stamp_sql(self) -> str:
        from chiso.analytics.cache import POSTGRES_STAMP  # loads SQLAlchemy: compute() only

        return POSTGRES_STAMP

    def read_stamp(self, stamp_sql: str, earlier: str | None = None) -> str | None:
        """The data's stamp now, the change log counted from the oldest transaction that
        was running when `earlier` (a stamp of the same SQL) was read, or from the oldest
        running now; None when the server or the tables cannot be read. psycopg is
        imported here, not at the top (~0.14 s of a run): SQLite's runs never load it."""
        try:
            import psycopg
        except ImportError:
            return None
        try:
            conn = psycopg.connect(self._conninfo(), connect_timeout=CONNECT_SECONDS)
        except psycopg.Error:
            return None
        try:
            conn.read_only = True  # as sqlite3's mode=ro: the SQL comes from a cache file
            # The SQL is chiso's own (cache.POSTGRES_STAMP), stored with the answer.
            row = conn.execute(cast(LiteralString, stamp_sql),
                               {"xmin": _xmin(earlier)}).fetchone()
        except psycopg.Error:
            return None
        finally:
            conn.close()
        return _stamp_text(row)

    def _conninfo(self) -> str:
        found = _POSTGRES.match(self.url)
        return f"postgresql://{found['rest']}" if found else self.url


StampedDatabase = SqliteFile | Postgres


def stamped_database(database_url: str) -> StampedDatabase | None:
    """The database `database_url` names, when this module can read its stamp without
    SQLAlchemy; None for any other URL (every run computes)."""
    path = database_file(database_url)
    if path is not None:
        return SqliteFile(path)
    return Postgres(database_url) if _POSTGRES.match(database_url) else None


def _stamp_text(row: Any) -> str | None:
    return None if row is None else json.dumps(list(row), default=str)


def _xmin(earlier: str | None) -> int | None:
    """The transaction an earlier PostgreSQL stamp counted the change log from: the last
    but one of its columns (the mark ends it: last id, xmin, rows since xmin)."""
    try:
        xmin = json.loads(earlier)[-2] if earlier else None
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    return xmin if isinstance(xmin, int) else None


def load(data_dir: Path, database: StampedDatabase, question: Question) -> Answer | None:
    """The stored answer to `question`, if the data is as it was when it was computed."""
    try:
        stored = json.loads(_file(data_dir, database, question).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("stamp"), str):
        return None
    if database.read_stamp(str(stored["stamp_sql"]), stored["stamp"]) != stored["stamp"]:
        return None
    return answer_from_json(stored)


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """An answer as JSON (stored here, sent by a server to the CLI: `analytics.resident`)."""
    return {"rows": [row.to_dict() for row in answer.rows],
            "pillars": {code: list(names) for code, names in answer.pillars.items()},
            "unit_names": list(answer.unit_names) if answer.unit_names else None}


def answer_from_json(data: dict[str, Any]) -> Answer:
    """The inverse of `answer_to_json`."""
    names = data.get("unit_names")
    return Answer([TargetStatus.from_dict(row) for row in data["rows"]],
                  {code: (vi, en) for code, (vi, en) in data["pillars"].items()},
                  (names[0], names[1]) if isinstance(names, list) and len(names) == 2 else None)


def save(data_dir: Path, database: StampedDatabase, question: Question, stamp_sql: str,
         stamp: str, answer: Answer) -> None:
    """Store `answer`, computed from data whose stamp was `stamp` when reading began.
    Written whole or not at all (a reader never sees half a file); a data directory that
    cannot be written only means the next run computes again."""
    target = _file(data_dir, database, question)
    body = {"stamp_sql": stamp_sql, "stamp": stamp,
            "question": [question.unit, question.year, question.day.isoformat()],
            **answer_to_json(answer)}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent,
                                         suffix=".tmp", delete=False) as handle:
            json.dump(body, handle, ensure_ascii=False)
        os.replace(handle.name, target)
        _forget_old(target.parent)
    except OSError:
        return


def stale_questions(data_dir: Path, database: StampedDatabase, day: dt.date
                    ) -> list[Question]:
    """The questions about `day` whose stored answers (for this database and this code) no
    longer match the data: what a command that changed the data computes again before it
    ends (`refresh_stored_answers`), so that the next `chiso status`
    prints at once. Reads the folder and the stamp once for each stamp stored (usually
    one): a few milliseconds."""
    stale: list[Question] = []
    stamps: dict[tuple[str, str], str | None] = {}
    code = code_key()
    for path in sorted((data_dir / "cache" / "status").glob("*.json")):
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            unit, year, asked = stored["question"]
            question = Question(str(unit), int(year), dt.date.fromisoformat(asked))
            stamp_sql, earlier = str(stored["stamp_sql"]), str(stored["stamp"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an answer stored before questions were kept, or damaged: left to age
        if question.day != day or _file(data_dir, database, question, code) != path:
            continue  # another day, another database, or computed by other code
        if (stamp_sql, earlier) not in stamps:
            stamps[stamp_sql, earlier] = database.read_stamp(stamp_sql, earlier)
        now = stamps[stamp_sql, earlier]
        if now is not None and now != earlier:
            stale.append(question)
    return stale


def _forget_old(folder: Path) -> None:
    """Answers not written for `KEEP_DAYS` are for past days or old data: drop them, so the
    folder holds about one file per unit and year asked lately."""
    cutoff = time.time() - KEEP_DAYS * 86_400
    for path in folder.glob("*.json"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _file(data_dir: Path, database: StampedDatabase, question: Question,
          code: str | None = None) -> Path:
    key = json.dumps([database.key, question.unit, question.year,
                      question.day.isoformat(), code or code_key()])
    return data_dir / "cache" / "status" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def code_key() -> str:
    """The code that computes answers: chiso's version and the newest modification time
    among its source files (~300 stats, ~2 ms), so an edited rule is never answered by
    code that predates it."""
    newest = 0
    for folder, _dirs, files in os.walk(_PACKAGE):
        for name in files:
            if name.endswith(".py"):
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    return f"{chiso.__version__}:{newest}"


def compute(question: Question, settings: Settings, database: StampedDatabase | None
            ) -> Answer:
    """Evaluate the targets, and store the answer for the next run. The stamp is read
    before the values are: a save landing meanwhile makes the stored answer stale, never a
    stale answer look fresh."""
    # Imported here, not at the top: printing a stored answer must not load them.
    from chiso.analytics.service import status_answer
    from chiso.boot import boot
    from chiso.db import session_scope

    boot()
    stamp_sql = database.stamp_sql() if database else ""
    stamp = database.read_stamp(stamp_sql) if database else None
    with session_scope() as session:
        answer = status_answer(session, question)
    if database and stamp is not None:
        save(settings.data_dir, database, question, stamp_sql, stamp, answer)
    return answer


def refresh_stored_answers() -> int:
    """After a command that may have changed the data: compute again today's stored answers
    that no longer match it, so the next `chiso status` prints at once (~0.2 s) instead of
    loading the engine to compute (~0.9 s). The command that wrote has the database layer
    loaded already; a command that wrote nothing pays a folder listing and a stamp read.
    Returns how many were computed."""
    settings = get_settings()
    database = stamped_database(settings.sqlalchemy_url)
    if database is None:
        return 0
    stale = stale_questions(settings.data_dir, database, settings.current_date())
    for question in stale:
        try:
            compute(question, settings, database)
        except NotFound:  # the unit is gone: its stored answer ages out unused
            continue
    return len(stale)

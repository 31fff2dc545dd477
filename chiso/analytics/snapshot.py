"""A stored answer to `chiso status`, read back while the data behind it is unchanged.

The committee's first question — where do this unit's targets stand this year — is asked
from a terminal many times between two saves. Computing it loads SQLAlchemy, every table
and Polars (~0.9 s of a 1.4 s run on two cores); printing it needs none of them. So the
CLI stores each answer it computes (the targets' statuses and the pillars' names) with the
data's stamp at the moment it began reading, and the next run prints it when a fresh read
of the stamp is the same — with nothing but the standard library's sqlite3 (issue 13:
`chiso status` ≤ 0.6 s).

The stamp is the one analytics' memo trusts (`cache.SQLITE_STAMP`): the state of targets,
indicators, units, lineage, plans and pillars, the data generation written by a restore,
and the position of the value change log, which every value write moves. Any of them
changed → the answer is computed again. The stamp's SQL is stored with the answer, so this
module does not keep a second copy of it. An answer is also tied to its question (unit,
year, evaluation date — today unless `--as-of`), to the database file and to the code
that computed it (chiso's version and its source files' modification times), so a new
release or an edited rule never prints an old answer.

Only SQLite databases named by a plain path are read this way; on PostgreSQL, or when the
data directory cannot be written, every run computes (and nothing else changes). The files
are a cache, not data: deleting `<data dir>/cache/status` loses nothing.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chiso
from chiso.analytics.answers import TargetStatus
from chiso.errors import NotFound
from chiso.settings import Settings, get_settings

# A database URL this module can open with sqlite3: a file named by a plain path. Anything
# else (query arguments, memory databases, other drivers) is computed every time.
_SQLITE_FILE = re.compile(r"^sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)$")
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


def read_stamp(database: Path, stamp_sql: str) -> str | None:
    """The data's stamp now, read-only; None when the file or its tables are missing."""
    if not database.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute(stamp_sql).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return json.dumps(list(row), default=str)


def load(data_dir: Path, database: Path, question: Question) -> Answer | None:
    """The stored answer to `question`, if the data is as it was when it was computed."""
    try:
        stored = json.loads(_file(data_dir, database, question).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("stamp") is None:
        return None
    if read_stamp(database, stored["stamp_sql"]) != stored["stamp"]:
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


def save(data_dir: Path, database: Path, question: Question, stamp_sql: str, stamp: str,
         answer: Answer) -> None:
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


def stale_questions(data_dir: Path, database: Path, day: dt.date) -> list[Question]:
    """The questions about `day` whose stored answers (for this database and this code) no
    longer match the data: what a command that changed the data computes again before it
    ends (`refresh_stored_answers`), so that the next `chiso status`
    prints at once. Reads the folder and one stamp: a few milliseconds."""
    stale: list[Question] = []
    stamps: dict[str, str | None] = {}
    code = code_key()
    for path in sorted((data_dir / "cache" / "status").glob("*.json")):
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            unit, year, asked = stored["question"]
            question = Question(str(unit), int(year), dt.date.fromisoformat(asked))
            stamp_sql = str(stored["stamp_sql"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an answer stored before questions were kept, or damaged: left to age
        if question.day != day or _file(data_dir, database, question, code) != path:
            continue  # another day, another database, or computed by other code
        if stamp_sql not in stamps:
            stamps[stamp_sql] = read_stamp(database, stamp_sql)
        if stamps[stamp_sql] is not None and stamps[stamp_sql] != stored.get("stamp"):
            stale.append(question)
    return stale


def _forget_old(folder: Path) -> None:
    """Answers not written for `KEEP_DAYS` are for past days or old data: drop them, so the
    folder holds about one file per unit and year asked lately."""
    cutoff = time.time() - KEEP_DAYS * 86_400
    for path in folder.glob("*.json"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _file(data_dir: Path, database: Path, question: Question, code: str | None = None
          ) -> Path:
    key = json.dumps([str(database.resolve()), question.unit, question.year,
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


def compute(question: Question, settings: Settings, database: Path | None) -> Answer:
    """Evaluate the targets, and store the answer for the next run (SQLite). The stamp is
    read before the values are: a save landing meanwhile makes the stored answer stale,
    never a stale answer look fresh."""
    # Imported here, not at the top: printing a stored answer must not load them.
    from chiso.analytics.cache import SQLITE_STAMP
    from chiso.analytics.service import status_answer
    from chiso.boot import boot
    from chiso.db import session_scope

    boot()
    stamp = read_stamp(database, SQLITE_STAMP) if database else None
    with session_scope() as session:
        answer = status_answer(session, question)
    if database and stamp is not None:
        save(settings.data_dir, database, question, SQLITE_STAMP, stamp, answer)
    return answer


def refresh_stored_answers() -> int:
    """After a command that may have changed the data: compute again today's stored answers
    that no longer match it, so the next `chiso status` prints at once (~0.2 s) instead of
    loading the engine to compute (~0.9 s). The command that wrote has the database layer
    loaded already; a command that wrote nothing pays a folder listing and one stamp read.
    SQLite only, as stored answers are. Returns how many were computed."""
    settings = get_settings()
    database = database_file(settings.sqlalchemy_url)
    if database is None:
        return 0
    stale = stale_questions(settings.data_dir, database, settings.current_date())
    for question in stale:
        try:
            compute(question, settings, database)
        except NotFound:  # the unit is gone: its stored answer ages out unused
            continue
    return len(stale)

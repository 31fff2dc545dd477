"""`chiso status` answered by a chiso server running on the same data.

Computing the committee's first question in a fresh process loads SQLAlchemy, every table
and Polars before it evaluates anything: ~1.2 s on two cores, against 0.6 s promised (issue
13). A running server has all of that loaded, and keeps the unit's statuses in its memo,
re-evaluating only the indicators a save touched. So each server process (`chiso.web.app`
starts one `ResidentAnswers`) listens on 127.0.0.1, at a port the system picks, and writes
where, with a random token, to `<data dir>/run/answers-<pid>-<n>.json`, readable by its
owner only. `chiso status` reads that card with the standard library alone, asks, and
prints: ~0.4 s end to end.

Who may ask: whoever can read the card — the account that runs chiso, which can read the
data directory and the database anyway. The token is compared in constant time; a request
is one line of at most `MAX_REQUEST` bytes.

When an answer is taken: only from a server of the same database (the URL's fingerprint;
a SQLite file by its resolved path) and the same code (`snapshot.code_key`: a server
started before an upgrade or an edit is not asked). The server evaluates on the day the
CLI asks, never serves a stale answer (its session declares no dashboard reader:
docs/semantics.md §9), and reads after the request arrived, so a save committed before
`chiso status` was typed is in its answer. An unknown unit comes back as the same
`NotFound` a local run raises. Anything else — no card, a dead process, a refusal, an
error, no reply within `ASK_SECONDS` — and the CLI computes itself, as it always could.

The cards are a meeting point, not data: a backup skips `run/`, and a server removes a
card left by a process that is gone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from chiso.analytics import snapshot
from chiso.analytics.snapshot import Answer, Question
from chiso.errors import NotFound, UserError

log = logging.getLogger(__name__)

RUN_FOLDER = "run"  # under the data directory
PROTOCOL = 1
MAX_REQUEST = 4096  # bytes: a question is ~300
ASK_SECONDS = 5.0  # a warm server answers in ~0.1 s; longer means it is busy or stuck
CONNECT_SECONDS = 0.5
WARM_AFTER_SECONDS = 2.0
_cards = count(1)


def database_key(database_url: str) -> str:
    """Which database a URL names, as a fingerprint (the URL itself may hold a password)."""
    database = snapshot.database_file(database_url)
    named = f"sqlite:{database.resolve()}" if database else database_url
    return hashlib.sha256(named.encode()).hexdigest()


@dataclass(frozen=True)
class Card:
    """Where a server listens, written to `<data dir>/run/`."""

    pid: int
    port: int
    token: str
    database: str  # database_key
    code: str  # snapshot.code_key

    def to_json(self) -> dict[str, Any]:
        return {"protocol": PROTOCOL, "pid": self.pid, "port": self.port, "token": self.token,
                "database": self.database, "code": self.code}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card | None:
        if not isinstance(data, dict) or data.get("protocol") != PROTOCOL:
            return None
        try:
            return cls(int(data["pid"]), int(data["port"]), str(data["token"]),
                       str(data["database"]), str(data["code"]))
        except (KeyError, TypeError, ValueError):
            return None


# ---------------------------------------------------------------- the CLI's side


def ask(data_dir: Path, database_url: str, question: Question) -> Answer | None:
    """A running server's answer to `question`; None when no server of this database and
    this code answered (the caller computes). Raises `NotFound` for an unknown unit."""
    database, code = database_key(database_url), None
    for card in _read_cards(data_dir):
        if card.database != database or not _alive(card.pid):
            continue
        code = code or snapshot.code_key()  # ~2 ms: only when a server may answer
        if card.code != code:
            continue
        try:
            reply = _exchange(card, question, code)
        except (OSError, ValueError):
            continue
        if "answer" in reply:
            try:
                return snapshot.answer_from_json(reply["answer"])
            except (KeyError, TypeError, ValueError):
                return None
        error = reply.get("error")
        if isinstance(error, dict) and error.get("status") == 404:
            raise NotFound(str(error.get("message_vi")), str(error.get("message_en")))
        return None  # refused or failed: a local run says what is wrong
    return None


def _exchange(card: Card, question: Question, code: str) -> dict[str, Any]:
    request = {"protocol": PROTOCOL, "token": card.token, "database": card.database,
               "code": code, "unit": question.unit, "year": question.year,
               "day": question.day.isoformat()}
    with socket.create_connection(("127.0.0.1", card.port), timeout=CONNECT_SECONDS) as conn:
        conn.settimeout(ASK_SECONDS)
        conn.sendall(json.dumps(request).encode() + b"\n")
        with conn.makefile("rb") as stream:
            reply = json.loads(stream.readline())
    if not isinstance(reply, dict):
        raise ValueError("not a reply")
    return reply


def _read_cards(data_dir: Path) -> list[Card]:
    """The cards of servers on this data directory, the newest first."""
    folder = data_dir / RUN_FOLDER
    try:
        paths = sorted(folder.glob("answers-*.json"), key=_mtime, reverse=True)
    except OSError:
        return []
    cards = []
    for path in paths:
        try:
            card = Card.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
        if card is not None:
            cards.append(card)
    return cards


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal: only whether the process exists and is ours
    except (ProcessLookupError, PermissionError):  # gone, or its number is another's now
        return False
    return True


# ---------------------------------------------------------------- the server's side


class ResidentAnswers:
    """A server process's listener for `chiso status`. `answer(question)` computes in a
    session of its own; `start()` and `stop()` bracket the server's life."""

    def __init__(self, data_dir: Path, database_url: str,
                 answer: Callable[[Question], Answer]) -> None:
        self._folder = data_dir / RUN_FOLDER
        self._database = database_key(database_url)
        self._answer = answer
        self._token = secrets.token_urlsafe(32)
        self._code = ""
        self._card: Path | None = None
        self._listening: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._warming: threading.Thread | None = None
        self._stopping = threading.Event()
        self.answered = 0  # questions answered (a test and the log read it)

    def start(self) -> bool:
        """Listen and write the card; False (the CLI computes itself) when the data
        directory cannot hold it."""
        self._code = snapshot.code_key()
        try:
            self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _forget_dead(self._folder)
            self._listening = _listen_beside_web_port()
        except OSError as exc:
            log.warning("chiso status will compute itself: %s", exc)
            return False
        port = self._listening.getsockname()[1]
        self._accepting = threading.Thread(target=self._accept, args=(self._listening,),
                                           name="chiso-status-answers", daemon=True)
        self._accepting.start()
        card = Card(os.getpid(), port, self._token, self._database, self._code)
        try:
            self._card = _write_card(self._folder, card)
        except OSError as exc:
            log.warning("chiso status will compute itself: %s", exc)
            self.stop()
            return False
        return True

    def warm(self, questions: list[Question]) -> None:
        """Answer the likely questions in the background, `WARM_AFTER_SECONDS` after the
        server started (its first requests come first), so that even the first ask is
        served from the memo (a first evaluation of a unit's year takes ~0.2–0.3 s)."""
        def run() -> None:
            if self._stopping.wait(WARM_AFTER_SECONDS):
                return
            for question in questions:
                if self._stopping.is_set():
                    return
                try:
                    self._answer(question)
                except Exception:  # an unknown default unit, an empty database: asked later
                    log.debug("chiso status: warming %s failed", question, exc_info=True)

        self._warming = threading.Thread(target=run, name="chiso-status-warm", daemon=True)
        self._warming.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._warming is not None:  # no evaluation outlives the server's session
            self._warming.join(timeout=30)
            self._warming = None
        if self._card is not None:
            self._card.unlink(missing_ok=True)
            self._card = None
        if self._listening is not None and self._accepting is not None:
            # Wake the accepting thread with a connection of our own: it sees it is stopping
            # and returns at once (socketserver's shutdown polls, up to 0.5 s per server).
            with contextlib.suppress(OSError):
                socket.create_connection(self._listening.getsockname(),
                                         timeout=CONNECT_SECONDS).close()
            self._accepting.join(timeout=5)
            self._listening.close()
            self._listening = self._accepting = None

    def _accept(self, listening: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                conn, _address = listening.accept()
            except OSError:  # closed under it
                return
            if self._stopping.is_set():
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), name="chiso-status-answer",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        """One request line in, one reply line out. A client that connects and says nothing
        holds its thread `ASK_SECONDS` at most."""
        with conn:
            try:
                conn.settimeout(ASK_SECONDS)
                with conn.makefile("rb") as stream:
                    line = stream.readline(MAX_REQUEST + 1)
                reply = ({"refused": "too long"} if len(line) > MAX_REQUEST
                         else self.reply(line))
                conn.sendall(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            except OSError:  # the client went away or said nothing: nobody to tell
                return

    def reply(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line (see `_exchange` for its shape)."""
        try:
            request = json.loads(line)
            token = str(request["token"])
            question = Question(str(request["unit"]), int(request["year"]),
                                dt.date.fromisoformat(str(request["day"])))
        except (ValueError, KeyError, TypeError):
            return {"refused": "malformed"}
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return {"refused": "token"}
        if request.get("database") != self._database or request.get("code") != self._code:
            return {"refused": "other database or code"}
        try:
            answer = self._answer(question)
        except UserError as exc:
            return {"error": {"status": exc.status, "message_vi": exc.message_vi,
                              "message_en": exc.message_en}}
        except Exception:  # the CLI computes itself and shows what is wrong
            log.exception("chiso status: answering %s failed", question)
            return {"refused": "failed"}
        self.answered += 1
        return {"answer": snapshot.answer_to_json(answer)}


def _write_card(folder: Path, card: Card) -> Path:
    """Write the card whole (a reader never sees half of it), readable by its owner only."""
    target = folder / f"answers-{card.pid}-{next(_cards)}.json"
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, suffix=".tmp",
                                     delete=False) as handle:  # created 0600
        json.dump(card.to_json(), handle)
    os.replace(handle.name, target)
    return target


def _forget_dead(folder: Path) -> None:
    """Remove the cards of processes that are gone (a crash leaves its card)."""
    for path in folder.glob("answers-*.json"):
        try:
            card = Card.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            card = None
        if card is None or not _alive(card.pid):
            path.unlink(missing_ok=True)


def _listen_beside_web_port(web_port: int | None = None,
                            listen: Callable[[], socket.socket] | None = None
                            ) -> socket.socket:
    """A loopback socket at a port the system picks (`listen`), never the web server's own
    (`web_port`, default the setting): the web server binds its port after start-up (this
    runs during it), and a CHISO_PORT inside the system's range of ephemeral ports could be
    handed to us first (seen once in CI: the web server then failed with "address already
    in use"). The second socket is made before the first is closed, so its port differs."""
    if web_port is None:
        from chiso.settings import get_settings  # server side only: `ask` stays stdlib-only

        web_port = get_settings().port
    listen = listen or (lambda: socket.create_server(("127.0.0.1", 0)))
    listening = listen()
    if listening.getsockname()[1] != web_port:
        return listening
    other = listen()
    listening.close()
    return other

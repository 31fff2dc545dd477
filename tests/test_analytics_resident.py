"""`chiso status` answered by a running server (chiso/analytics/resident.py): the same
answer as computed in the terminal, only from a server of the same database and code, never
a refused or broken one."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chiso.analytics import resident, snapshot
from chiso.analytics.resident import Card, ResidentAnswers
from chiso.analytics.snapshot import Answer, Question
from chiso.cli.main import app as cli_app
from chiso.errors import NotFound
from chiso.settings import get_settings
from tests.analytics_world import build_world
from tests.test_analytics_surfaces import status_in_a_process

HS = "CQS.HS_TRUC_TUYEN"
QUESTION = Question("20", 2025, dt.date(2025, 7, 2))


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", "2025-07-02")
    reset_settings_cache()
    world = build_world(session)
    world.target(HS, 100.0, baseline_value=0.0, baseline_date=dt.date(2025, 1, 1))
    world.save([("06102", HS, "202503", 48, 100, None)])
    return world


@pytest.fixture
def answers(world, app):  # type: ignore[no-untyped-def]
    """The app served (its lifespan runs), so its process answers `chiso status`."""
    from fastapi.testclient import TestClient

    with TestClient(app):
        yield app.state.status_answers


def _status(*args: str) -> str:
    result = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025", *args],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _stored_answers() -> list[Path]:
    return sorted((get_settings().data_dir / "cache" / "status").glob("*.json"))


def test_the_server_answers_what_the_terminal_would_compute(answers, world) -> None:
    asked = answers.answered
    served = _status()
    assert answers.answered == asked + 1
    assert "Lạng Sơn: chỉ tiêu năm 2025" in served and "48,0%" in served, served
    assert _stored_answers() == []  # nothing computed here, nothing stored
    # A value saved a moment ago is in the server's next answer (it never serves stale).
    world.save([("06102", HS, "202504", 70, 100, None)])
    fresh = _status()
    assert answers.answered == asked + 2 and "59,0%" in fresh, fresh  # (48 + 70) ÷ 200
    # With the server gone the terminal computes: the same table.
    answers.stop()
    assert _status() == fresh
    assert answers.answered == asked + 2
    assert not list((get_settings().data_dir / resident.RUN_FOLDER).glob("answers-*.json"))


def test_the_server_says_a_unit_is_unknown_as_the_terminal_would(answers) -> None:
    result = CliRunner().invoke(cli_app, ["status", "--unit", "99999", "--year", "2025"])
    assert result.exit_code == 2 and "99999" in result.output, result.output
    with pytest.raises(NotFound):
        resident.ask(get_settings().data_dir, get_settings().sqlalchemy_url,
                     Question("99999", 2025, QUESTION.day))


def test_a_terminal_asks_the_server_without_loading_the_database_layer(answers) -> None:
    """The point of it all: a separate `chiso status` process prints the server's answer
    having loaded neither SQLAlchemy nor Polars nor the tables (on PostgreSQL too, where no
    answer is stored)."""
    asked = answers.answered
    printed, loaded = status_in_a_process()
    assert "48,0%" in printed, printed
    assert loaded == []
    assert answers.answered == asked + 1


def _card(data_dir: Path) -> Card:
    [path] = (data_dir / resident.RUN_FOLDER).glob("answers-*.json")
    assert path.stat().st_mode & 0o077 == 0  # its owner's only: it holds the token
    return Card.from_json(json.loads(path.read_text(encoding="utf-8")))  # type: ignore[return-value]


def _one_line(port: int, line: bytes) -> dict:  # type: ignore[type-arg]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(line)
        with conn.makefile("rb") as stream:
            return json.loads(stream.readline())  # type: ignore[no-any-return]


def _started(tmp_path: Path, database_url: str = "sqlite:////srv/chiso.sqlite",
             calls: list[Question] | None = None) -> ResidentAnswers:
    calls = [] if calls is None else calls

    def answer(question: Question) -> Answer:
        calls.append(question)
        if question.unit == "boom":
            raise RuntimeError("a bug")
        return Answer([], {"CQS": ("Chính quyền số", "Digital government")}, ("Tỉnh A", "A"))

    server = ResidentAnswers(tmp_path, database_url, answer)
    assert server.start()
    return server


def test_a_server_refuses_a_wrong_token_another_database_or_code_and_junk(tmp_path) -> None:
    server = _started(tmp_path)
    try:
        card = _card(tmp_path)
        good = {"protocol": 1, "token": card.token, "database": card.database,
                "code": card.code, "unit": "20", "year": 2025, "day": "2025-07-02"}

        def sent(**changed: object) -> dict:  # type: ignore[type-arg]
            return _one_line(card.port, json.dumps({**good, **changed}).encode() + b"\n")

        assert sent()["answer"]["unit_names"] == ["Tỉnh A", "A"]
        assert sent(token="x" * 43) == {"refused": "token"}
        assert sent(database=resident.database_key("sqlite:////other.sqlite")) == {
            "refused": "other database or code"}
        assert sent(code="0.0.1:1") == {"refused": "other database or code"}
        assert sent(day="02/07/2025") == {"refused": "malformed"}
        assert sent(unit="boom") == {"refused": "failed"}  # logged; the CLI computes itself
        assert _one_line(card.port, b"[1, 2]\n") == {"refused": "malformed"}
        assert _one_line(card.port, b"x" * (resident.MAX_REQUEST + 10) + b"\n") == {
            "refused": "too long"}
        assert server.answered == 1
    finally:
        server.stop()


def test_the_terminal_asks_only_a_live_server_of_its_own_database_and_code(
        tmp_path, monkeypatch) -> None:
    url = "sqlite:////srv/chiso.sqlite"
    server = _started(tmp_path, url)
    try:
        assert resident.ask(tmp_path, url, QUESTION) is not None
        assert server.answered == 1
        # The same file by another spelling of its path is the same database.
        assert resident.ask(tmp_path, "sqlite:////srv/../srv/chiso.sqlite", QUESTION)
        assert resident.ask(tmp_path, "sqlite:////srv/other.sqlite", QUESTION) is None
        assert resident.ask(tmp_path, "postgresql://u@h/chiso", QUESTION) is None
        # A server started before the code changed (an upgrade, an edit) is not asked.
        monkeypatch.setattr(snapshot, "code_key", lambda: "0.2.0:1")
        assert resident.ask(tmp_path, url, QUESTION) is None
        assert server.answered == 2
    finally:
        server.stop()
    assert resident.ask(tmp_path, url, QUESTION) is None  # stopped: card gone


def test_a_card_left_by_a_dead_process_is_skipped_and_then_removed(tmp_path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(gone.stdout)
    folder = tmp_path / resident.RUN_FOLDER
    folder.mkdir()
    url = "sqlite:////srv/chiso.sqlite"
    with socket.socket() as listening:  # a port that would accept, to show it is not tried
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        left = Card(pid, listening.getsockname()[1], "t", resident.database_key(url),
                    snapshot.code_key())
        (folder / f"answers-{pid}-1.json").write_text(json.dumps(left.to_json()))
        assert resident.ask(tmp_path, url, QUESTION) is None
    server = _started(tmp_path, url)
    server.stop()
    assert not (folder / f"answers-{pid}-1.json").exists()


def test_the_answers_never_keep_the_web_servers_port_when_the_system_offers_it() -> None:
    # The system picks the port; here its first pick is the web server's configured one
    # (what happened once in CI with a CHISO_PORT in the ephemeral range).
    with socket.create_server(("127.0.0.1", 0)) as probe:
        web_port = probe.getsockname()[1]
    picks = iter([("127.0.0.1", web_port), ("127.0.0.1", 0)])
    listening = resident._listen_beside_web_port(
        web_port, listen=lambda: socket.create_server(next(picks)))
    try:
        assert listening.getsockname()[1] != web_port
        with socket.create_server(("127.0.0.1", web_port)):  # the web server can bind it
            pass
    finally:
        listening.close()


def test_a_backup_leaves_the_servers_cards_out(db_url, tmp_path) -> None:
    from chiso.ops.service import _data_files

    data_dir = get_settings().data_dir
    (data_dir / resident.RUN_FOLDER).mkdir(parents=True)
    (data_dir / resident.RUN_FOLDER / "answers-1-1.json").write_text("{}")
    (data_dir / "files").mkdir()
    (data_dir / "files" / "kept.txt").write_text("kept")
    copied = {p.relative_to(data_dir).as_posix()
              for p in _data_files(data_dir, db_url, tmp_path / "b.bin")}
    assert "files/kept.txt" in copied
    assert not any(path.startswith("run/") for path in copied)


def test_a_server_warms_the_likely_questions_after_its_start_unless_it_stops_first(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(resident, "WARM_AFTER_SECONDS", 0.0)
    calls: list[Question] = []
    server = _started(tmp_path, calls=calls)
    later = Question("20", 2024, QUESTION.day)
    server.warm([QUESTION, Question("boom", 2025, QUESTION.day), later])
    server.stop()  # waits for the warming: nothing evaluates after the server is gone
    assert calls == [QUESTION, Question("boom", 2025, QUESTION.day), later]  # past a failure
    monkeypatch.setattr(resident, "WARM_AFTER_SECONDS", 60.0)
    calls.clear()
    server = _started(tmp_path, calls=calls)
    server.warm([QUESTION])
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 5  # at once, not after the minute
    assert calls == []

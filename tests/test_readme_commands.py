"""The README's first command, run literally: `bash scripts/demo` builds the demo and keeps
serving pages until it is stopped.

The command runs as a user would type it (the script installs into .venv if needed, then
`chiso demo --serve`), on a scratch SQLite file and a free port given through the same
`CHISO_*` settings the README documents. The test signs in with the password the demo
prints and reads a dashboard page, then stops the server. The other README command,
`bash scripts/test`, is what CI runs; `test_scripts_test_runs_the_checks` makes sure it
keeps running ruff and mypy before the suite.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 240  # a fresh .venv installs the pinned packages first


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`bash scripts/demo` exited with {process.returncode}:\n"
                        f"{log.read_text(encoding='utf-8', errors='replace')}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no answer from {url} after {STARTUP_SECONDS} s:\n"
                f"{log.read_text(encoding='utf-8', errors='replace')}")


@pytest.mark.slow
def test_readme_demo_command_serves_pages(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "CHISO_DATABASE_URL": f"sqlite:///{tmp_path / 'chiso.sqlite'}",
           "CHISO_DATA_DIR": str(tmp_path / "data"), "CHISO_PORT": str(port),
           "CHISO_HOST": "127.0.0.1", "CHISO_WORKERS": "1", "CHISO_TODAY": "2026-11-22",
           "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("CHISO_SECRET_KEY", None)  # the demo must start without one
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(["bash", "scripts/demo"], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/login", process, log)
        printed = log.read_text(encoding="utf-8")
        password = re.search(r"\badmin\s*│\s*(\S+)", printed)
        assert password, printed
        with httpx.Client(base_url=base, timeout=30) as client:
            form = client.get("/login")
            assert form.status_code == 200 and "<form" in form.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            data = {"username": "admin", "password": password.group(1)}
            if token:
                data["csrf_token"] = token.group(1)
            signed_in = client.post("/login", data=data)
            assert signed_in.status_code in (200, 303), signed_in.text
            page = client.get("/units/20/overview", params={"year": 2025})
            assert page.status_code == 200, page.text[:2000]
            assert "Lạng Sơn" in page.text
        time.sleep(1)
        assert process.poll() is None, "the demo server stopped by itself:\n" + (
            log.read_text(encoding="utf-8"))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_scripts_test_runs_the_checks() -> None:
    """`bash scripts/test` is the README's test command and CI's: it must lint and
    type-check the package before the suite, and fail when either fails."""
    script = (REPO / "scripts" / "test").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    lines = [line.strip() for line in script.splitlines()]
    ruff = next(i for i, line in enumerate(lines) if "ruff check" in line)
    mypy = next(i for i, line in enumerate(lines) if "mypy chiso" in line)
    pytest_line = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert ruff < pytest_line and mypy < pytest_line

"""Test fixtures: every storage test runs on real SQLite and real PostgreSQL.

The full suite (CI) runs both; the fast loop (`-m "not slow and not browser"`) leaves out
the PostgreSQL run, marked `postgresql` and `slow` (POSTGRESQL_PARAM below).

PostgreSQL comes from CHISO_TEST_PG_URL (default: postgres@127.0.0.1:5432, trust auth).
Outside CI a missing server skips the PostgreSQL half with a message; under CI=true it
fails instead, so CI can never pass without having run it.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chiso.boot import boot
from chiso.db import Base, get_engine, new_session, reset_engines
from chiso.db.migrate import upgrade
from chiso.settings import reset_settings_cache

boot()  # tables, write guards: what the app and the CLI do at start

IN_CI = os.environ.get("CI", "").lower() == "true"
LEAK_SECONDS = 2.0  # idle in a transaction between two tests this long: a leak (below)

# pytest-xdist workers (the fast loop's `-n 2`, scripts/test) start with COLUMNS=80 and
# LINES=24 in their environment: pytest imports GNU readline at start-up, readline writes
# the terminal's size into the C environment, and the workers inherit it. The CLI modules'
# Rich consoles would then be fixed at 80 columns when imported, and a test's
# `env={"COLUMNS": "200"}` ignored. Drop them: a worker sees what a serial run sees.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

PG_ADMIN_URL = os.environ.get(
    "CHISO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# The PostgreSQL run of a database test is marked `postgresql` and `slow`: the fast loop
# (`-m "not slow and not browser"`, issue 13) runs every database test once, on SQLite,
# and leaves the second database to the full suite (CI), which runs both. `-m postgresql`
# runs only the PostgreSQL half. A fixture of its own that makes databases per backend
# uses POSTGRESQL_PARAM too.
POSTGRESQL_PARAM = pytest.param("postgresql", marks=[pytest.mark.postgresql, pytest.mark.slow])
BACKENDS = ["sqlite", POSTGRESQL_PARAM]


# Passwords are hashed with argon2id at chiso's real cost (64 MiB, 4 lanes): a third of
# the fast loop's CPU went to hashing in `make_user` and verifying at every sign-in, for
# tests about something else. Tests use argon2's cheapest profile instead — the same
# algorithm and code path, the parameters stored in each hash as always. A test about the
# cost itself (sign-in timing) asks for the real one with `@pytest.mark.real_password_hash`.
# Subprocesses (the CLI, served apps) always hash at the real cost.
@pytest.fixture(autouse=True)
def _cheap_password_hash(request: pytest.FixtureRequest,
                         monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from argon2 import PasswordHasher, profiles

    from chiso.accounts import passwords, service

    if request.node.get_closest_marker("real_password_hash") is None:
        monkeypatch.setattr(passwords, "_hasher",
                            PasswordHasher.from_parameters(profiles.CHEAPEST))
    # The refusal path's dummy hash is cached: it must be made at the cost in force, or a
    # refusal would take a cheap hash's time beside a real user's expensive one.
    service._dummy_hash.cache_clear()
    yield
    service._dummy_hash.cache_clear()


def _pg_create_database() -> str:
    """Create a scratch database for this test run; returns its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(PG_ADMIN_URL)
    name = f"chiso_test_{uuid.uuid4().hex[:10]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is required under CI: {exc}") from exc
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return admin.set(database=name).render_as_string(hide_password=False)


def _pg_drop_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    conninfo = make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A migrated, empty database on each backend, created once per test run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'chiso.sqlite'}"
        upgrade(url)
        yield url
        return
    url = _pg_create_database()
    upgrade(url)
    yield url
    reset_engines()
    _pg_drop_database(url)


def _empty_all_tables(url: str) -> None:
    from chiso.accounts import usage
    from chiso.analytics import cache

    # Emptied tables restart their ids: answers memoised for the last test must go too, and
    # token uses noted but not yet written (they would land on the next test's token 1).
    cache.clear()
    usage.discard()
    engine = get_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if url.startswith("postgresql"):
        _end_leaked_transactions(engine)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            # Bounded: a lock nobody releases fails this test with the holders named,
            # instead of waiting until CI's time runs out.
            conn.execute(text("SET LOCAL lock_timeout = '60s'"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


def _end_leaked_transactions(engine) -> None:  # type: ignore[no-untyped-def]
    """End the transactions a failed test left open on the test database.

    A test that fails between opening a session and closing it leaves that connection idle
    in a transaction, holding its locks; the next test's TRUNCATE would wait for it for
    ever (stop 25's CI ran out of time that way after one failure). Between tests nothing
    should be in a transaction, so such a connection is a leak: it is ended, and the pool
    (pre-ping) replaces it. A connection that has been idle in its transaction only a
    moment may be a thread at work between two statements (seen once in CI: a values read
    of the last test's server, never again in 30 runs of the same tests): it gets
    `LEAK_SECONDS` to go on before it counts as a leak.
    """
    deadline = time.monotonic() + 3 * LEAK_SECONDS
    ended: list[Any] = []
    while True:
        with engine.connect() as conn:
            # Two steps on purpose: in one statement PostgreSQL may call pg_terminate_backend
            # before it applies the other conditions, ending every session on the server.
            waiting = conn.execute(text(
                "SELECT pid, left(query, 200) AS query,"
                " extract(epoch FROM clock_timestamp() - state_change) AS idle"
                " FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IN ('idle in transaction', 'idle in transaction (aborted)')")).all()
            leaked = [row for row in waiting
                      if row.idle >= LEAK_SECONDS or time.monotonic() >= deadline]
            for row in leaked:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row.pid})
            conn.commit()
        ended += leaked
        if len(leaked) == len(waiting):
            break
        time.sleep(0.2)
    for row in ended:
        warnings.warn(f"ended a transaction left open by an earlier test (pid {row.pid}, idle "
                      f"{row.idle:.1f} s, last statement: {row.query!r})", stacklevel=2)


def _has_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    return bool(conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def db_url(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The configured database for one test: empty, and what the app and CLI will use."""
    _empty_all_tables(database_url)
    monkeypatch.setenv("CHISO_DATABASE_URL", database_url)
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHISO_SECRET_KEY", "test-secret-" + "x" * 32)
    # Every answer fresh: a test reads right after it saves. The bound of docs/semantics.md
    # §9 has its own test (test_dashboard_staleness.py).
    monkeypatch.setenv("CHISO_DASHBOARD_STALE_SECONDS", "0")
    reset_settings_cache()
    yield database_url
    reset_settings_cache()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on the test database; commit explicitly to make data visible to the app."""
    db = new_session(db_url)
    try:
        yield db
    finally:
        db.rollback()
        db.close()


@pytest.fixture
def is_postgres(db_url: str) -> bool:
    return db_url.startswith("postgresql")


# ---------------------------------------------------------------- users, app, browser

from chiso.accounts.models import Role  # noqa: E402


@pytest.fixture
def make_user(db_url: str):  # type: ignore[no-untyped-def]
    """make_user(role, unit_id=None, username=None) → (User, password), committed."""
    from chiso.accounts.access import Access
    from chiso.accounts.service import create_user

    def make(role: Role | str, unit_id: int | None = None, username: str | None = None,
             include_subunits: bool = True):  # type: ignore[no-untyped-def]
        role = Role(role)
        username = username or f"{role.value}-{uuid.uuid4().hex[:6]}"
        password = "pw-" + uuid.uuid4().hex
        db = new_session(db_url)
        try:
            user = create_user(db, access=Access.system(db, "test"),
                               username=username, password=password, role=role,
                               unit_id=unit_id, include_subunits=include_subunits)
            db.commit()
            db.refresh(user)
            return user, password
        finally:
            db.close()

    return make


@pytest.fixture
def app(db_url: str):  # type: ignore[no-untyped-def]
    from chiso.web.app import create_app

    return create_app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


def login(client, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Sign a TestClient in through the real login form (with its CSRF token)."""
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": form_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def form_token(client, path: str = "/login") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of a form shown before signing in (its cookie stays in the client)."""
    import re

    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def submit(client, path: str, data: dict | None = None, **options):  # type: ignore[no-untyped-def]
    """Post a form shown before signing in (sign-in, password reset) as a browser does:
    with the CSRF token of the form's page."""
    return client.post(path, data={"csrf_token": form_token(client, path), **(data or {})},
                       **options)


@pytest.fixture
def admin_client(client, make_user):  # type: ignore[no-untyped-def]
    user, password = make_user(Role.ADMIN, username="admin")
    login(client, user.username, password)
    return client


@pytest.fixture
def live_server(db_url: str) -> Iterator[str]:
    """The real app served by uvicorn on a free loopback port; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from chiso.web.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    # Its shutdown waits for the server's own threads (a status warm-up: up to 30 s); a
    # server still running would read the next test's tables.
    thread.join(timeout=60)


def _chromium_path() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright; skips outside CI when it is not installed."""
    path = _chromium_path()
    if path is None:
        if IN_CI:
            raise RuntimeError("chromium is required under CI (apt-get install chromium)")
        pytest.skip("chromium not installed: apt-get install --no-install-recommends chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=path,
            args=["--disable-dev-shm-usage", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


def browser_login(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

"""Test fixtures: every storage test runs on real SQLite and real PostgreSQL.

PostgreSQL comes from CHISO_TEST_PG_URL (default: postgres@127.0.0.1:5432, trust auth).
Outside CI a missing server skips the PostgreSQL half with a message; under CI=true it
fails instead, so CI can never pass without having run it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import chiso.db.models  # noqa: F401  (every table)
from chiso.db import Base, get_engine, new_session, reset_engines
from chiso.db.migrate import upgrade
from chiso.settings import reset_settings_cache

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "CHISO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


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
    engine = get_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


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

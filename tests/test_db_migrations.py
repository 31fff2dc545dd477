"""The schema comes from migrations, the app refuses an unmigrated database, and the
migrations describe exactly the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from chiso.db import Base, get_engine
from chiso.db.engine import DatabaseNotMigrated, is_migrated
from chiso.settings import reset_settings_cache


def test_migrations_match_models(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    assert is_migrated(engine)


def test_app_refuses_unmigrated_database(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CHISO_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    reset_settings_cache()
    from chiso.web.app import create_app

    with pytest.raises(DatabaseNotMigrated) as excinfo:
        create_app()
    assert "chiso db upgrade" in str(excinfo.value)
    reset_settings_cache()


def test_healthz_on_migrated_database(db_url: str) -> None:
    from chiso.web.app import create_app

    client = TestClient(create_app())
    assert client.get("/healthz").json() == {"status": "ok"}
    # Not signed in: pages redirect to the login form, the API answers 401.
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")

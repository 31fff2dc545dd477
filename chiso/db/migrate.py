"""Alembic, driven from code so that `chiso db upgrade` works from any directory.

Each domain adds its own migration files to `chiso/db/migrations/versions/`, named
`<domain>_<NNNN>_<what>.py` with revision id `<domain>_<NNNN>`. Domains may branch from
`core_0001`; we always upgrade to *all* heads, so parallel branches are fine.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from chiso.settings import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = url or get_settings().sqlalchemy_url
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def upgrade(url: str | None = None) -> None:
    from chiso.db.engine import get_engine

    get_engine(url)  # creates the SQLite file's folder on first run
    command.upgrade(alembic_config(url), "heads")


def downgrade_all(url: str | None = None) -> None:
    command.downgrade(alembic_config(url), "base")

"""Alembic environment. Migrations describe tables themselves and import no app code,
so an old migration keeps working after the models change."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection, url)
        engine.dispose()
    else:
        _run(connectable, url)


def _run(connection, url: str) -> None:  # type: ignore[no-untyped-def]
    # SQLite cannot ALTER constraints; batch mode rebuilds the table instead.
    context.configure(
        connection=connection,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        # Only `scripts/new_migration.py` passes metadata, for autogenerate.
        target_metadata=config.attributes.get("target_metadata"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

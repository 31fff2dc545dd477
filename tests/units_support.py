"""Helpers for the units tests: a database with the official units loaded once per module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.db import new_session
from chiso.units.service import load_official_units, load_shipped_departments


@contextmanager
def loaded_database(url: str, provinces: list[str] | None = None) -> Iterator[str]:
    """Empty the test database, load the official units (all, or only `provinces`) and the
    shipped departments, and empty it again afterwards so other modules start clean."""
    from conftest import _empty_all_tables

    _empty_all_tables(url)
    session = new_session(url)
    try:
        load_official_units(session, provinces=provinces, access=Access.system(session, "test"))
        load_shipped_departments(session)
        session.commit()
    finally:
        session.close()
    try:
        yield url
    finally:
        _empty_all_tables(url)


def count_rows(session: Session, model: type) -> int:
    from sqlalchemy import func, select

    return session.scalar(select(func.count()).select_from(model)) or 0

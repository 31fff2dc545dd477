"""Storage: one SQLAlchemy engine per database URL, sessions, and migration checks."""

from chiso.db.base import Base
from chiso.db.engine import (
    DatabaseNotMigrated,
    get_engine,
    new_session,
    reset_engines,
    session_scope,
)

__all__ = [
    "Base",
    "DatabaseNotMigrated",
    "get_engine",
    "new_session",
    "reset_engines",
    "session_scope",
]

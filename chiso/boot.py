"""The boot step: everything chiso needs wired before it serves a request or runs a command
happens here, explicitly, once (STYLE §14) — never because some module was imported.

`boot()` registers every table with SQLAlchemy's metadata and installs the write guards
(the reporting cycle's approval lock on values). `boot_web(app)` then registers every
domain's router and menu entries in the web application. The web app (`create_app`), the CLI
(`chiso.cli.main.main`) and the test fixtures call it; a program that imports a service
and writes without booting is refused by `require_booted()` in the write paths, so no
write can skip a guard because an import was forgotten.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

_lock = threading.Lock()
_booted = False


class NotBooted(RuntimeError):
    """A write attempted before `chiso.boot.boot()`: a programming error, not a user's."""

    def __init__(self) -> None:
        super().__init__("chiso chưa khởi động: gọi chiso.boot.boot() trước khi ghi dữ liệu "
                         "/ chiso is not booted: call chiso.boot.boot() before writing data")


def boot() -> None:
    """Wire chiso (idempotent, thread-safe)."""
    global _booted
    with _lock:
        if _booted:
            return
        import chiso.db.models  # noqa: F401  (every table in Base.metadata)
        from chiso.collection.service import register_write_guard

        register_write_guard()
        _booted = True


def boot_web(app: FastAPI) -> None:
    """Wire the web application (after `boot()`): every domain's router, each documenting
    the one error shape for the statuses the API answers with, and the menu, filled from
    each domain's declared `NAV` entries (`chiso.web.routers`)."""
    from chiso.web.error_pages import API_ERROR_RESPONSES
    from chiso.web.nav import MENU
    from chiso.web.routers import all_nav_items, all_routers

    boot()
    for router in all_routers():
        app.include_router(router, responses=dict(API_ERROR_RESPONSES))
    MENU.fill(all_nav_items())


def is_booted() -> bool:
    return _booted


def require_booted() -> None:
    """Called by the write paths of important data: refuses a write before `boot()`."""
    if not _booted:
        raise NotBooted

"""Every domain's router, in one list. A new domain adds one line here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from chiso.accounts.routes import router as accounts
    from chiso.web.home import router as home

    return [accounts, home]

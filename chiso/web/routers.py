"""Every domain's web module, in one list: its `router` and its menu entries (`NAV`).
A new domain adds one line to `web_modules()`; `chiso.boot.boot_web` does the rest."""

from __future__ import annotations

from types import ModuleType

from fastapi import APIRouter

from chiso.web.nav import NAV_ITEMS, NavItem


def web_modules() -> list[ModuleType]:
    """In the order their routers are tried (a more specific path before a general one)."""
    from chiso.accounts import routes as accounts
    from chiso.admin import routes as admin
    from chiso.analytics import routes as analytics
    from chiso.audit import routes as audit
    from chiso.collection import routes as collection
    from chiso.dashboard import routes as dashboard
    from chiso.dti import routes as dti
    from chiso.exchange import routes as exchange
    from chiso.extract import routes as extract
    from chiso.funding import routes as funding
    from chiso.indicators import routes as indicators
    from chiso.meetings import routes as meetings
    from chiso.notify import routes as notifications
    from chiso.plans import routes as plans
    from chiso.records import routes as records
    from chiso.reports import routes as reports
    from chiso.scoring import routes as scoring
    from chiso.tasks import routes as tasks
    from chiso.units import routes as units
    from chiso.values import routes as values
    from chiso.web import home, maps

    return [dashboard, accounts, admin, audit, home, maps, units, dti, analytics, indicators,
            plans, values, records,
            tasks, meetings, reports, notifications, collection, funding, extract,
            scoring, exchange]


def all_routers() -> list[APIRouter]:
    return [module.router for module in web_modules()]


def all_nav_items() -> list[NavItem]:
    """Every domain's declared entries (and any still appended the deprecated way)."""
    declared = [item for module in web_modules() for item in getattr(module, "NAV", [])]
    return declared + NAV_ITEMS

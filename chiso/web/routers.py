"""Every domain's router, in one list. A new domain adds one line here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from chiso.accounts.routes import router as accounts
    from chiso.admin.routes import router as admin
    from chiso.analytics.routes import router as analytics
    from chiso.audit.routes import router as audit
    from chiso.collection.routes import router as collection
    from chiso.dashboard.routes import router as dashboard
    from chiso.dti.routes import router as dti
    from chiso.funding.routes import router as funding
    from chiso.indicators.routes import router as indicators
    from chiso.meetings.routes import router as meetings
    from chiso.notify.routes import router as notifications
    from chiso.plans.routes import router as plans
    from chiso.records.routes import router as records
    from chiso.reports.routes import router as reports
    from chiso.tasks.routes import router as tasks
    from chiso.units.routes import router as units
    from chiso.values.routes import router as values
    from chiso.web.home import router as home

    return [dashboard, accounts, admin, audit, home, units, dti, analytics, indicators, plans,
            values, records,
            tasks, meetings, reports, notifications, collection, funding]

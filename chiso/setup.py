"""First-run set-up: schema, reference data, first administrator."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.accounts.models import Role, User
from chiso.accounts.passwords import generate_password
from chiso.accounts.service import create_user
from chiso.db import session_scope
from chiso.db.migrate import upgrade


@dataclass
class InitResult:
    admin_password: str | None  # None when an administrator already existed


def initialise(*, admin_username: str = "admin") -> InitResult:
    """Idempotent: running it again changes nothing and prints no new password."""
    upgrade()
    with session_scope() as session:
        for load in reference_loaders():
            load(session)
        if session.scalar(select(User).where(User.username == admin_username)):
            return InitResult(admin_password=None)
        password = generate_password()
        create_user(session, username=admin_username, password=password, role=Role.ADMIN,
                    full_name="Quản trị hệ thống", access=Access.system(session, "setup"))
        return InitResult(admin_password=password)


def reference_loaders() -> list:  # type: ignore[type-arg]
    """Loaders of shipped reference data (units, catalogue), each idempotent.
    Each takes a Session. A domain that ships reference data adds one line."""
    from chiso.indicators import service as catalogue
    from chiso.units import service as units

    return [
        units.load_shipped_unit_kinds, units.load_shipped_units, units.load_shipped_departments,
        __import__("chiso.units.committee", fromlist=["x"]).load_shipped_committee_names,
        catalogue.load_shipped_catalog,
        __import__("chiso.indicators.frameworks", fromlist=["x"]).load_shipped_frameworks,
        __import__("chiso.dti.service", fromlist=["x"]).load_shipped_frameworks,
        __import__("chiso.dti.service", fromlist=["x"]).load_published_results,
        __import__("chiso.collection.service", fromlist=["x"]).load_shipped,
        __import__("chiso.funding.indicators", fromlist=["x"]).load_funding_catalog,
    ]

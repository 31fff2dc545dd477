"""Explicit wiring (issue 13, item 3): the web boot step registers every domain's router and
fills the menu from each domain's declared `NAV`; importing a module adds nothing; every
API route documents the one error shape. (A write without the boot step is refused:
tests/test_values_writes.py.)"""

from __future__ import annotations

import importlib
from typing import Annotated

from fastapi import Query
from fastapi.routing import iter_route_contexts

from chiso.accounts.models import Role
from chiso.web.deps import ManagerDep, PersonDay, UnitFilterDep
from chiso.web.nav import MENU, NAV_ITEMS
from chiso.web.routers import all_nav_items, web_modules
from tests.accounts_support import make_units
from tests.conftest import login


def test_the_menu_is_what_the_domains_declare(app) -> None:
    declared = {item for module in web_modules() for item in getattr(module, "NAV", [])}
    assert set(MENU.items()) == declared and len(declared) >= 14
    assert NAV_ITEMS == [], "append no NAV_ITEMS at import: declare NAV = [...] instead"
    orders = [item.order for item in MENU.items()]
    assert orders == sorted(orders)


def test_importing_a_routes_module_again_changes_nothing(app) -> None:
    before = MENU.items()
    for module in web_modules():
        importlib.reload(module)
    assert MENU.items() == before and NAV_ITEMS == []
    assert all_nav_items()  # the registry is filled by the boot step, not by imports


def test_every_router_is_registered(app) -> None:
    paths = {route.path for route in iter_route_contexts(app.routes)}
    for module in web_modules():
        own = {route.path for route in module.router.routes}
        assert own and own <= paths, module.__name__


def test_the_menu_shows_what_the_reader_may_open(client, make_user) -> None:
    leader, password = make_user(Role.LEADER)
    login(client, leader.username, password)
    page = client.get("/catalog")
    assert page.status_code == 200
    menu = page.text.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/catalog" class="active"' in menu and 'href="/tasks"' in menu
    assert "/admin/users" not in menu  # administration needs the ADMIN right


def test_the_menu_offers_what_a_unit_bound_role_may_do_on_its_unit(client, make_user,
                                                                   session) -> None:
    """"Đọc tài liệu" (/extract, CAPTURE) is offered to the standing office and a focal
    officer, whose right to capture holds on their own unit only (the menu asked for it
    everywhere and hid it); not to a viewer, who captures nowhere."""
    units = make_units(session)
    for role, unit, shown in ((Role.STANDING_OFFICE, units.province, True),
                              (Role.FOCAL_OFFICER, units.commune_a, True),
                              (Role.VIEWER, units.commune_a, False)):
        user, password = make_user(role, unit_id=unit.id)
        client.cookies.clear()
        login(client, user.username, password)
        page = client.get("/catalog")
        assert page.status_code == 200
        menu = page.text.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
        assert ('href="/extract"' in menu) is shown, (role, menu)
        assert "/admin/users" not in menu


def test_every_api_route_documents_the_error_shape(app) -> None:
    schema = app.openapi()
    missing = []
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue  # a page documented in the schema answers errors as pages
        for method, operation in operations.items():
            for status in ("401", "403", "404", "413", "415", "422", "429"):
                body = operation["responses"].get(status, {}).get("content", {})
                ref = body.get("application/json", {}).get("schema", {}).get("$ref", "")
                if not ref.endswith("/ErrorBody"):
                    missing.append(f"{method.upper()} {path} {status}")
    assert not missing, missing[:20]


def test_shared_typed_dependencies(app, client, make_user, session) -> None:
    """ManagerDep, UnitFilterDep and PersonDay (chiso/web/deps.py), as a route uses them."""
    units = make_units(session)

    def probe(access: ManagerDep, unit: UnitFilterDep,
              day: Annotated[PersonDay, Query()] = None) -> dict[str, str | None]:
        return {"unit": unit.code if unit else None, "day": day.isoformat() if day else None}

    app.add_api_route("/api/_probe", probe)
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
    login(client, officer.username, password)
    refused = client.get("/api/_probe")
    assert refused.status_code == 403, refused.text  # manages no unit
    office, password = make_user(Role.STANDING_OFFICE, unit_id=units.province.id)
    login(client, office.username, password)
    assert client.get("/api/_probe").json() == {"unit": None, "day": None}
    asked = client.get("/api/_probe", params={"unit": "06187", "day": "23/5/2025"})
    assert asked.json() == {"unit": "06187", "day": "2025-05-23"}
    missing = client.get("/api/_probe", params={"unit": "99"})
    assert missing.status_code == 404 and "'99'" in missing.json()["message_en"]
    wrong = client.get("/api/_probe", params={"day": "31/02/2025"})
    assert wrong.status_code == 422 and "31/02/2025" in wrong.json()["detail"]

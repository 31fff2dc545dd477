"""Explicit wiring (issue 13, item 3): the web boot step registers every domain's router and
fills the menu from each domain's declared `NAV`; importing a module adds nothing; every
API route documents the one error shape. (A write without the boot step is refused:
tests/test_values_writes.py.)"""

from __future__ import annotations

import importlib

from fastapi.routing import iter_route_contexts

from chiso.accounts.models import Role
from chiso.web.nav import MENU, NAV_ITEMS
from chiso.web.routers import all_nav_items, web_modules
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
    menu = page.text.split('<nav class="mainnav">', 1)[1].split("</nav>", 1)[0]
    assert 'href="/catalog" class="active"' in menu and 'href="/tasks"' in menu
    assert "/admin/users" not in menu  # administration needs the ADMIN right


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

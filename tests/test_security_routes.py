"""The route-table test: every route of the application, including routes added later by
any domain, refuses an anonymous request (401 for /api, a redirect to /login for pages),
and every route scoped to a unit refuses a signed-in user whose rights are elsewhere.

Public routes are listed explicitly below; adding one means adding it here, in review."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from chiso.accounts.models import Role
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import Units, csrf_of, make_units
from tests.conftest import login

# (method, path template) anyone may call. Reviewed: each is needed before signing in,
# or is harmless (health probe, API description, static files).
PUBLIC_ROUTES = {
    ("GET", "/login"), ("POST", "/login"),
    ("GET", "/password/forgot"), ("POST", "/password/forgot"),
    ("GET", "/password/reset"), ("POST", "/password/reset"),
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"), ("GET", "/docs"),  # Swagger UI shipped in the package
    ("GET", "/redoc"),
}
PUBLIC_MOUNTS = {"/static"}
# Logging out is allowed without a session (it only clears the cookie).
ANONYMOUS_OK = {("POST", "/logout")}
UNIT_PARAMS = {"unit", "unit_code", "unit_id"}
# Reviewed: these answer a question about a parent unit with only the rows of the units the
# user may read (a scope filter), so the province call may succeed; the call naming
# another unit directly must still be refused.
SCOPE_FILTERED_ROUTES = {("GET", "/api/values/export")}


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    paths: tuple[str, ...]  # the same call about each unit the test user may not touch
    unit_scoped: bool


def _is_unit_param(name: str, template: str) -> bool:
    return name in UNIT_PARAMS or (name == "code" and "/units/{code}" in template)


def _plain_value(name: str, integer: bool) -> str:
    if "year" in name:
        return "2025"
    if "period" in name:
        return "2025Q1"
    if integer or name.endswith("id"):
        return "1"
    return "CQS.HS_TRUC_TUYEN"


def _fill(route, target) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """A concrete path and query about unit `target`; other parameters get plausible values.
    Required query parameters are filled so that validation does not answer first."""
    path, scoped = route.path_format, False
    for name, convertor in route.param_convertors.items():
        if _is_unit_param(name, route.path_format):
            value, scoped = (str(target.id) if name.endswith("id") else target.code), True
        else:
            value = _plain_value(name, type(convertor).__name__ == "IntegerConvertor")
        path = path.replace("{" + name + "}", value)
    query = []
    for param in route.dependant.query_params:
        if _is_unit_param(param.name, route.path_format):
            value = str(target.id) if param.name.endswith("id") else target.code
            query.append(f"{param.alias}={value}")
            scoped = True
        elif param.field_info.is_required():
            integer = param.field_info.annotation is int
            query.append(f"{param.alias}={_plain_value(param.name, integer)}")
    return path + ("?" + "&".join(query) if query else ""), scoped


def all_calls(app, units: Units) -> Iterator[Call]:  # type: ignore[no-untyped-def]
    """Every (method, path) the application answers, routers included at any depth."""
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            assert route.path in PUBLIC_MOUNTS, f"unreviewed mount {route.path}"
            continue
        if not isinstance(original, APIRoute):
            assert isinstance(original, Route), f"unknown route kind {original!r}"
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                assert (method, route.path) in PUBLIC_ROUTES, (
                    f"non-FastAPI route {method} {route.path} must be reviewed")
            continue
        province, scoped = _fill(route, units.province)
        commune, _ = _fill(route, units.commune_a)
        for method in sorted(route.methods - {"HEAD"}):
            yield Call(method, route.path_format, (province, commune), scoped)


@pytest.fixture
def units(session) -> Units:  # type: ignore[no-untyped-def]
    reset_all_windows()
    return make_units(session)


def _denied_anonymously(call: Call, response) -> bool:  # type: ignore[no-untyped-def]
    if call.template.startswith("/api/"):
        return response.status_code == 401
    return (response.status_code == 303
            and response.headers.get("location", "").startswith("/login"))


def test_every_route_denies_anonymous_requests(app, client, units) -> None:
    calls = list(all_calls(app, units))
    assert len(calls) >= 10, "the route table looks empty"
    failures = []
    for call in calls:
        if (call.method, call.template) in PUBLIC_ROUTES | ANONYMOUS_OK:
            continue
        response = client.request(call.method, call.paths[0], follow_redirects=False)
        if not _denied_anonymously(call, response):
            failures.append(f"{call.method} {call.paths[0]} → {response.status_code}")
    assert not failures, "routes reachable without signing in:\n" + "\n".join(failures)


def test_public_allow_list_has_no_stale_entries(app, units) -> None:
    present = {(c.method, c.template) for c in all_calls(app, units)}
    present |= {(m, r.path) for r in iter_route_contexts(app.routes)
                if isinstance(r.original_route, Route)
                and not isinstance(r.original_route, APIRoute) for m in (r.methods or set())}
    stale = {entry for entry in PUBLIC_ROUTES if entry not in present
             and entry[1] != "/redoc"}
    assert not stale, f"allow-listed routes that no longer exist: {stale}"


def test_unit_scoped_routes_deny_an_officer_of_another_unit(app, client, make_user, units
                                                            ) -> None:
    from fastapi.testclient import TestClient

    admin, admin_password = make_user(Role.ADMIN)
    """A focal officer of commune B (only) asks about the province and about commune A:
    every unit-scoped route, read or write, refuses both, and answers 403 for at least one
    (the other may be a 404 when the route serves only one kind of unit)."""
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_b.id,
                                  include_subunits=False)
    login(client, officer.username, password)
    token = csrf_of(client)
    scoped = [c for c in all_calls(app, units) if c.unit_scoped]
    failures = []
    assert scoped, "no unit-scoped route found: the parameter naming changed?"
    with TestClient(app) as admin_client:
        login(admin_client, admin.username, admin_password)
        admin_token = csrf_of(admin_client)
        for call in scoped:
            codes = [client.request(call.method, path, follow_redirects=False,
                                    headers={"X-CSRF-Token": token}).status_code
                     for path in call.paths]
            if codes in ([404, 404], [422, 422]) and _admin_gets(admin_client, admin_token,
                                                                  call, codes[0]):
                # Nothing exists there to protect (404), or the empty request is refused
                # by validation before anything happens, for everyone (422).
                continue
            if not _refused(call, codes):
                failures.append(f"{call.method} {call.paths} → {codes}")
    assert not failures, "unit-scoped routes that let another unit's officer in:\n" + (
        "\n".join(failures))


def _refused(call: Call, codes: list[int]) -> bool:
    if (call.method, call.template) in SCOPE_FILTERED_ROUTES:
        return codes[1] == 403
    return 403 in codes and all(code >= 400 for code in codes)


def _admin_gets(admin_client, token: str, call: Call, status: int) -> bool:  # type: ignore[no-untyped-def]
    return all(admin_client.request(call.method, path, follow_redirects=False,
                                    headers={"X-CSRF-Token": token}).status_code == status
               for path in call.paths)


def test_admin_routes_deny_everyone_but_admins(app, client, make_user, units) -> None:
    leader, password = make_user(Role.LEADER)
    login(client, leader.username, password)
    token = csrf_of(client)
    admin_calls = [c for c in all_calls(app, units)
                   if c.template.startswith(("/admin", "/audit", "/api/audit", "/api/admin"))]
    assert len(admin_calls) >= 6
    failures = []
    for call in admin_calls:
        response = client.request(call.method, call.paths[0], follow_redirects=False,
                                  headers={"X-CSRF-Token": token})
        if response.status_code != 403:
            failures.append(f"{call.method} {call.paths[0]} → {response.status_code}")
    assert not failures, "\n".join(failures)

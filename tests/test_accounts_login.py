"""Signing in and out through the real form; the access layer's unit scoping."""

from __future__ import annotations

import datetime as dt

from chiso.accounts.access import Access, Action
from chiso.accounts.models import Role
from chiso.units.models import OrgUnit, UnitKind
from tests.conftest import login, submit


def _units(session):  # type: ignore[no-untyped-def]
    session.add_all([UnitKind(code="province", name_vi="Tỉnh", name_en="Province", level=1),
                     UnitKind(code="commune", name_vi="Xã", name_en="Commune", level=3)])
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="province")
    session.add(province)
    session.flush()
    a = OrgUnit(code="06187", name="Phường Kỳ Lừa", kind="commune", parent_id=province.id,
                valid_from=dt.date(2025, 7, 1))
    b = OrgUnit(code="05986", name="Phường Tam Thanh", kind="commune", parent_id=province.id,
                valid_from=dt.date(2025, 7, 1))
    session.add_all([a, b])
    session.commit()
    return province, a, b


def test_login_wrong_password_then_right(client, make_user) -> None:
    user, password = make_user(Role.VIEWER)
    bad = submit(client, "/login", {"username": user.username, "password": "nope"})
    assert bad.status_code == 401
    assert "Sai tên đăng nhập" in bad.text
    login(client, user.username, password)
    assert client.get("/healthz").status_code == 200


def test_lockout_after_repeated_failures(client, make_user) -> None:
    user, password = make_user(Role.VIEWER)
    for _ in range(5):
        submit(client, "/login", {"username": user.username, "password": "wrong"})
    locked = submit(client, "/login", {"username": user.username, "password": password})
    assert locked.status_code == 401


def test_focal_officer_scope(session, make_user) -> None:
    province, commune_a, commune_b = _units(session)
    officer, _ = make_user(Role.FOCAL_OFFICER, unit_id=commune_a.id)
    office, _ = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    leader, _ = make_user(Role.LEADER)
    session.expire_all()
    from chiso.accounts.models import User

    def access(user):  # type: ignore[no-untyped-def]
        return Access(session=session, user=session.get(User, user.id))

    assert access(officer).can(Action.CAPTURE, commune_a.id)
    assert not access(officer).can(Action.CAPTURE, commune_b.id)
    assert not access(officer).can(Action.APPROVE, commune_a.id)
    assert access(office).can(Action.APPROVE, commune_b.id)  # sub-unit of its province
    assert access(leader).can(Action.READ, commune_b.id)
    assert not access(leader).can(Action.CAPTURE, commune_b.id)


def test_sign_in_lands_on_a_page_the_user_may_read(client, session, make_user) -> None:  # type: ignore[no-untyped-def]
    _province, commune, _b = _units(session)
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=commune.id)
    answer = submit(client, "/login", {"username": officer.username, "password": password},
                         follow_redirects=False)
    # Through the front door, which sends this officer (nothing owed) to their own unit's
    # overview, not the province's, which answers them with a 403.
    assert answer.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).headers["location"] == \
        "/units/06187/overview"
    page = client.get("/units/06187/overview")
    assert page.status_code == 200
    # The menu leads to the officer's own unit too and offers nothing they may not open
    # (no administration).
    assert 'href="/units/06187/overview"' in page.text and 'href="/units/20/' not in page.text
    refused = client.get("/units/20/overview")
    assert refused.status_code == 403 and "/admin" not in refused.text
    client.post("/logout", data={"csrf_token": _csrf(client)})
    asked = submit(client, "/login", {"username": officer.username, "password": password,
                                        "next": "/tasks"}, follow_redirects=False)
    assert asked.headers["location"] == "/tasks"
    leader, leader_pw = make_user(Role.LEADER)
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert submit(client, "/login", {"username": leader.username, "password": leader_pw},
                       follow_redirects=False).headers["location"] == "/"


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    from tests.accounts_support import csrf_of

    return csrf_of(client)

"""Plans, the catalogue and the unit register change only with a required Access that
holds MANAGE on every unit touched: a commune's office cannot load the province's plan,
take it over, or reload the catalogue; every change is audited under who made it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chiso.accounts.access import Access, PermissionDenied
from chiso.accounts.models import Role, User
from chiso.audit.models import AuditEvent
from chiso.indicators.service import load_catalog
from chiso.plans.models import Plan, Target
from chiso.plans.service import load_plan, update_target
from chiso.units.official import DATA_DIR
from chiso.units.service import load_departments, load_unit_kinds
from tests.plans_support import PLAN_YAML, count, prepared


def _person(session, make_user, role: Role, unit_id: int) -> Access:  # type: ignore[no-untyped-def]
    user, _password = make_user(role, unit_id=unit_id)
    return Access(session, session.get(User, user.id))


def test_a_commune_office_cannot_load_the_province_plan(session, make_user) -> None:
    units = prepared(session)
    commune = _person(session, make_user, Role.STANDING_OFFICE, units.ky_lua.id)
    with pytest.raises(PermissionDenied) as refused:
        load_plan(session, PLAN_YAML, access=commune)
    assert "Tỉnh Lạng Sơn (20)" in str(refused.value)
    assert count(session, Plan) == 0 and count(session, Target) == 0


def test_the_province_office_loads_it_and_is_named_in_the_audit(session, make_user) -> None:
    units = prepared(session)
    office = _person(session, make_user, Role.STANDING_OFFICE, units.lang_son.id)
    summary = load_plan(session, PLAN_YAML, access=office)
    assert summary.plan_created and summary.inserted
    actors = set(session.scalars(select(AuditEvent.actor_label).where(
        AuditEvent.object_type.in_(["plan", "target"]))))
    assert actors == {office.user.username}  # type: ignore[union-attr]


def test_a_target_cannot_be_moved_to_a_unit_one_does_not_manage(session, make_user) -> None:
    units = prepared(session)
    load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    session.commit()
    target = session.scalars(select(Target).where(Target.unit_id == units.lang_son.id)).first()
    assert target is not None
    commune = _person(session, make_user, Role.STANDING_OFFICE, units.ky_lua.id)
    with pytest.raises(PermissionDenied):
        update_target(session, target.id, {"note": "sửa"}, access=commune)
    province = _person(session, make_user, Role.STANDING_OFFICE, units.lang_son.id)
    with pytest.raises(PermissionDenied):  # Thái Nguyên is not Lạng Sơn's office's to manage
        update_target(session, target.id, {"unit": "19"}, access=province)
    assert session.get(Target, target.id).unit_id == units.lang_son.id  # type: ignore[union-attr]


def test_the_catalogue_and_the_unit_register_need_manage_on_the_installation(
        session, make_user) -> None:
    units = prepared(session)
    commune = _person(session, make_user, Role.STANDING_OFFICE, units.ky_lua.id)
    viewer = _person(session, make_user, Role.VIEWER, units.lang_son.id)
    for access in (commune, viewer):
        with pytest.raises(PermissionDenied):
            load_catalog(session, access=access)
        with pytest.raises(PermissionDenied):
            load_unit_kinds(session, access=access)
        with pytest.raises(PermissionDenied):
            load_departments(session, DATA_DIR / "departments-20.yaml", access=access,
                             dry_run=True)
    office = _person(session, make_user, Role.STANDING_OFFICE, units.lang_son.id)
    assert not load_catalog(session, access=office).changed  # allowed; nothing new

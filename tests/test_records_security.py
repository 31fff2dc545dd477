"""Who may change whose one-stop records, over HTTP, on SQLite and PostgreSQL (issue 12).

H3: a dossier keeps its identity (its code) across units, so re-sending another unit's
dossier under one's own unit needs CAPTURE on the unit that holds it now — a department
officer re-sent 85 of a commune's codes and the commune's online rate fell from 76,6 % to
0 %. A commune formed by the 2025 merger posts its own records under its re-used code; a
token's scope holds; each batch leaves one audit event naming its sender; a year out of
range is a clear 422, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import login
from records_support import (
    august_records,
    make_world,
    record,
)
from records_support import (
    post_batch as post,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.audit.models import AuditEvent


@pytest.fixture
def world(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    units = make_world(session, tmp_path)
    return {k: u.id for k, u in units.items()}



def online(client, code: str, period: str = "202508") -> tuple[float, float] | None:  # type: ignore[no-untyped-def]
    body = client.get(f"/api/records/units/{code}/indicators?year=2025").json()
    rows = [(v["numerator"], v["denominator"]) for v in body["values"]
            if v["indicator_code"] == "CQS.HS_TRUC_TUYEN" and v["period"] == period]
    return rows[0] if rows else None


def signed_in(client, make_user, role: Role, unit_id: int):  # type: ignore[no-untyped-def]
    user, password = make_user(role, unit_id=unit_id)
    login(client, user.username, password)
    return user


def test_another_units_dossiers_cannot_be_taken_over(client, admin_client, make_user, world,
                                                     app):
    from fastapi.testclient import TestClient

    assert post(admin_client, august_records()).status_code == 201
    assert online(admin_client, "06200") == (2, 4)
    with TestClient(app) as officer:
        signed_in(officer, make_user, Role.FOCAL_OFFICER, world["06300"])
        # The commune's online dossiers D1 and D2, re-sent as 06300's own, in person.
        taken = [{**r, "unit_code": "06300", "channel": "truc_tiep",
                  "updated_at": "2025-08-20 09:00"}
                 for r in august_records() if r["dossier_code"] in ("D1", "D2")]
        refused = post(officer, taken)
        assert refused.status_code == 403, refused.text
        assert "Xã Hữu Lũng (06200)" in refused.json()["message_vi"]
        # A new dossier of its own is still accepted.
        own = record("N1", "P1", "06300", "2025-08-21 09:00", "truc_tuyen")
        assert post(officer, [own]).status_code == 201
    assert online(admin_client, "06200") == (2, 4)  # untouched
    assert online(admin_client, "06300") == (2, 3)


def test_a_unit_that_may_capture_for_both_can_move_a_dossier(client, make_user, world):
    signed_in(client, make_user, Role.STANDING_OFFICE, world["20"])
    assert post(client, august_records()).status_code == 201
    moved = [{**r, "unit_code": "06300", "updated_at": "2025-08-20 09:00"}
             for r in august_records() if r["dossier_code"] == "D1"]
    assert post(client, moved).status_code == 201
    assert online(client, "06200") == (1, 3)
    assert online(client, "06300") == (2, 3)
    assert online(client, "20") == (3, 6)  # the province keeps one dossier, not two


def test_a_merged_commune_posts_its_own_records_under_its_reused_code(client, make_user,
                                                                      world, app):
    from fastapi.testclient import TestClient

    signed_in(client, make_user, Role.FOCAL_OFFICER, world["merged"])
    after_merger = [record("M1", "P1", "06001", "2025-08-04 08:00", "truc_tuyen"),
                    record("M2", "P2", "06001", "2025-08-05 08:00", "truc_tiep")]
    response = post(client, after_merger)
    assert response.status_code == 201, response.text
    # Dossiers of an abolished commune it carries on (received before 1/7/2025).
    before = [record("M3", "P1", "06002", "2025-06-10 08:00", "truc_tuyen")]
    assert post(client, before).status_code == 201
    assert online(client, "06001") == (1, 2)
    # A neighbour may not post under its code.
    with TestClient(app) as other:
        signed_in(other, make_user, Role.FOCAL_OFFICER, world["06300"])
        assert post(other, [record("X1", "P1", "06001", "2025-08-06 08:00",
                                   "truc_tuyen")]).status_code == 403


def test_a_token_scoped_to_one_commune_posts_only_there(app, make_user, world, db_url):
    from fastapi.testclient import TestClient

    from chiso.accounts.access import Action
    from chiso.accounts.models import User
    from chiso.accounts.service import create_api_token
    from chiso.db import new_session

    user, _password = make_user(Role.STANDING_OFFICE, unit_id=world["20"])
    with new_session(db_url) as db:
        secret, _row = create_api_token(db, access=Access.system(db, "test"),
                                        user=db.get(User, user.id), name="Một cửa xã",
                                        actions=[Action.READ, Action.CAPTURE],
                                        unit_ids=[world["06300"]])
        db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as system:
        mine = [r for r in august_records() if r["unit_code"] == "06300"]
        theirs = [r for r in august_records() if r["unit_code"] == "06200"]
        assert system.post("/api/records/batches", json={"records": theirs},
                           headers=headers).status_code == 403
        accepted = system.post("/api/records/batches", json={"records": mine},
                               headers=headers)
        assert accepted.status_code == 201, accepted.text


def test_each_batch_is_audited_once_under_its_sender(client, make_user, world, session):
    officer = signed_in(client, make_user, Role.FOCAL_OFFICER, world["06300"])
    mine = [r for r in august_records() if r["unit_code"] == "06300"]
    batch_id = post(client, mine).json()["batch_id"]
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["records.ingest", "values.upsert"]))).all()
    assert [(e.action, e.object_id, e.actor_id) for e in events] == [
        ("records.ingest", str(batch_id), officer.id)]
    assert events[0].after["rows_stored"] == 2 and events[0].after["inserted"] > 0


@pytest.mark.parametrize("year", ["-1", "0", "99999"])
def test_a_year_out_of_range_is_refused_clearly(admin_client, world, year):
    for path in ("/records/units/20", "/api/records/units/20/indicators",
                 "/api/records/units/20/procedures-without-online"):
        response = admin_client.get(f"{path}?year={year}")
        assert response.status_code == 422, (path, response.text)
        assert f"Năm {year} nằm ngoài khoảng 1900–2200" in response.text
        # A page speaks the reader's language only; the JSON error carries both.
        english = admin_client.get(f"{path}?year={year}&lang=en")
        assert english.status_code == 422
        assert f"the year {year} is outside 1900–2200" in english.text


def test_only_a_manager_of_the_installation_loads_the_procedure_catalogue(session, world,
                                                                         make_user, tmp_path):
    from records_support import write_procedures

    from chiso.accounts.access import Access, PermissionDenied
    from chiso.accounts.models import User
    from chiso.records.service import load_procedures

    officer, _password = make_user(Role.FOCAL_OFFICER, unit_id=world["06300"])
    access = Access(session, session.get(User, officer.id))
    with pytest.raises(PermissionDenied):
        load_procedures(session, write_procedures(tmp_path / "p.csv"), access=access)

"""The maps' boundaries API: documented in /docs like every other /api route, and answering
with the administrator's shapes matched to today's communes (by code, else by name)."""

from __future__ import annotations

import json
from pathlib import Path

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.settings import get_settings
from chiso.units.models import OrgUnit
from chiso.units.service import ensure_unit_kinds
from chiso.web.app import create_app
from tests.conftest import login

PATH = "/api/units/{code}/boundaries"


def test_the_boundaries_route_is_in_the_api_reference() -> None:
    operation = create_app(check_migrations=False).openapi()["paths"][PATH]["get"]
    assert operation["tags"] == ["units"]
    assert "GeoJSON" in operation["description"]
    assert [p["name"] for p in operation["parameters"]] == ["code"]


def _square(x: float) -> dict[str, object]:
    ring = [[x, 21.0], [x + 0.1, 21.0], [x + 0.1, 21.1], [x, 21.1], [x, 21.0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _province(session) -> OrgUnit:  # type: ignore[no-untyped-def]
    ensure_unit_kinds(session, Access.system(session, "test").actor)
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="tinh")
    session.add(province)
    session.flush()
    session.add_all([OrgUnit(code="05977", name="Phường Đông Kinh", kind="phuong",
                             parent_id=province.id),
                     OrgUnit(code="06184", name="Xã Thất Khê", kind="xa",
                             parent_id=province.id)])
    session.commit()
    return province


def test_shapes_are_named_by_the_commune_they_match(session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    province = _province(session)
    reader, password = make_user(Role.LEADER, unit_id=province.id)
    login(client, reader.username, password)
    assert client.get(PATH.format(code="20")).json() == {"type": "FeatureCollection",
                                                           "features": []}
    shapes = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"MA_XA": "05977"}, "geometry": _square(106.7)},
        {"type": "Feature", "properties": {"ten": "xã THẤT KHÊ"}, "geometry": _square(106.4)},
        {"type": "Feature", "properties": {"ten": "Xã Không Có"}, "geometry": _square(106.1)}]}
    data_dir: Path = get_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "boundaries.geojson").write_text(json.dumps(shapes, ensure_ascii=False),
                                                 encoding="utf-8")
    answer = client.get(PATH.format(code="20"))
    assert answer.status_code == 200, answer.text
    assert [(f["properties"], f["geometry"]["coordinates"][0][0][0])
            for f in answer.json()["features"]] == [
        ({"name": "05977", "label": "Phường Đông Kinh"}, 106.7),
        ({"name": "06184", "label": "Xã Thất Khê"}, 106.4)]
    assert client.get(PATH.format(code="99")).status_code == 404

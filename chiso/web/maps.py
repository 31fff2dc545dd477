"""The province's own commune boundaries for the maps (issue 14 item 7).

The maps draw each commune at its shipped centroid (chiso/units data). When the
administrator puts the province's boundaries in `<CHISO_DATA_DIR>/boundaries.geojson` (a
GeoJSON FeatureCollection of polygons, one feature per commune), the maps draw the shapes
instead. Each feature is matched to today's sub-unit by its code (a property named code,
ma, ma_xa, maxa or id, in any case) or else by its name (name, ten, ten_xa, tenxa, in any
spelling of tones and case); features matching no sub-unit are left out. The answer names
each shape by the unit's code, so the map colours it like the unit's point. See
docs/frontend.md, "Maps".
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from chiso.accounts.access import Action
from chiso.settings import get_settings
from chiso.text import name_key
from chiso.units import service as units
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, SessionDep

router = APIRouter(tags=["units"])

FILE_NAME = "boundaries.geojson"
CODE_KEYS = ("code", "ma", "ma_xa", "maxa", "id")
NAME_KEYS = ("name", "ten", "ten_xa", "tenxa")


def boundaries_file() -> Path:
    return get_settings().data_dir / FILE_NAME


@lru_cache(maxsize=2)
def _features(path: str, mtime_ns: int) -> list[dict[str, Any]]:
    """The file's features (read again when the file changes)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [f for f in data.get("features", []) if isinstance(f, dict) and f.get("geometry")]


def _property(feature: dict[str, Any], keys: tuple[str, ...]) -> str:
    lowered = {str(k).lower(): v for k, v in (feature.get("properties") or {}).items()}
    return next((str(lowered[k]).strip() for k in keys if lowered.get(k) not in (None, "")), "")


def matched_features(features: list[dict[str, Any]], children: list[OrgUnit]
                     ) -> list[dict[str, Any]]:
    """Each feature that names one of `children` (by code, else by name), renamed to the
    unit's code with its name as label."""
    by_code = {u.code: u for u in children}
    by_name = {name_key(n): u for u in children for n in (u.name, u.short_name) if n}
    matched = []
    for feature in features:
        unit = by_code.get(_property(feature, CODE_KEYS)) or by_name.get(
            name_key(_property(feature, NAME_KEYS)))
        if unit is not None:
            matched.append({"type": "Feature", "geometry": feature["geometry"],
                            "properties": {"name": unit.code, "label": unit.name}})
    return matched


@router.get("/api/units/{code}/boundaries")
def unit_boundaries(code: str, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """The shapes of a unit's sub-units from the administrator's GeoJSON file, as a
    FeatureCollection whose features are named by unit code (none without the file: the
    maps then draw the communes' centroids)."""
    day = units.today()
    unit = units.get_unit(session, code, day)
    access.require(Action.READ, unit.id)
    path = boundaries_file()
    if not path.is_file():
        return {"type": "FeatureCollection", "features": []}
    features = _features(str(path), path.stat().st_mtime_ns)
    return {"type": "FeatureCollection",
            "features": matched_features(features, units.children(session, unit.id, day))}

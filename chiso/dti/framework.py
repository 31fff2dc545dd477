"""Composite-index frameworks as data: a tree of groups and indicators with weights (points),
valid for given years, read from YAML and validated with bilingual messages.

A framework file looks like (see chiso/dti/data/*.yaml):

    code: DTI_TINH_922
    version: 1
    name_vi: ...; name_en: ...
    level: province            # province | department | commune
    valid_from_year: 2021; valid_to_year: 2023
    total_points: 1000
    aggregation: arithmetic    # or geometric (per node override allowed)
    missing: skip              # skip (re-weight) | zero | impute
    rank_decimals: 4           # ranks are computed on values rounded as published
    nodes:
      - code: NT; name_vi: ...; children: [...]           # a group
      - code: NTS; points: 100; main: true                # a leaf indicator
        normalisation: {method: none}                      # minmax | target | rank | zscore | none

Weights are `points` (or `weight`); `points: null` with `points_status: unknown` marks an
official figure we do not know — such a framework can hold published values but refuses to
compute an index until the weights are supplied (we never invent official numbers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chiso.errors import UserError
from chiso.text import nfc

NORMALISATIONS = ("none", "minmax", "target", "rank", "zscore")
AGGREGATIONS = ("arithmetic", "geometric")
MISSING_RULES = ("skip", "zero", "impute")
LEVELS = ("province", "department", "commune")
DATA_DIR = Path(__file__).parent / "data"
# libyaml's safe loader where installed (several times faster), else PyYAML's own.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FrameworkError(UserError):
    """A framework file breaks a rule, or a framework cannot do what was asked of it (its
    official points are unknown, an indicator is not in it): 422, Vietnamese and English."""


class FrameworkNotFound(FrameworkError):
    """No framework with that code, or none for that level and year (404)."""

    status = 404


@dataclass(frozen=True)
class Normalisation:
    method: str = "none"
    low: float | None = None  # goalpost (minmax) or lower bound (target)
    high: float | None = None  # goalpost (minmax)
    target: float | None = None  # distance to target
    direction: int = 1  # +1 higher is better, -1 lower is better


@dataclass(frozen=True)
class Node:
    code: str
    name_vi: str
    name_en: str
    parent: str | None
    weight: float | None  # points; None when the official figure is unknown
    children: tuple[str, ...] = ()
    main: bool = False  # a "main indicator" (chỉ số chính), ranked on its own
    aggregation: str | None = None
    normalisation: Normalisation = field(default_factory=Normalisation)
    effort: float = 1.0  # relative cost of raising this indicator by one unit of score
    source_indicator: str = ""  # catalogue code feeding this leaf, if any
    note: str = ""

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class Framework:
    code: str
    version: int
    name_vi: str
    name_en: str
    level: str
    valid_from_year: int
    valid_to_year: int | None
    total_points: float
    aggregation: str
    missing: str
    rank_decimals: int | None
    legal_basis: str
    note: str
    is_sample: bool
    nodes: dict[str, Node]  # in document order; the root is ROOT
    value_range: tuple[float, float] | None = None  # allowed raw leaf values, if bounded
    sha256: str = ""
    source_text: str = ""

    ROOT = "_ROOT"

    @property
    def root(self) -> Node:
        return self.nodes[self.ROOT]

    @property
    def leaves(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.is_leaf and n.code != self.ROOT]

    @property
    def pillars(self) -> list[Node]:
        """Level-1 groups (trụ cột / nhóm)."""
        return [self.nodes[c] for c in self.root.children if not self.nodes[c].is_leaf]

    @property
    def main_indicators(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.main]

    @property
    def weights_known(self) -> bool:
        return all(n.weight is not None for c, n in self.nodes.items() if c != self.ROOT)

    def covers(self, year: int) -> bool:
        return self.valid_from_year <= year and (
            self.valid_to_year is None or year <= self.valid_to_year)

    def unknown_weights(self) -> list[str]:
        return [c for c, n in self.nodes.items() if c != self.ROOT and n.weight is None]


def _fail(where: str, vi: str, en: str) -> FrameworkError:
    return FrameworkError(f"{where}: {vi}", f"{where}: {en}")


def parse_framework(text: str, *, source: str = "framework.yaml") -> Framework:
    """Parse and validate YAML text; every error names the file and the node."""
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise _fail(source, f"không đọc được YAML ({exc})", f"not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise _fail(source, "tệp phải là một bảng khóa–giá trị", "the file must be a mapping")
    for key in ("code", "name_vi", "valid_from_year", "nodes"):
        if key not in data:
            raise _fail(source, f"thiếu khóa bắt buộc '{key}'", f"missing required key '{key}'")
    where = f"{source} [{data['code']}]"
    aggregation = str(data.get("aggregation", "arithmetic"))
    missing = str(data.get("missing", "skip"))
    level = str(data.get("level", "province"))
    _check_choice(where, "aggregation", aggregation, AGGREGATIONS)
    _check_choice(where, "missing", missing, MISSING_RULES)
    _check_choice(where, "level", level, LEVELS)
    nodes: dict[str, Node] = {}
    root_children = _parse_nodes(data["nodes"], Framework.ROOT, nodes, where)
    nodes[Framework.ROOT] = Node(code=Framework.ROOT, name_vi=nfc(str(data["name_vi"])),
                                 name_en=str(data.get("name_en", "")), parent=None,
                                 weight=1.0, children=tuple(root_children))
    nodes = {Framework.ROOT: nodes.pop(Framework.ROOT), **nodes}
    if not root_children:
        raise _fail(where, "khung không có chỉ số nào", "the framework has no indicators")
    valid_to = data.get("valid_to_year")
    return Framework(
        code=nfc(str(data["code"])).strip(),
        version=int(data.get("version", 1)),
        name_vi=nfc(str(data["name_vi"])),
        name_en=str(data.get("name_en", "")),
        level=level,
        valid_from_year=int(data["valid_from_year"]),
        valid_to_year=int(valid_to) if valid_to is not None else None,
        total_points=float(data.get("total_points", 1.0)),
        aggregation=aggregation,
        missing=missing,
        rank_decimals=data.get("rank_decimals"),
        legal_basis=nfc(str(data.get("legal_basis", ""))),
        note=nfc(str(data.get("note", ""))),
        is_sample=bool(data.get("is_sample", False)),
        nodes=nodes,
        value_range=_parse_range(data.get("value_range"), where),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_text=text,
    )


def _parse_range(raw: Any, where: str) -> tuple[float, float] | None:
    if raw is None:
        return None
    try:
        low, high = (float(v) for v in raw)
    except (TypeError, ValueError) as exc:
        raise _fail(where, "'value_range' phải là [thấp, cao]", "'value_range' must be "
                    "[low, high]") from exc
    if high <= low:
        raise _fail(where, "'value_range': cao phải lớn hơn thấp", "'value_range': high must "
                    "exceed low")
    return low, high


def _check_choice(where: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _fail(where, f"'{key}' = '{value}' không hợp lệ, chọn một trong {allowed}",
                    f"'{key}' = '{value}' is not valid, choose one of {allowed}")


def _parse_nodes(items: Any, parent: str, nodes: dict[str, Node], where: str) -> list[str]:
    if not isinstance(items, list):
        raise _fail(where, f"'nodes/children' của '{parent}' phải là danh sách",
                    f"'nodes/children' of '{parent}' must be a list")
    codes = []
    for position, item in enumerate(items, start=1):
        node = _parse_node(item, parent, nodes, f"{where}, {parent}#{position}")
        codes.append(node.code)
    return codes


def _parse_node(item: Any, parent: str, nodes: dict[str, Node], where: str) -> Node:
    if not isinstance(item, dict) or not item.get("code"):
        raise _fail(where, "mỗi nút cần có 'code'", "every node needs a 'code'")
    code = nfc(str(item["code"])).strip()
    where = f"{where} '{code}'"
    if code in nodes or code == Framework.ROOT:
        raise _fail(where, "mã bị trùng", "duplicate code")
    children = _parse_nodes(item["children"], code, nodes, where) if item.get("children") else []
    weight = _group_points(item, children, nodes) if children else _parse_weight(item, where)
    aggregation = item.get("aggregation")
    if aggregation is not None:
        _check_choice(where, "aggregation", str(aggregation), AGGREGATIONS)
    node = Node(
        code=code, name_vi=nfc(str(item.get("name_vi", code))),
        name_en=str(item.get("name_en", "")), parent=parent, weight=weight,
        children=tuple(children), main=bool(item.get("main", False)),
        aggregation=aggregation, normalisation=_parse_normalisation(item, where),
        effort=float(item.get("effort", 1.0)),
        source_indicator=str(item.get("source_indicator", "")),
        note=nfc(str(item.get("note", ""))),
    )
    if node.effort <= 0:
        raise _fail(where, "'effort' phải dương", "'effort' must be positive")
    nodes[code] = node
    return node


def _group_points(item: dict[str, Any], children: list[str], nodes: dict[str, Node]
                  ) -> float | None:
    """A group's weight: its own `points`, else the sum of its children's points."""
    if "points" in item or "weight" in item or "points_status" in item:
        return _parse_weight(item, "")
    weights = [nodes[c].weight for c in children]
    return None if None in weights else float(sum(w for w in weights if w is not None))


def _parse_weight(item: dict[str, Any], where: str) -> float | None:
    raw = item.get("points", item.get("weight", 1.0 if "points_status" not in item else None))
    if raw is None:
        if item.get("points_status") != "unknown":
            raise _fail(where, "thiếu điểm/trọng số; nếu chưa biết số chính thức hãy ghi "
                        "'points_status: unknown'", "points/weight missing; if the official "
                        "figure is not known write 'points_status: unknown'")
        return None
    try:
        weight = float(raw)
    except (TypeError, ValueError) as exc:
        raise _fail(where, f"điểm '{raw}' không phải là số", f"points '{raw}' is not a number"
                    ) from exc
    if weight < 0:
        raise _fail(where, "điểm/trọng số không được âm", "points/weight must not be negative")
    return weight


def _parse_normalisation(item: dict[str, Any], where: str) -> Normalisation:
    spec = item.get("normalisation") or {}
    if isinstance(spec, str):
        spec = {"method": spec}
    method = str(spec.get("method", "none"))
    _check_choice(where, "normalisation.method", method, NORMALISATIONS)
    direction = int(spec.get("direction", 1))
    if direction not in (1, -1):
        raise _fail(where, "'direction' phải là 1 hoặc -1", "'direction' must be 1 or -1")
    low, high, target = spec.get("low"), spec.get("high"), spec.get("target")
    if method == "minmax" and low is not None and high is not None and float(high) <= float(low):
        raise _fail(where, "ngưỡng 'high' phải lớn hơn 'low'", "goalpost 'high' must exceed 'low'")
    if method == "target" and target is None:
        raise _fail(where, "chuẩn hóa theo mục tiêu cần 'target'",
                    "distance-to-target normalisation needs 'target'")
    return Normalisation(method=method, low=_opt(low), high=_opt(high), target=_opt(target),
                         direction=direction)


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def load_framework_file(path: Path) -> Framework:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(str(path), f"không đọc được tệp ({exc})", f"cannot read the file ({exc})"
                    ) from exc
    return parse_framework(text, source=path.name)


PUBLISHED_MANIFEST = "published.yaml"  # the list of shipped published results, not a framework


def shipped_framework_files() -> list[Path]:
    return sorted(p for p in DATA_DIR.glob("*.yaml") if p.name != PUBLISHED_MANIFEST)


def shipped_frameworks() -> dict[str, Framework]:
    return {fw.code: fw for fw in map(load_framework_file, shipped_framework_files())}

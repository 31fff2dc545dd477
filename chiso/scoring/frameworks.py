"""Loading a scoring framework from YAML (docs/scoring.md): the whole file is checked first,
every problem named (file, criterion, field), nothing stored on an error; loading again
changes nothing; criteria are added or updated, never deleted (scores given on them stay);
every change is audited; MANAGE on the installation's unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.audit.service import assign_fields, changed_fields, record_event
from chiso.boot import require_booted
from chiso.indicators.problems import InputRejected, Problem
from chiso.indicators.service import read_yaml_mapping
from chiso.scoring.models import Method, ScoringCriterion, ScoringFramework
from chiso.text import nfc, parse_number
from chiso.text.numbers import NumberError
from chiso.units.service import require_manage_installation

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "vi-du-chuyen-doi-so-1000.yaml"
FRAMEWORK_KEYS = {"code", "name_vi", "name_en", "max_points", "unit_kinds", "basis",
                  "example", "note"}
CRITERION_KEYS = {"code", "name_vi", "name_en", "method", "max_points", "levels", "steps",
                  "full_at", "evidence_required", "guidance", "criteria"}
CRITERION_FIELDS = ("parent_id", "position", "name_vi", "name_en", "max_points", "method",
                    "rule", "evidence_required", "guidance")
FRAMEWORK_FIELDS = ("name_vi", "name_en", "max_points", "unit_kinds", "basis", "example",
                    "note", "version")


@dataclass
class ScoringLoad:
    file: str
    code: str
    created: bool = False
    changed: list[str] = field(default_factory=list)  # criteria added or changed


def load_scoring_framework(session: Session, path: str | Path, *, access: Access
                           ) -> ScoringLoad:
    require_booted()
    require_manage_installation(session, access)
    source = Path(path)
    reader = _Reader(source.name, read_yaml_mapping(source))
    framework_fields, criteria = reader.run()
    return _store(session, source.name, framework_fields, criteria, access)


def load_example(session: Session) -> ScoringLoad:
    """The shipped example (for the demo and tests; `chiso init` does not load it)."""
    return load_scoring_framework(session, EXAMPLE, access=Access.system(session, "setup"))


class _Reader:
    def __init__(self, file: str, document: dict[str, Any]) -> None:
        self.file, self.document = file, document
        self.problems: list[Problem] = []

    def problem(self, code: str, column: str, vi: str, en: str) -> None:
        self.problems.append(Problem(self.file, vi, en, sheet="criteria", column=column,
                                     key=code))

    def run(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        raw = self.document.get("framework")
        if not isinstance(raw, dict):
            raise InputRejected([Problem(self.file, "thiếu mục 'framework'",
                                         "missing the 'framework' mapping")])
        framework = self._framework(raw)
        criteria: list[dict[str, Any]] = []
        total = self._criteria(self.document.get("criteria"), None, criteria)
        if framework["max_points"] is not None and abs(total - framework["max_points"]) > 1e-6:
            self.problem("", "max_points", f"tổng điểm các tiêu chí là {total:g}, khác thang "
                         f"điểm {framework['max_points']:g}", f"the criteria add up to "
                         f"{total:g}, not the scale of {framework['max_points']:g}")
        if self.problems:
            raise InputRejected(self.problems)
        return framework, criteria

    def _framework(self, raw: dict[str, Any]) -> dict[str, Any]:
        for key in sorted(set(raw) - FRAMEWORK_KEYS):
            self.problem("", key, "trường không được hỗ trợ", "unknown field")
        code = nfc(raw.get("code")).strip()
        kinds = raw.get("unit_kinds")
        if not code or not nfc(raw.get("name_vi")):
            self.problem("", "code", "thiếu mã hoặc tên bộ chỉ số", "missing code or name")
        if not isinstance(kinds, list) or not kinds:
            self.problem("", "unit_kinds", "cần danh sách loại đơn vị được đánh giá (ví dụ "
                         "[so_ban_nganh, xa])", "needs the unit kinds it scores")
            kinds = []
        return {"code": code, "name_vi": " ".join(nfc(raw.get("name_vi")).split()),
                "name_en": " ".join(nfc(raw.get("name_en")).split()),
                "max_points": self._number("", "max_points", raw.get("max_points")),
                "unit_kinds": [nfc(k) for k in kinds], "basis": nfc(raw.get("basis")),
                "example": bool(raw.get("example", False)), "note": nfc(raw.get("note")),
                "version": nfc(self.document.get("version") or "")}

    def _number(self, code: str, column: str, raw: object) -> float | None:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        try:
            return float(parse_number(raw).value)
        except NumberError:
            self.problem(code, column, f"'{raw}' không phải là số", f"'{raw}' is not a number")
            return None

    def _criteria(self, entries: Any, parent: str | None, out: list[dict[str, Any]]) -> float:
        """Read a list of criteria into `out` (parents before children); their points."""
        if not isinstance(entries, list) or not entries:
            self.problem(parent or "", "criteria", "cần danh sách tiêu chí",
                         "needs a list of criteria")
            return 0.0
        total = 0.0
        for position, entry in enumerate(entries, start=1):
            total += self._criterion(entry, parent, position, out)
        return total

    def _criterion(self, entry: Any, parent: str | None, position: int,
                   out: list[dict[str, Any]]) -> float:
        if not isinstance(entry, dict):
            self.problem(parent or "", "", "mục phải là bảng khóa: giá trị",
                         "entry must be a mapping")
            return 0.0
        code = nfc(str(entry.get("code") or "")).strip()
        for key in sorted(set(entry) - CRITERION_KEYS):
            self.problem(code, key, "trường không được hỗ trợ", "unknown field")
        if not code or code in {c["code"] for c in out}:
            self.problem(code, "code", "thiếu mã hoặc mã bị trùng", "missing or repeated code")
        row: dict[str, Any] = {
            "code": code, "parent": parent, "position": position,
            "name_vi": " ".join(nfc(entry.get("name_vi")).split()),
            "name_en": " ".join(nfc(entry.get("name_en")).split()),
            "evidence_required": bool(entry.get("evidence_required", True)),
            "guidance": nfc(entry.get("guidance"))}
        if not row["name_vi"]:
            self.problem(code, "name_vi", "thiếu tên tiêu chí", "missing name")
        out.append(row)
        if "criteria" in entry:
            row.update(method=Method.GROUP.value, rule=None)
            row["max_points"] = self._criteria(entry["criteria"], code, out)
            return float(row["max_points"])
        row["max_points"] = self._number(code, "max_points", entry.get("max_points")) or 0.0
        row["method"], row["rule"] = self._method(code, entry, row["max_points"])
        return float(row["max_points"])

    def _method(self, code: str, entry: dict[str, Any], max_points: float
                ) -> tuple[str, Any]:
        method = nfc(entry.get("method"))
        if method == Method.LEVEL:
            levels = entry.get("levels") or []
            points = [self._number(code, "levels", lv.get("points")) for lv in levels
                      if isinstance(lv, dict)]
            if len(points) != len(levels) or len(levels) < 2 or not all(
                    isinstance(lv, dict) and lv.get("label_vi") for lv in levels):
                self.problem(code, "levels", "cần ít nhất hai mức, mỗi mức có label_vi và "
                             "points", "needs two levels or more, each with label_vi and points")
            elif any(p is None or p < 0 or p > max_points for p in points):
                self.problem(code, "levels", f"điểm của mỗi mức phải từ 0 đến {max_points:g}",
                             f"each level's points must be 0 to {max_points:g}")
            return method, [{"label_vi": nfc(lv.get("label_vi")),
                             "label_en": nfc(lv.get("label_en")), "points": p}
                            for lv, p in zip(levels, points, strict=False)]
        if method == Method.RATIO:
            return method, self._ratio_rule(code, entry, max_points)
        if method == Method.YES_NO:
            return method, None
        self.problem(code, "method", f"cách chấm '{method}' không hợp lệ (level, ratio, "
                     "yes_no)", f"unknown method '{method}' (level, ratio, yes_no)")
        return method, None

    def _ratio_rule(self, code: str, entry: dict[str, Any], max_points: float
                    ) -> dict[str, Any]:
        steps = entry.get("steps")
        if steps:
            parsed = [{"from": self._number(code, "steps", s.get("from")),
                       "points": self._number(code, "steps", s.get("points"))}
                      for s in steps if isinstance(s, dict)]
            if any(s["points"] is None or s["points"] > max_points for s in parsed):
                self.problem(code, "steps", f"điểm mỗi bậc không quá {max_points:g}",
                             f"no step above {max_points:g} points")
            return {"steps": sorted(parsed, key=lambda s: -(s["from"] or 0))}
        full_at = self._number(code, "full_at", entry.get("full_at", 100))
        if full_at is not None and not 0 < full_at <= 100:
            self.problem(code, "full_at", "full_at phải trong (0, 100]",
                         "full_at must be in (0, 100]")
        return {"full_at": full_at}


def _store(session: Session, file: str, fields: dict[str, Any],
           criteria: list[dict[str, Any]], access: Access) -> ScoringLoad:
    summary = ScoringLoad(file, fields["code"])
    framework = session.scalar(select(ScoringFramework).where(
        ScoringFramework.code == fields["code"]))
    values = {name: fields[name] for name in FRAMEWORK_FIELDS}
    if framework is None:
        framework = ScoringFramework(code=fields["code"], **values)
        session.add(framework)
        session.flush()
        summary.created = True
        _audit(session, access, "scoring_framework.create", framework.code, {}, values, file)
    else:
        before, after = changed_fields(framework, values, FRAMEWORK_FIELDS)
        if after:
            assign_fields(framework, after)
            _audit(session, access, "scoring_framework.update", framework.code, before,
                   after, file)
    stored = {c.code: c for c in session.scalars(select(ScoringCriterion).where(
        ScoringCriterion.framework_id == framework.id))}
    for data in criteria:  # parents come before their children
        parent = stored.get(data["parent"]) if data["parent"] else None
        values = {**{n: data[n] for n in CRITERION_FIELDS if n != "parent_id"},
                  "parent_id": parent.id if parent else None}
        row = stored.get(data["code"])
        if row is None:
            row = ScoringCriterion(framework_id=framework.id, code=data["code"], **values)
            session.add(row)
            session.flush()
            stored[data["code"]] = row
            old: dict[str, Any] = {}
            new = values
        else:
            old, new = changed_fields(row, values, CRITERION_FIELDS)
            if not new:
                continue
            assign_fields(row, new)
        _audit(session, access, "scoring_criterion.load", f"{framework.code} {data['code']}",
               old, new, file)
        summary.changed.append(data["code"])
    session.flush()
    return summary


def _audit(session: Session, access: Access, action: str, object_id: str,
           before: dict[str, Any], after: dict[str, Any], note: str) -> None:
    record_event(session, action=action, object_type="scoring_framework", object_id=object_id,
                 actor=access.actor, before=before or None, after=after, note=note)

"""National frameworks of targets, as data with their sources (docs/catalog.md).

A framework file lists the documents (số hiệu, title, issuer, date, where chiso read them)
and the frameworks that take targets from them: for each target the indicator, year,
comparator and value, the article that sets it, the body that monitors it and where a
later document changed it. Loading follows the catalogue's rules: the whole file is checked
first (every problem named, nothing stored on one), loading again changes nothing, nothing
is deleted, every change is audited, and it needs MANAGE on the installation's unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.audit.service import assign_fields, changed_fields, record_event
from chiso.boot import require_booted
from chiso.indicators.models import Framework, FrameworkTarget, Indicator, ReferenceDocument
from chiso.indicators.problems import InputRejected, Problem
from chiso.indicators.service import read_yaml_mapping
from chiso.text import nfc, parse_date, parse_number
from chiso.text.dates import DateError
from chiso.text.numbers import NumberError
from chiso.units.service import require_manage_installation

SHIPPED_FRAMEWORKS = Path(__file__).parent / "data" / "frameworks.yaml"
COMPARATORS = (">=", "<=", "=", "between")
DOCUMENT_FIELDS = ("kind", "title_vi", "title_en", "issuer", "issued_on", "reported_on",
                   "source_url", "note")
FRAMEWORK_FIELDS = ("name_vi", "name_en", "level", "document_id", "sort_order")
TARGET_FIELDS = ("comparator", "value", "value_high", "document_id", "article", "wording_vi",
                 "monitoring_body", "amended_by_id", "amendment_note", "source_url",
                 "position")
DOCUMENT_KEYS = {"code", "kind", "title_vi", "title_en", "issuer", "issued_on",
                 "reported_on", "source", "note"}
FRAMEWORK_KEYS = {"code", "name_vi", "name_en", "level", "document", "targets"}
TARGET_KEYS = {"indicator", "year", "comparator", "value", "value_high", "document",
               "article", "wording_vi", "monitoring", "amended_by", "amendment_note", "source"}


@dataclass
class FrameworkSummary:
    file: str
    version: str
    dry_run: bool
    documents: list[str] = field(default_factory=list)  # added or changed
    frameworks: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.documents or self.frameworks or self.targets)


def load_frameworks(session: Session, path: str | Path | None = None, *, access: Access,
                    dry_run: bool = False) -> FrameworkSummary:
    """Load the shipped frameworks, or a user's file in the same shape, as `access` (MANAGE
    on the installation's unit). Raises InputRejected before writing anything."""
    require_booted()
    require_manage_installation(session, access)
    source = Path(path) if path else SHIPPED_FRAMEWORKS
    reader = _Reader(session, source.name, read_yaml_mapping(source))
    documents, frameworks = reader.run()
    summary = FrameworkSummary(source.name, reader.version, dry_run)
    if dry_run:
        return summary
    ids = _apply_documents(session, documents, summary, access)
    _apply_frameworks(session, frameworks, ids, summary, access)
    session.flush()
    return summary


def load_shipped_frameworks(session: Session) -> FrameworkSummary:
    """The reference loader `chiso init` runs (after the catalogue): idempotent."""
    return load_frameworks(session, access=Access.system(session, "setup"))


# ---------------------------------------------------------------- reading


class _Reader:
    def __init__(self, session: Session, file: str, document: dict[str, Any]) -> None:
        self.session, self.file, self.document = session, file, document
        self.version = nfc(document.get("version") or "")
        self.problems: list[Problem] = []
        self.indicators = {code: ident for ident, code in session.execute(
            select(Indicator.id, Indicator.code))}

    def problem(self, sheet: str, row: int | None, column: str, vi: str, en: str,
                key: str = "") -> None:
        self.problems.append(Problem(self.file, vi, en, sheet=sheet, row=row, column=column,
                                     key=key))

    def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if not self.version:
            self.problem("", None, "version", "thiếu phiên bản (version)", "missing version")
        documents = [d for i, e in enumerate(self._list("documents"), 1)
                     if (d := self._document(i, e)) is not None]
        known = {d["code"] for d in documents} | set(self.session.scalars(
            select(ReferenceDocument.code)))
        frameworks = [f for i, e in enumerate(self._list("frameworks"), 1)
                      if (f := self._framework(i, e, known)) is not None]
        if self.problems:
            raise InputRejected(self.problems)
        return documents, frameworks

    def _list(self, name: str) -> list[Any]:
        entries = self.document.get(name) or []
        if not isinstance(entries, list):
            self.problem(name, None, "", f"'{name}' phải là một danh sách",
                         f"'{name}' must be a list")
            return []
        return entries

    def _unknown(self, sheet: str, row: int, entry: dict[str, Any], allowed: set[str],
                 key: str) -> None:
        for name in sorted(set(entry) - allowed):
            self.problem(sheet, row, name, "trường không được hỗ trợ", "unknown field", key)

    def _date(self, sheet: str, row: int, entry: dict[str, Any], name: str, key: str
              ) -> dt.date | None:
        raw = entry.get(name)
        if raw in (None, ""):
            return None
        try:
            return parse_date(raw)
        except DateError as exc:
            self.problem(sheet, row, name, exc.message_vi, exc.message_en, key)
            return None

    def _document(self, row: int, entry: Any) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            self.problem("documents", row, "", "mục phải là bảng khóa: giá trị",
                         "entry must be a mapping")
            return None
        code = nfc(entry.get("code")).strip()
        self._unknown("documents", row, entry, DOCUMENT_KEYS, code)
        texts = {n: " ".join(nfc(entry.get(n)).split()) for n in (
            "kind", "title_vi", "title_en", "issuer", "note")}
        parsed: dict[str, Any] = {
            "code": code, **texts, "source_url": nfc(entry.get("source")).strip(),
            "issued_on": self._date("documents", row, entry, "issued_on", code),
            "reported_on": self._date("documents", row, entry, "reported_on", code)}
        for name, vi in (("code", "số hiệu"), ("title_vi", "trích yếu"), ("source", "nguồn")):
            if not parsed["source_url" if name == "source" else name]:
                self.problem("documents", row, name, f"thiếu {vi}", f"missing {name}", code)
        if parsed["issued_on"] is None and parsed["reported_on"] is None:
            self.problem("documents", row, "issued_on", "cần ngày ban hành, hoặc ngày công bố "
                         "(reported_on) khi chưa tìm được ngày ký", "needs the date it was "
                         "issued, or reported_on when the signing date was not found", code)
        return parsed

    def _framework(self, row: int, entry: Any, documents: set[str]) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            self.problem("frameworks", row, "", "mục phải là bảng khóa: giá trị",
                         "entry must be a mapping")
            return None
        code = nfc(entry.get("code")).strip()
        self._unknown("frameworks", row, entry, FRAMEWORK_KEYS, code)
        document = nfc(entry.get("document")).strip()
        if document not in documents:
            self.problem("frameworks", row, "document", f"văn bản '{document}' không có trong "
                         "danh sách documents", f"document '{document}' is not listed", code)
        if not code or not nfc(entry.get("name_vi")):
            self.problem("frameworks", row, "code", "thiếu mã hoặc tên khung",
                         "missing code or name", code)
        targets = [t for i, e in enumerate(entry.get("targets") or [], 1)
                   if (t := self._target(code, i, e, document, documents)) is not None]
        return {"code": code, "name_vi": " ".join(nfc(entry.get("name_vi")).split()),
                "name_en": " ".join(nfc(entry.get("name_en")).split()),
                "level": nfc(entry.get("level")) or "national", "document": document,
                "sort_order": row, "targets": targets}

    def _target(self, framework: str, row: int, entry: Any, default_document: str,
                documents: set[str]) -> dict[str, Any] | None:
        sheet = f"frameworks/{framework}/targets"
        if not isinstance(entry, dict):
            self.problem(sheet, row, "", "mục phải là bảng khóa: giá trị",
                         "entry must be a mapping")
            return None
        indicator = nfc(entry.get("indicator")).strip().upper()
        self._unknown(sheet, row, entry, TARGET_KEYS, indicator)
        if indicator not in self.indicators:
            self.problem(sheet, row, "indicator", f"chỉ số '{indicator}' không có trong danh "
                         "mục", f"indicator '{indicator}' is not in the catalogue", indicator)
        document = nfc(entry.get("document")).strip() or default_document
        amended_by = nfc(entry.get("amended_by")).strip()
        for name, code in (("document", document), ("amended_by", amended_by)):
            if code and code not in documents:
                self.problem(sheet, row, name, f"văn bản '{code}' không có trong danh sách "
                             "documents", f"document '{code}' is not listed", indicator)
        for name in ("article", "source"):
            if not nfc(entry.get(name)).strip():
                self.problem(sheet, row, name, "mỗi mục tiêu phải ghi điều/mục và nguồn đã "
                             "đọc được con số", "every target names its article and the "
                             "source its figure was read from", indicator)
        comparator = nfc(entry.get("comparator")) or ">="
        if comparator not in COMPARATORS:
            self.problem(sheet, row, "comparator", f"phép so sánh '{comparator}' không hợp lệ",
                         f"unknown comparator '{comparator}'", indicator)
        year = entry.get("year")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            self.problem(sheet, row, "year", f"năm '{year}' không hợp lệ",
                         f"invalid year '{year}'", indicator)
        value = self._number(sheet, row, entry, "value", indicator)
        high = self._number(sheet, row, entry, "value_high", indicator, optional=True)
        if comparator == "between" and high is None:
            self.problem(sheet, row, "value_high", "khoảng cần cận trên",
                         "a band needs value_high", indicator)
        return {"indicator": indicator, "year": year, "comparator": comparator,
                "value": value, "value_high": high, "document": document,
                "amended_by": amended_by or None, "position": row,
                "article": nfc(entry.get("article")).strip(),
                "wording_vi": " ".join(nfc(entry.get("wording_vi")).split()),
                "monitoring_body": nfc(entry.get("monitoring")).strip(),
                "amendment_note": nfc(entry.get("amendment_note")).strip(),
                "source_url": nfc(entry.get("source")).strip()}

    def _number(self, sheet: str, row: int, entry: dict[str, Any], name: str, key: str,
                optional: bool = False) -> float | None:
        raw = entry.get(name)
        if raw in (None, "") and optional:
            return None
        try:
            return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) \
                else float(parse_number(raw).value)
        except NumberError:
            self.problem(sheet, row, name, f"'{raw}' không phải là số", f"'{raw}' is not a "
                         "number", key)
            return None


# ---------------------------------------------------------------- applying


def _apply_documents(session: Session, documents: list[dict[str, Any]],
                     summary: FrameworkSummary, access: Access) -> dict[str, int]:
    stored = {d.code: d for d in session.scalars(select(ReferenceDocument))}
    for data in documents:
        fields = {name: data[name] for name in DOCUMENT_FIELDS}
        row = stored.get(data["code"])
        if row is None:
            row = ReferenceDocument(code=data["code"], **fields)
            session.add(row)
            stored[data["code"]] = row
            _audit(session, access, "reference_document.create", data["code"], {}, fields,
                   summary)
        else:
            before, after = changed_fields(row, fields, DOCUMENT_FIELDS)
            if not after:
                continue
            assign_fields(row, after)
            _audit(session, access, "reference_document.update", data["code"], before, after,
                   summary)
        summary.documents.append(data["code"])
    session.flush()
    return {code: row.id for code, row in stored.items()}


def _apply_frameworks(session: Session, frameworks: list[dict[str, Any]], ids: dict[str, int],
                      summary: FrameworkSummary, access: Access) -> None:
    stored = {f.code: f for f in session.scalars(select(Framework))}
    indicators = {code: ident for ident, code in session.execute(
        select(Indicator.id, Indicator.code))}
    for data in frameworks:
        fields = {"name_vi": data["name_vi"], "name_en": data["name_en"],
                  "level": data["level"], "document_id": ids[data["document"]],
                  "sort_order": data["sort_order"]}
        row = stored.get(data["code"])
        if row is None:
            row = Framework(code=data["code"], catalog_version=summary.version, **fields)
            session.add(row)
            session.flush()
            _audit(session, access, "framework.create", data["code"], {}, fields, summary)
            summary.frameworks.append(data["code"])
        else:
            before, after = changed_fields(row, fields, FRAMEWORK_FIELDS)
            if after:
                assign_fields(row, {**after, "catalog_version": summary.version})
                _audit(session, access, "framework.update", data["code"], before, after,
                       summary)
                summary.frameworks.append(data["code"])
        _apply_targets(session, row, data["targets"], ids, indicators, summary, access)


def _apply_targets(session: Session, framework: Framework, targets: list[dict[str, Any]],
                   ids: dict[str, int], indicators: dict[str, int], summary: FrameworkSummary,
                   access: Access) -> None:
    stored = {(t.indicator_id, t.year): t for t in session.scalars(select(FrameworkTarget)
                                                                  .where(FrameworkTarget
                                                                         .framework_id ==
                                                                         framework.id))}
    for data in targets:
        key = (indicators[data["indicator"]], data["year"])
        fields = {name: data[name] for name in TARGET_FIELDS
                  if name not in ("document_id", "amended_by_id")}
        fields["document_id"] = ids[data["document"]]
        fields["amended_by_id"] = ids[data["amended_by"]] if data["amended_by"] else None
        label = f"{framework.code}: {data['indicator']} {data['year']}"
        row = stored.get(key)
        if row is None:
            session.add(FrameworkTarget(framework_id=framework.id, indicator_id=key[0],
                                        year=key[1], **fields))
            _audit(session, access, "framework_target.create", label, {}, fields, summary)
        else:
            before, after = changed_fields(row, fields, TARGET_FIELDS)
            if not after:
                continue
            assign_fields(row, after)
            _audit(session, access, "framework_target.update", label, before, after, summary)
        summary.targets.append(label)


def _audit(session: Session, access: Access, action: str, object_id: str,
           before: dict[str, Any], after: dict[str, Any], summary: FrameworkSummary) -> None:
    record_event(session, action=action, object_type="reference_framework",
                 object_id=object_id, actor=access.actor, before=before or None,
                 after=after, note=f"{summary.file} {summary.version}")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ShownTarget:
    """A framework target as the catalogue page and the API show it."""

    indicator_code: str
    indicator_name_vi: str
    indicator_name_en: str
    unit_vi: str
    unit_en: str
    decimals: int
    year: int
    comparator: str
    value: float
    value_high: float | None
    document: ReferenceDocument
    article: str
    wording_vi: str
    monitoring_body: str
    amended_by: ReferenceDocument | None
    amendment_note: str
    source_url: str


def framework_listing(session: Session) -> list[tuple[Framework, ReferenceDocument,
                                                       list[ShownTarget]]]:
    """Every framework with its document and targets, in file order."""
    documents = {d.id: d for d in session.scalars(select(ReferenceDocument))}
    listing = []
    for framework in session.scalars(select(Framework).order_by(Framework.sort_order,
                                                                Framework.code)):
        rows = session.execute(select(FrameworkTarget, Indicator).join(
            Indicator, Indicator.id == FrameworkTarget.indicator_id).where(
            FrameworkTarget.framework_id == framework.id).order_by(FrameworkTarget.position))
        targets = [ShownTarget(
            i.code, i.name_vi, i.name_en, i.unit_vi, i.unit_en, i.decimals, t.year,
            t.comparator, t.value, t.value_high, documents[t.document_id], t.article,
            t.wording_vi, t.monitoring_body,
            documents.get(t.amended_by_id) if t.amended_by_id else None, t.amendment_note,
            t.source_url) for t, i in rows]
        listing.append((framework, documents[framework.document_id], targets))
    return listing


def document_as_dict(document: ReferenceDocument) -> dict[str, Any]:
    return {"code": document.code, "kind": document.kind, "title_vi": document.title_vi,
            "title_en": document.title_en, "issuer": document.issuer,
            "issued_on": document.issued_on, "reported_on": document.reported_on,
            "source": document.source_url, "note": document.note}


def frameworks_as_dicts(session: Session) -> list[dict[str, Any]]:
    """The public shape: every framework with its document and cited targets."""
    return [{"code": f.code, "name_vi": f.name_vi, "name_en": f.name_en, "level": f.level,
             "document": document_as_dict(d),
             "targets": [{"indicator": t.indicator_code, "indicator_name_vi":
                          t.indicator_name_vi, "indicator_name_en": t.indicator_name_en,
                          "unit_vi": t.unit_vi, "unit_en": t.unit_en, "year": t.year,
                          "comparator": t.comparator, "value": t.value,
                          "value_high": t.value_high, "document": t.document.code,
                          "document_date": t.document.issued_on or t.document.reported_on,
                          "article": t.article, "wording_vi": t.wording_vi,
                          "monitoring_body": t.monitoring_body,
                          "amended_by": t.amended_by.code if t.amended_by else None,
                          "amendment_note": t.amendment_note, "source": t.source_url}
                         for t in targets]}
            for f, d, targets in framework_listing(session)]

"""The indicator catalogue: the shipped file, users' own files, and what a bad file does."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.indicators.models import Indicator, Pillar
from chiso.indicators.problems import InputRejected
from chiso.indicators.service import (
    SHIPPED_CATALOG,
    IndicatorNotFound,
    get_indicator,
    list_indicators,
    load_catalog,
)
from tests.plans_support import count

CONTRACTS = Path(__file__).parent.parent / "docs" / "CONTRACTS.md"

# The semantics CONTRACTS.md fixes for each code: (unit aggregation, time aggregation).
CONTRACT_SEMANTICS = {
    "CQS.DVCTT_PHAT_SINH_HS": ("none", "sum"),
    "CQS.HS_TRUC_TUYEN": ("ratio_of_sums", "sum"),
    "CQS.HS_TOAN_TRINH": ("ratio_of_sums", "sum"),
    "CQS.HS_DUNG_HAN": ("ratio_of_sums", "sum"),
    "CQS.SO_HOA_HS": ("ratio_of_sums", "sum"),
    "CQS.KQ_DIEN_TU": ("ratio_of_sums", "sum"),
    "CQS.TT_TRUC_TUYEN": ("ratio_of_sums", "sum"),
    "XHS.HO_CAP_QUANG": ("ratio_of_sums", "last"),
    "XHS.SMARTPHONE": ("ratio_of_sums", "last"),
    "XHS.TK_THANH_TOAN": ("ratio_of_sums", "last"),
    "KTS.TY_TRONG_GRDP": ("ratio_of_sums", "sum"),
    "KTS.HOA_DON_DT": ("ratio_of_sums", "last"),
    "CQS.HTTT_CAP_DO": ("ratio_of_sums", "last"),
    "CQS.THIET_BI_BAO_VE": ("ratio_of_sums", "last"),
}


def _contract_codes() -> set[str]:
    section = CONTRACTS.read_text(encoding="utf-8").split("## Values service")[0]
    return set(re.findall(r"^- `([A-Z]+\.[A-Z0-9_]+)`", section, flags=re.MULTILINE))


def test_shipped_catalogue_has_every_contract_code_with_its_semantics(session) -> None:
    summary = load_catalog(session, access=Access.system(session, "test"))
    session.commit()
    assert summary.version == "2026.1"
    assert summary.pillars_inserted == ["CQS", "KTS", "XHS", "CKS", "DANG", "KHCN"]
    assert _contract_codes() == set(CONTRACT_SEMANTICS)
    stored = {i.code: i for i in session.scalars(select(Indicator))}
    assert len(stored) >= 40
    for code, (unit_aggregation, time_aggregation) in CONTRACT_SEMANTICS.items():
        indicator = stored[code]
        assert (indicator.kind, indicator.scale, indicator.unit_aggregation,
                indicator.time_aggregation) == ("ratio", 100.0, unit_aggregation,
                                                time_aggregation), code
        assert indicator.pillar_code == code.split(".")[0]
    assert {p.code: p.optional for p in session.scalars(select(Pillar))} == {
        "CQS": False, "KTS": False, "XHS": False, "CKS": True, "DANG": True, "KHCN": False}
    lower = [i.code for i in stored.values() if i.direction == "lower"]
    assert {"CQS.HS_TRE_HAN", "CQS.SU_CO_ATTT_CHUA_XL"} <= set(lower)


def test_shipped_catalogue_text_is_nfc_and_complete() -> None:
    document = yaml.safe_load(SHIPPED_CATALOG.read_text(encoding="utf-8"))
    for entry in document["indicators"]:
        for name in ("name_vi", "name_en", "definition_vi", "definition_en", "unit_vi",
                     "unit_en", "data_source", "legal_basis"):
            text = str(entry[name])
            assert text.strip(), (entry["code"], name)
            assert unicodedata.normalize("NFC", text) == text, (entry["code"], name)


def test_loading_twice_changes_nothing(session) -> None:
    load_catalog(session, access=Access.system(session, "test"))
    session.commit()
    events = count(session, AuditEvent)
    second = load_catalog(session, access=Access.system(session, "test"))
    session.commit()
    assert not second.changed
    assert len(second.unchanged) == count(session, Indicator)
    assert count(session, AuditEvent) == events


def _write(tmp_path: Path, document: dict, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def _entry(code: str, **changes: object) -> dict:
    entry = {"code": code, "pillar": "XHS", "name_vi": "Tỷ lệ thôn có điểm Wi-Fi công cộng",
             "name_en": "Villages with public Wi-Fi", "kind": "ratio", "scale": 100,
             "unit_vi": "%", "unit_en": "%", "unit_aggregation": "ratio_of_sums",
             "time_aggregation": "last", "decimals": 1}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def test_user_file_with_one_bad_entry_stores_nothing_and_names_it(session, tmp_path) -> None:
    load_catalog(session, access=Access.system(session, "test"))
    session.commit()
    before = count(session, Indicator)
    path = _write(tmp_path, {"version": "lang-son-1", "indicators": [
        _entry("XHS.THON_WIFI"), _entry("XHS.DIEM_WIFI", kind="percent")]})
    with pytest.raises(InputRejected) as caught:
        load_catalog(session, path, access=Access.system(session, "test"))
    session.rollback()
    message = str(caught.value)
    assert "Tệp 'mine.yaml', danh sách 'indicators', mục 2 (XHS.DIEM_WIFI), trường 'kind'" \
        in message
    assert "file 'mine.yaml', list 'indicators', entry 2 (XHS.DIEM_WIFI), field 'kind'" \
        in message
    assert "percent" in message
    assert len(caught.value.problems) == 1
    assert count(session, Indicator) == before
    assert session.scalar(select(Indicator).where(Indicator.code == "XHS.THON_WIFI")) is None


@pytest.mark.parametrize(("entries", "field", "rule"), [
    ([_entry("XHS.A", scale=None)], "scale", "a ratio needs a 'scale'"),
    ([_entry("XHS.A", unit_aggregation="sum")], "unit_aggregation",
     "a 'ratio' indicator cannot aggregate by 'sum'"),
    ([_entry("XHS.A", unit_aggregation="median")], "unit_aggregation", "unknown value 'median'"),
    ([_entry("XHS.A", time_aggregation="first")], "time_aggregation", "unknown value 'first'"),
    ([_entry("XHS.A"), _entry("XHS.A")], "code", "duplicate indicator code (also entry 1)"),
    ([_entry("XHS.A", pillar="ZZZ")], "pillar", "pillar 'ZZZ' is neither in the file"),
    ([_entry("xhs a")], "code", "invalid indicator code 'xhs a'"),
    ([_entry("XHS.A", decimals=9)], "decimals", "decimals '9' must be an integer from 0 to 6"),
    ([_entry("XHS.A", direction="up")], "direction", "unknown value 'up'"),
    ([_entry("XHS.A", unit_agregation="sum")], "unit_agregation", "unknown field"),
])
def test_each_rule_is_named(session, tmp_path, entries, field, rule) -> None:
    pillars = [{"code": "XHS", "name_vi": "Xã hội số", "name_en": "Digital society"}]
    path = _write(tmp_path, {"version": "x", "pillars": pillars, "indicators": entries})
    with pytest.raises(InputRejected) as caught:
        load_catalog(session, path, access=Access.system(session, "test"))
    assert any(f"field '{field}'" in p.message() and rule in p.message()
               for p in caught.value.problems), str(caught.value)


def test_user_file_adds_and_updates_with_audit(session, tmp_path) -> None:
    load_catalog(session, access=Access.system(session, "test"))
    session.commit()
    old_name = get_indicator(session, "XHS.SMARTPHONE").name_vi
    renamed = "Tỷ lệ dân số có điện thoại di động thông minh"
    # NFD text, as typed on a Mac: stored as NFC.
    path = _write(tmp_path, {"version": "lang-son-1", "indicators": [
        _entry("XHS.THON_WIFI", name_vi=unicodedata.normalize("NFD", "Tỷ lệ thôn có Wi-Fi")),
        {**_entry("XHS.SMARTPHONE"), **_shipped("XHS.SMARTPHONE"), "name_vi": renamed}]})
    dry = load_catalog(session, path, dry_run=True, access=Access.system(session, "test"))
    assert (dry.inserted, dry.updated) == (["XHS.THON_WIFI"], ["XHS.SMARTPHONE"])
    assert session.scalar(select(Indicator).where(Indicator.code == "XHS.THON_WIFI")) is None
    summary = load_catalog(session, path, access=Access.system(session, "test"))
    session.commit()
    assert (summary.inserted, summary.updated) == (["XHS.THON_WIFI"], ["XHS.SMARTPHONE"])
    assert get_indicator(session, "XHS.THON_WIFI").name_vi == "Tỷ lệ thôn có Wi-Fi"
    changed = get_indicator(session, "XHS.SMARTPHONE")
    assert (changed.name_vi, changed.catalog_version) == (renamed, "lang-son-1")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "indicator.update"))
    assert event is not None and event.object_id == "XHS.SMARTPHONE"
    assert event.before == {"name_vi": old_name} and event.after == {"name_vi": renamed}
    assert not load_catalog(session, path, access=Access.system(session, "test")).changed


def _shipped(code: str) -> dict:
    document = yaml.safe_load(SHIPPED_CATALOG.read_text(encoding="utf-8"))
    return next(e for e in document["indicators"] if e["code"] == code)


def test_yaml_syntax_error_names_the_line(session, tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text('version: "1"\nindicators:\n  - code: [unclosed\n', encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        load_catalog(session, path, access=Access.system(session, "test"))
    assert "broken.yaml" in str(caught.value) and "YAML" in str(caught.value)


def test_lookups(session) -> None:
    load_catalog(session, access=Access.system(session, "test"))
    assert get_indicator(session, " CQS.HS_TRUC_TUYEN ").unit_aggregation == "ratio_of_sums"
    with pytest.raises(IndicatorNotFound) as caught:
        get_indicator(session, "CQS.KHONG_CO")
    assert str(caught.value) == ("Không có chỉ số 'CQS.KHONG_CO' trong danh mục / no indicator "
                                 "'CQS.KHONG_CO' in the catalogue")
    codes = [i.code for i in list_indicators(session, "cks")]
    assert codes and all(c.startswith("CKS.") for c in codes)

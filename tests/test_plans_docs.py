"""The documentation's examples load, and every kind and rule is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chiso.accounts.access import Access
from chiso.indicators.models import Direction, IndicatorKind, TimeAggregation, UnitAggregation
from chiso.indicators.problems import InputRejected
from chiso.indicators.service import INDICATOR_KEYS, get_indicator, load_catalog
from chiso.plans.files import PLAN_FIELDS, TARGET_FIELDS
from chiso.plans.service import get_plan, load_plan
from tests.plans_support import prepared

DOCS = Path(__file__).parent.parent / "docs"


def _yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), re.S)


def test_catalogue_doc_names_every_kind_rule_and_field() -> None:
    text = (DOCS / "catalog.md").read_text(encoding="utf-8")
    for enum in (IndicatorKind, Direction, UnitAggregation, TimeAggregation):
        for member in enum:
            assert f"`{member.value}`" in text, member
    for key in INDICATOR_KEYS:
        assert f"`{key}`" in text, key


def test_plan_doc_names_every_field() -> None:
    text = (DOCS / "plan-format.md").read_text(encoding="utf-8")
    for name, (vi, en) in {**PLAN_FIELDS, **TARGET_FIELDS}.items():
        assert vi in text and en in text, name
    for name in PLAN_FIELDS:
        assert f"`{name}`" in text, name


def test_documented_examples_load(session, tmp_path) -> None:
    prepared(session)
    catalogue = tmp_path / "mine.yaml"
    catalogue.write_text(_yaml_blocks("catalog.md")[0], encoding="utf-8")
    loaded = load_catalog(session, catalogue, access=Access.system(session, "test"))
    assert loaded.inserted == ["XHS.THON_WIFI"]
    assert get_indicator(session, "XHS.THON_WIFI").catalog_version == "lang-son-2025.1"
    plan = tmp_path / "plan.yaml"
    plan.write_text(_yaml_blocks("plan-format.md")[0], encoding="utf-8")
    summary = load_plan(session, plan, access=Access.system(session, "test"))
    assert len(summary.inserted) == 3
    band = [t for t in get_plan(session, "72-KH/BCĐ").targets if t.comparator == "between"]
    assert [(t.value, t.value_high, t.baseline_value, len(t.milestones or [])) for t in band] \
        == [(95.0, 100.0, 87.5, 2)]


def test_unquoted_decimal_comma_in_a_yaml_mapping_is_caught(session, tmp_path) -> None:
    prepared(session)
    text = _yaml_blocks("plan-format.md")[0].replace('"87,5"', "87,5")
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        load_plan(session, plan, access=Access.system(session, "test"))
    assert "mục 3 (CQS.HS_DUNG_HAN), trường 'baseline.5': trường không được hỗ trợ" in str(
        caught.value)

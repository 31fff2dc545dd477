"""The catalogue as data with its sources: every shipped indicator and national target cites
its document on the catalogue page and in docs/catalog.md; the frameworks file loads all or
nothing; the committee's name follows the date."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.cli.main import app
from chiso.indicators.frameworks import SHIPPED_FRAMEWORKS, load_frameworks
from chiso.indicators.problems import InputRejected
from chiso.indicators.service import SHIPPED_CATALOG
from chiso.units.committee import committee_names, load_shipped_committee_names
from tests.conftest import login
from tests.plans_support import prepared

DOCS = Path(__file__).parent.parent / "docs" / "catalog.md"
# A số hiệu as Vietnamese documents write it: 57-NQ/TW, 42/2022/NĐ-CP, 11/QĐ-BCĐCP, 72-KH/BCĐ
NUMBER = re.compile(r"\d+(?:/\d{4})?[-/][A-ZĐ]{1,4}(?:-[A-Za-zĐ]+|/[A-ZĐ]+)")


def _catalog() -> list[dict]:  # type: ignore[type-arg]
    return yaml.safe_load(SHIPPED_CATALOG.read_text(encoding="utf-8"))["indicators"]


def _frameworks() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(SHIPPED_FRAMEWORKS.read_text(encoding="utf-8"))


def test_every_shipped_indicator_cites_its_document_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for indicator in _catalog():
        basis = indicator.get("legal_basis", "")
        assert NUMBER.search(basis), (indicator["code"], basis)
        assert f"| `{indicator['code']}` | {indicator['name_vi']} | {basis} |" in docs, \
            indicator["code"]


def test_every_shipped_target_cites_document_date_article_and_source() -> None:
    shipped = _frameworks()
    documents = {d["code"]: d for d in shipped["documents"]}
    docs = DOCS.read_text(encoding="utf-8")
    for document in documents.values():
        assert NUMBER.search(document["code"]) and document["source"].startswith("https://")
        assert document.get("issued_on") or document.get("reported_on"), document["code"]
    count = 0
    for framework in shipped["frameworks"]:
        for target in framework["targets"]:
            document = documents[target.get("document", framework["document"])]
            assert target["article"] and target["source"].startswith("https://"), target
            line = f"| `{framework['code']}` | `{target['indicator']}` | {target['year']} |"
            assert line in docs and document["code"] in docs, line
            count += 1
    assert count == 13


def test_the_catalogue_page_shows_each_target_with_its_document(client, session, make_user
                                                                 ) -> None:
    units = prepared(session)
    load_frameworks(session, access=Access.system(session, "test"))
    session.commit()
    viewer, password = make_user(Role.VIEWER, unit_id=units.lang_son.id)
    login(client, viewer.username, password)
    page = client.get("/catalog")
    assert page.status_code == 200
    html = page.text
    assert "Mục tiêu quốc gia và văn bản căn cứ" in html
    section = html[html.index('id="fw-NQ57-2030"'):html.index('id="fw-QHHT-TTTT-2030"')]
    assert "57-NQ/TW" in section and "22/12/2024" in section and "Mục II.2" in section
    assert section.count('class="fw-target"') == 6
    plan_2026 = html[html.index('id="fw-BCDCP-2026"'):]
    assert "công bố ngày 28/02/2026" in plan_2026 and "14,5" in plan_2026
    # Every indicator row shows its legal basis with a document number.
    for basis in re.findall(r'<td class="basis">.*?<em>(.*?)</em>', html, re.S):
        assert NUMBER.search(basis), basis
    api = client.get("/api/frameworks").json()
    nq57 = next(f for f in api if f["code"] == "NQ57-2030")
    assert nq57["document"]["issued_on"] == "2024-12-22"
    assert {(t["indicator"], t["value"], t["article"]) for t in nq57["targets"]} >= {
        ("KTS.TY_TRONG_GRDP", 30.0, "Mục II.2"), ("KHCN.CHI_RD_GRDP", 2.0, "Mục II.2")}


def test_a_framework_file_without_its_sources_is_refused_whole(session, tmp_path) -> None:
    prepared(session)
    access = Access.system(session, "test")
    first = load_frameworks(session, access=access)
    assert len(first.targets) == 13 and len(first.documents) == 4
    assert not load_frameworks(session, access=access).changed  # loading again: nothing
    text = SHIPPED_FRAMEWORKS.read_text(encoding="utf-8").replace(
        "        article: Chỉ tiêu đến năm 2030\n", "", 1).replace(
        "value: 14.5", "value: mười bốn")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputRejected) as refused:
        load_frameworks(session, bad, access=access)
    message = str(refused.value)
    assert "QHHT-TTTT-2030" in message and "'article'" in message
    assert "'mười bốn'" in message and "BCDCP-2026" in message


def test_the_committee_is_named_as_it_was_on_the_day(session, monkeypatch) -> None:
    monkeypatch.setenv("CHISO_DEFAULT_UNIT", "20")
    from chiso.settings import reset_settings_cache
    reset_settings_cache()
    prepared(session)
    load_shipped_committee_names(session)
    session.commit()
    before = committee_names(session, on=dt.date(2024, 12, 31))
    after = committee_names(session, on=dt.date(2026, 3, 1))
    assert before.committee_vi == "Ban Chỉ đạo về chuyển đổi số tỉnh Lạng Sơn"
    assert before.agency_vi == "Sở Thông tin và Truyền thông"
    assert after.committee_vi == ("Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới "
                                  "sáng tạo và chuyển đổi số tỉnh Lạng Sơn")
    assert (after.agency_vi, after.agency_unit_code) == ("Sở Khoa học và Công nghệ",
                                                        "20.SKHCN")
    assert after.valid_from == dt.date(2025, 3, 1)
    shown = CliRunner().invoke(app, ["units", "committee", "--on", "28/02/2025"],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Sở Thông tin và Truyền thông" in shown.output
    reset_settings_cache()


def test_every_page_names_the_committee_in_force(session, client, monkeypatch) -> None:
    """The line under the brand is the committee's short name on the day (data), not the
    2020 committee's name written into the template."""
    monkeypatch.setenv("CHISO_DEFAULT_UNIT", "20")
    from chiso.settings import reset_settings_cache
    reset_settings_cache()
    prepared(session)
    load_shipped_committee_names(session)
    session.commit()
    brand = re.compile(r'class="brand"[^>]*>chỉ số<span>([^<]*)</span>')
    monkeypatch.setenv("CHISO_TODAY", "2026-03-01")
    reset_settings_cache()
    assert brand.search(client.get("/login").text).group(1) == (  # type: ignore[union-attr]
        "BCĐ phát triển KHCN, ĐMST và CĐS")
    monkeypatch.setenv("CHISO_TODAY", "2024-12-31")
    reset_settings_cache()
    assert brand.search(client.get("/login").text).group(1) == (  # type: ignore[union-attr]
        "BCĐ chuyển đổi số")
    reset_settings_cache()

"""Published DTI results shipped with chiso, on real SQLite and PostgreSQL: the 2022 table
reproduces the ministry's indices and ranks, DTI 2024 republished for the 34 provinces ranks
Hà Nội first at 0,8241 and Đà Nẵng 17th, and the merger rule (the mean of the predecessors)
reproduces Đà Nẵng's republished 0,7069 from its predecessors' 0,8335 and 0,5803. Ranks are
taken on the index as shown (four decimals, half up); an imported file never renames a unit."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chiso.accounts.access import Access
from chiso.dti import service
from chiso.dti.models import DtiResult
from chiso.units.models import OrgUnit, UnitKind, UnitLineage

UNITS = Path(__file__).parent.parent / "chiso" / "units" / "data"
MAINS = ["NTS", "TCS", "HTS", "NLS", "ATTT", "CQS", "KTS", "XHS"]


def _system(session):  # type: ignore[no-untyped-def]
    return Access.system(session, "test")


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(UNITS / name, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _provinces(session) -> None:  # type: ignore[no-untyped-def]
    """The 63 provinces before 1/7/2025, the 34 after, and their lineage (no communes)."""
    for code, vi, en in (("tinh", "Tỉnh", "Province"), ("thanh_pho_tw", "Thành phố", "City")):
        session.add(UnitKind(code=code, name_vi=vi, name_en=en, level=1))
    session.flush()
    ids = {}
    for row in _rows("units-legacy.csv.gz") + _rows("units-2025.csv.gz"):
        if row["kind"] not in ("tinh", "thanh_pho_tw") or (row["code"], row["valid_from"]) in ids:
            continue
        unit = OrgUnit(code=row["code"], name=row["name"], short_name=row["short_name"],
                       kind=row["kind"], valid_from=dt.date.fromisoformat(row["valid_from"]),
                       valid_to=dt.date.fromisoformat(row["valid_to"]) if row["valid_to"]
                       else None)
        session.add(unit)
        session.flush()
        ids[(row["code"], row["valid_from"])] = unit.id
    for link in _rows("lineage-2025.csv.gz"):
        if len(link["predecessor_code"]) == 2:
            session.add(UnitLineage(
                predecessor_id=ids[(link["predecessor_code"], link["predecessor_valid_from"])],
                successor_id=ids[(link["successor_code"], link["successor_valid_from"])],
                event_date=dt.date.fromisoformat(link["event_date"]), kind=link["kind"]))
    session.flush()


@pytest.fixture
def published(session):  # type: ignore[no-untyped-def]
    _provinces(session)
    service.load_shipped_frameworks(session)
    assert service.load_published_results(session) == 5
    session.commit()
    return session


def test_dti_2022_as_published_top_five_indices_and_all_63_ranks(published) -> None:
    result = service.ranking(published, year=2022)
    rows = {r["unit_code"]: r for r in result.rows()}
    assert result.field_size() == 63
    # The engine reproduces the five published indices to the fourth decimal.
    assert [(rows[c]["total"], rows[c]["rank"]) for c in ("48", "79", "22", "46", "92")] == [
        (0.8002, 1), (0.7163, 2), (0.7024, 3), (0.6975, 4), (0.6924, 5)]
    assert all(c.total_ok and c.rank_ok for c in service.check_against_published(result))
    # Lạng Sơn: 6th as published, no value transcribed, nothing invented.
    assert rows["20"]["published_rank"] == 6 and rows["20"]["total"] is None
    assert rows["20"]["unit_name"] == "Lạng Sơn" and not rows["20"]["illustrative"]
    assert rows["20"]["previous_rank"] == 5 and rows["20"]["rank_change"] == -1  # 2021: 5th
    assert rows["84"]["published_total"] == 0.6077  # Trà Vinh, from its own portal
    assert any("dti.gov.vn/xep-hang-2022" in s for s in result.sources)


def test_dti_2024_republished_for_the_34_and_the_mean_rule(published) -> None:
    merged = service.ranking(published, year=2024, merged=True)
    assert merged.framework.code == "DTI_TINH_405" and merged.total_source == "published"
    rows = {r["unit_code"]: r for r in merged.rows()}
    assert (rows["01"]["total"], rows["01"]["rank"]) == (0.8241, 1)
    assert (rows["48"]["total"], rows["48"]["rank"]) == (0.7069, 17)  # not 5th of 5 shown
    assert rows["38"]["rank"] == 5 and rows["38"]["total"] is None  # Thanh Hóa, rank only
    assert merged.field_size() == 34
    before = service.ranking(published, year=2024)
    assert before.field_size() == 63
    assert {r["unit_code"]: r["rank"] for r in before.rows()}["49"] == 57
    breakdown = service.merger_breakdown(published, merged.framework, 2024, "48")
    assert breakdown is not None
    assert [p["name"] for p in breakdown.predecessors] == ["Đà Nẵng", "Quảng Nam"]
    assert breakdown.mean_total == pytest.approx((0.8335 + 0.5803) / 2)
    assert (breakdown.published_total, breakdown.published_rank) == (0.7069, 17)
    assert breakdown.agrees is True
    assert service.merger_breakdown(published, merged.framework, 2024, "20") is None
    # An old district absorbed by Lạng Sơn is no province merger: no breakdown on its profile.
    published.add(UnitKind(code="huyen", name_vi="Huyện", name_en="District", level=2))
    published.flush()
    district = OrgUnit(code="178", name="Huyện Tràng Định", kind="huyen",
                       valid_to=dt.date(2025, 6, 30))
    published.add(district)
    published.flush()
    lang_son = published.scalar(select(OrgUnit.id).where(OrgUnit.code == "20"))
    published.add(UnitLineage(predecessor_id=district.id, successor_id=lang_son,
                              event_date=dt.date(2025, 7, 1), kind="absorb"))
    published.flush()
    twenty_three = service.get_framework(published, "DTI_TINH_922")
    assert service.merger_breakdown(published, twenty_three, 2023, "20") is None


def test_reloading_the_shipped_tables_changes_nothing_and_never_overwrites(published,
                                                                           tmp_path) -> None:
    session = published
    count = session.scalar(select(func.count()).select_from(DtiResult))
    assert service.load_published_results(session) == 5
    assert session.scalar(select(func.count()).select_from(DtiResult)) == count
    # Someone loads the complete official 2023 table: the shipped ranks never come back.
    path = tmp_path / "dti_2023_day_du.csv"
    path.write_text("Mã tỉnh,Tỉnh,NTS,TCS,HTS,NLS,ATTT,CQS,KTS,XHS,Xếp hạng\n"
                    "20,Lạng Sơn,0.8,0.8,0.8,0.8,0.8,0.8,0.8,0.8,3\n", encoding="utf-8")
    service.import_results(session, path, framework_code="DTI_TINH_922", year=2023,
                           source="Bảng đầy đủ", access=_system(session))
    assert service.load_published_results(session) == 4
    ranks = {r["unit_code"]: r["published_rank"]
             for r in service.ranking(session, year=2023).rows()}
    assert ranks["20"] == 3


def test_an_imported_file_never_renames_a_unit(published, tmp_path) -> None:
    session = published
    path = tmp_path / "dti_2023.csv"
    path.write_text("Mã tỉnh,Tỉnh," + ",".join(MAINS) + "\n"
                    "20,Hà Nội," + ",".join(["0.7"] * 8) + "\n"
                    "01,TP. Hà Nội," + ",".join(["0.8"] * 8) + "\n", encoding="utf-8")
    summary = service.import_results(session, path, framework_code="DTI_TINH_922", year=2023,
                                     access=_system(session))
    assert len(summary.name_warnings) == 1  # 'TP. Hà Nội' is Hà Nội; code 20 is not
    assert "'20'" in summary.name_warnings[0] and "Lạng Sơn" in summary.name_warnings[0]
    result = service.ranking(session, year=2023)
    names = dict(zip(result.unit_codes, result.unit_names, strict=True))
    assert names["20"] == "Lạng Sơn" and names["01"] == "Hà Nội"
    assert service.profile(result, "20").unit_name == "Lạng Sơn"
    # The file's own name is kept for the record.
    assert session.scalar(select(DtiResult.unit_name).where(
        DtiResult.unit_code == "20", DtiResult.year == 2023, DtiResult.node_code == "NTS",
        DtiResult.is_current)) == "Hà Nội"


def test_ranks_follow_the_index_as_shown_four_decimals_half_up(published, tmp_path) -> None:
    """0,69495 is shown 0,6950 and ties with 0,6950; 0,69494 is shown 0,6949 and comes
    after (numpy's round gave 0,6950 to both and Python's format showed 0,6949)."""
    session = published
    path = tmp_path / "dti_2021.csv"
    values = {"30": 0.69495, "40": 0.695, "42": 0.69494}
    path.write_text("Mã tỉnh," + ",".join(MAINS) + "\n" + "".join(
        f"{code}," + ",".join([f"{v:.5f}"] * 8) + "\n" for code, v in values.items()),
        encoding="utf-8")
    service.import_results(session, path, framework_code="DTI_TINH_922", year=2021,
                           access=_system(session))
    rows = {r["unit_code"]: r for r in service.ranking(session, year=2021).rows()}
    shown = {c: rows[c]["total"] for c in values}
    ranks = {c: rows[c]["rank"] for c in values}
    assert shown == {"30": 0.695, "40": 0.695, "42": 0.6949}
    assert ranks == {"30": 1, "40": 1, "42": 3}


def test_invented_figures_are_flagged_and_real_ones_are_not(published, tmp_path) -> None:
    session = published
    path = tmp_path / "minh_hoa.csv"
    path.write_text("Mã tỉnh," + ",".join(MAINS) + "\n20," + ",".join(["0.7"] * 8) + "\n",
                    encoding="utf-8")
    service.import_results(session, path, framework_code="DTI_TINH_922", year=2022,
                           source="demo: minh họa", access=_system(session))
    result = service.ranking(session, year=2022)
    rows = {r["unit_code"]: r for r in result.rows()}
    assert rows["20"]["illustrative"] and not rows["48"]["illustrative"]
    assert rows["20"]["published_rank"] == 6  # the real rank stays real
    assert result.any_illustrative and not any(s.startswith("demo") for s in result.sources)


def test_the_what_if_tab_of_a_year_without_official_points_opens_one_that_has_them(
        published, admin_client) -> None:  # type: ignore[no-untyped-def]
    """DTI 2024 is published on the 405 structure, whose points are not known: its ranking's
    What-if tab led to an error page; it now opens the latest year that can be simulated."""
    page = admin_client.get("/dti", params={"year": 2024, "lang": "vi"}).text
    tab = next(line for line in page.splitlines() if "/dti/what-if" in line)
    assert 'href="/dti/what-if"' in tab, tab
    assert admin_client.get("/dti/what-if").status_code == 200
    assert 'href="/dti/what-if?year=2022"' in admin_client.get(
        "/dti", params={"year": 2022}).text

"""The official units before and after 1/7/2025, loaded once per backend for this module:
counts, lineage of merged and split communes, province merges, code reuse, search."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from units_support import count_rows, loaded_database

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.db import new_session
from chiso.units import service
from chiso.units.models import FAR_PAST, OrgUnit, UnitLineage

BEFORE = dt.date(2025, 6, 30)
AFTER = dt.date(2025, 7, 1)
PROVINCE_KINDS = ("tinh", "thanh_pho_tw")


@pytest.fixture(scope="module")
def loaded_url(database_url: str) -> Iterator[str]:
    with loaded_database(database_url) as url:
        yield url


@pytest.fixture
def db(loaded_url: str) -> Iterator[Session]:
    session = new_session(loaded_url)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def count_valid(db: Session, kinds: tuple[str, ...], on: dt.date) -> int:
    return db.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.kind.in_(kinds), service.valid_on(on))) or 0


def test_official_counts_after_the_reform(db: Session) -> None:
    assert count_valid(db, PROVINCE_KINDS, AFTER) == 34
    assert count_valid(db, ("xa", "phuong", "dac_khu"), AFTER) == 3321
    assert count_valid(db, ("dac_khu",), AFTER) == 13
    assert count_valid(db, ("huyen", "quan", "thi_xa", "thanh_pho_thuoc_tinh"), AFTER) == 0


def test_official_counts_before_the_reform(db: Session) -> None:
    assert count_valid(db, PROVINCE_KINDS, BEFORE) == 63
    assert count_valid(db, ("xa", "phuong", "thi_tran"), BEFORE) == 10035
    assert count_valid(db, ("huyen", "quan", "thi_xa", "thanh_pho_thuoc_tinh"), BEFORE) == 696
    assert count_valid(db, ("dac_khu",), BEFORE) == 0


def test_lang_son_continues_as_one_unit(db: Session) -> None:
    before, after = service.get_unit(db, "20", BEFORE), service.get_unit(db, "20", AFTER)
    assert before.id == after.id
    assert (after.name, after.valid_from, after.valid_to) == ("Tỉnh Lạng Sơn", FAR_PAST, None)
    communes = [u for u in service.children(db, after.id, AFTER)
                if u.kind in ("xa", "phuong")]
    assert len(communes) == 65
    assert sum(u.kind == "phuong" for u in communes) == 4
    old = service.children(db, after.id, BEFORE, kind="huyen")
    assert len(old) == 10  # and Thành phố Lạng Sơn
    assert len(service.children(db, after.id, BEFORE, kind="thanh_pho_thuoc_tinh")) == 1
    # 11 districts and the 194 communes of the source data under them, on 30/6/2025
    old_tree = service.descendant_ids(db, after.id, BEFORE)
    departments = len(service.children(db, after.id, BEFORE, kind="so_ban_nganh"))
    assert len(old_tree) == 11 + 194 + departments


def test_old_lang_son_commune_rolls_into_its_successor(db: Session) -> None:
    old = service.get_unit(db, "06187", BEFORE)
    assert old.name == "Thị trấn Cao Lộc" and old.valid_to == BEFORE
    successor = service.current_successor(db, old.id)
    assert successor is not None
    assert (successor.code, successor.name) == ("06187", "Phường Kỳ Lừa")
    assert successor.id != old.id  # the code was re-used by a new unit
    merged_from = {link.unit.name for link in service.predecessors(db, successor.id)}
    assert merged_from == {"Phường Hoàng Văn Thụ", "Thị trấn Cao Lộc", "Xã Hợp Thành",
                           "Xã Gia Cát", "Xã Tân Liên"}


def test_split_commune_has_exactly_one_primary_successor(db: Session) -> None:
    old = service.get_unit(db, "06079", BEFORE)  # Xã Hồng Phong, huyện Bình Gia
    links = service.successors(db, old.id)
    assert {link.kind for link in links} == {"split"}
    assert {link.unit.name for link in links} == {"Xã Hồng Phong", "Xã Đồng Đăng"}
    primaries = [link for link in links if link.is_primary]
    assert len(primaries) == 1 and primaries[0].unit.name == "Xã Hồng Phong"
    assert sum(link.share for link in links) == pytest.approx(1.0, abs=1e-3)
    assert service.current_successor(db, old.id).id == primaries[0].unit.id  # type: ignore[union-attr]
    # Across the whole country, every split has exactly one primary successor.
    per_split = select(UnitLineage.predecessor_id, func.sum(
        func.cast(UnitLineage.is_primary, OrgUnit.id.type))).where(
        UnitLineage.kind == "split").group_by(UnitLineage.predecessor_id)
    counts = {n for _, n in db.execute(per_split)}
    assert counts == {1}


def test_bac_kan_merges_into_thai_nguyen(db: Session) -> None:
    bac_kan = service.get_unit(db, "06", BEFORE)
    assert (bac_kan.name, bac_kan.valid_to) == ("Tỉnh Bắc Kạn", BEFORE)
    with pytest.raises(service.UnitNotFound) as excinfo:
        service.get_unit(db, "06", AFTER)
    assert "Không tìm thấy đơn vị mã '06'" in str(excinfo.value)
    assert "no unit with code '06'" in str(excinfo.value)
    thai_nguyen = service.current_successor(db, bac_kan.id)
    assert thai_nguyen is not None
    assert (thai_nguyen.code, thai_nguyen.name, thai_nguyen.valid_from) == (
        "19", "Tỉnh Thái Nguyên", FAR_PAST)
    links = service.successors(db, bac_kan.id)
    assert [(lk.kind, lk.event_date) for lk in links] == [("merge", AFTER)]
    assert "202/2025/QH15" in links[0].legal_basis
    # A district of Bắc Kạn: its area passed to Thái Nguyên.
    district = service.get_unit(db, "058", BEFORE)
    assert district.parent_id == bac_kan.id
    assert service.current_successor(db, district.id).id == thai_nguyen.id  # type: ignore[union-attr]
    # Communes of old Bắc Kạn now hang directly under Thái Nguyên.
    old_communes = service.descendant_ids(db, bac_kan.id, BEFORE)
    successors = {service.current_successor(db, i).parent_id  # type: ignore[union-attr]
                  for i in old_communes
                  if service.get_unit_by_id(db, i).kind in ("xa", "phuong", "thi_tran")}
    assert successors == {thai_nguyen.id}


def test_reused_province_code_names_two_units(db: Session) -> None:
    assert service.get_unit(db, "15", BEFORE).name == "Tỉnh Yên Bái"
    lao_cai = service.get_unit(db, "15", AFTER)
    assert (lao_cai.name, lao_cai.valid_from) == ("Tỉnh Lào Cai", AFTER)
    merged = {lk.unit.name for lk in service.predecessors(db, lao_cai.id) if lk.kind == "merge"}
    assert merged == {"Tỉnh Lào Cai", "Tỉnh Yên Bái"}


def test_reloading_changes_nothing(db: Session) -> None:
    units, links = count_rows(db, OrgUnit), count_rows(db, UnitLineage)
    events = count_rows(db, AuditEvent)
    summary = service.load_official_units(db, access=Access.system(db, "test"))
    db.flush()
    assert (summary.units_inserted, summary.units_updated, summary.lineage_inserted) == (0, 0, 0)
    assert summary.units_unchanged == 3355 + 10767
    assert summary.lineage_unchanged == 11329  # the departments file adds its own links
    assert (count_rows(db, OrgUnit), count_rows(db, UnitLineage)) == (units, links)
    assert count_rows(db, AuditEvent) == events


def test_search_ignores_normalisation_tone_placement_and_accents(db: Session) -> None:
    def names(text: str, **kw: object) -> list[str]:
        return [u.name for u in service.find_units(db, text, AFTER, **kw)]  # type: ignore[arg-type]

    assert names("Thanh Hoá", kind="tinh") == ["Tỉnh Thanh Hóa"]
    assert names("thanh hóa", kind="tinh") == ["Tỉnh Thanh Hóa"]
    assert names(unicodedata.normalize("NFD", "Lạng Sơn"), kind="tinh") == ["Tỉnh Lạng Sơn"]
    assert "Xã Đồng Đăng" in names("dong dang")
    assert names("DONG DANG", kind="xa") == ["Xã Đồng Đăng"]
    assert names("Đồng Đăng", kind="thi_tran") == []  # the thị trấn ended on 30/6/2025
    assert [u.name for u in service.find_units(db, "đồng đăng", BEFORE, kind="thi_tran")] == [
        "Thị trấn Đồng Đăng"]
    assert names("50%_") == []  # LIKE wildcards are taken literally


def test_unit_kinds_are_data(db: Session) -> None:
    from chiso.units.models import UnitKind

    kinds = {k.code: k for k in db.scalars(select(UnitKind))}
    assert kinds["so_ban_nganh"].name_vi == "sở, ban, ngành"
    assert kinds["dac_khu"].level == kinds["xa"].level == 3
    assert service.load_unit_kinds(db, access=Access.system(db, "test")) == 0


def test_successor_map_agrees_with_current_successor(db: Session) -> None:
    mapping = service.current_successor_ids(db, AFTER)
    old_communes = db.scalars(select(OrgUnit.id).where(
        OrgUnit.kind.in_(("xa", "phuong", "thi_tran")), service.valid_on(BEFORE))).all()
    assert len(old_communes) == 10035
    assert all(i in mapping for i in old_communes)  # every old commune lands somewhere
    targets = {mapping[i] for i in old_communes}
    # Every new commune receives some old commune's figures except the five đặc khu formed
    # from districts without communes and Phường Yên Sở (Hà Nội), which the source makes only
    # a secondary successor of each split it came from.
    assert len(targets) == 3321 - 5 - 1
    assert service.get_unit(db, "00340", AFTER).id not in targets
    for code in ("06187", "06079", "06184"):
        old = service.get_unit(db, code, BEFORE)
        assert mapping[old.id] == service.current_successor(db, old.id, AFTER).id  # type: ignore[union-attr]
    bac_kan = service.get_unit(db, "06", BEFORE)
    assert mapping[bac_kan.id] == service.get_unit(db, "19", AFTER).id

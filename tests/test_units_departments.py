"""The editable departments file: the 1/3/2025 reorganisation of Lạng Sơn's departments,
idempotent loads, edits with audit, and all-or-nothing rejection of a bad file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from units_support import count_rows

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.units import service
from chiso.units.departments import DepartmentFileError
from chiso.units.models import OrgUnit, UnitLineage
from chiso.units.official import DATA_DIR

SHIPPED = DATA_DIR / "departments-20.yaml"
BEFORE = dt.date(2025, 2, 28)
AFTER = dt.date(2025, 3, 1)


@pytest.fixture
def lang_son(session: Session) -> OrgUnit:
    service.load_official_units(session, provinces=["20"], access=Access.system(session, "test"))
    session.commit()
    return service.get_unit(session, "20")


def test_shipped_file_records_the_2025_reorganisation(session: Session,
                                                       lang_son: OrgUnit) -> None:
    summary = service.load_departments(session, SHIPPED, access=Access.system(session, "test"))
    session.commit()
    assert len(summary.inserted) == 23 and not summary.updated
    assert summary.lineage_inserted == 10

    def names(on: dt.date) -> set[str]:
        return {u.name for u in service.children(session, lang_son.id, on, kind="so_ban_nganh")}

    assert "Sở Thông tin và Truyền thông" in names(BEFORE)
    assert "Sở Thông tin và Truyền thông" not in names(AFTER)
    assert {"Sở Nông nghiệp và Môi trường", "Sở Dân tộc và Tôn giáo"} <= names(AFTER)
    assert len(names(BEFORE)) == 21 and len(names(AFTER)) == 16

    ict = service.get_unit(session, "20.STTTT", BEFORE)
    assert service.current_successor(session, ict.id).code == "20.SKHCN"  # type: ignore[union-attr]
    science = service.get_unit(session, "20.SKHCN")
    assert science.valid_from == dt.date(1900, 1, 1)  # continues, absorbing the Sở TT&TT
    assert [lk.unit.code for lk in service.predecessors(session, science.id)] == ["20.STTTT"]
    agri_env = service.get_unit(session, "20.SNNMT")
    assert {lk.unit.code for lk in service.predecessors(session, agri_env.id)} == {
        "20.STNMT", "20.SNNPTNT"}
    labour = service.get_unit(session, "20.SLDTBXH", BEFORE)
    primaries = [lk.unit.code for lk in service.successors(session, labour.id) if lk.is_primary]
    assert primaries == ["20.SNV"]


def test_department_rename_lineage(session: Session, lang_son: OrgUnit) -> None:
    service.load_departments(session, SHIPPED, access=Access.system(session, "test"))
    old = service.get_unit(session, "20.BDT", BEFORE)
    with pytest.raises(service.UnitNotFound):
        service.get_unit(session, "20.BDT", AFTER)
    links = service.successors(session, old.id)
    assert [(lk.kind, lk.unit.name, lk.event_date) for lk in links] == [
        ("rename", "Sở Dân tộc và Tôn giáo", AFTER)]
    assert "45/2025/NĐ-CP" in links[0].legal_basis


def test_loading_twice_changes_nothing(session: Session, lang_son: OrgUnit) -> None:
    service.load_departments(session, SHIPPED, access=Access.system(session, "test"))
    session.commit()
    units, links, events = (count_rows(session, OrgUnit), count_rows(session, UnitLineage),
                            count_rows(session, AuditEvent))
    again = service.load_departments(session, SHIPPED, access=Access.system(session, "test"))
    session.commit()
    assert (again.inserted, again.updated, again.lineage_inserted) == ([], [], 0)
    assert len(again.unchanged) == 23
    assert (count_rows(session, OrgUnit), count_rows(session, UnitLineage),
            count_rows(session, AuditEvent)) == (units, links, events)


def test_edited_name_is_updated_with_an_audit_event(session: Session, lang_son: OrgUnit,
                                                    tmp_path: Path) -> None:
    service.load_departments(session, SHIPPED, access=Access.system(session, "test"))
    edited = tmp_path / "departments-20.yaml"
    edited.write_text(SHIPPED.read_text("utf-8").replace(
        "name: Sở Y tế", "name: Sở Y tế tỉnh Lạng Sơn"), "utf-8")
    summary = service.load_departments(session, edited, access=Access.system(session, "test"))
    session.commit()
    assert summary.updated == ["20.SYT"]
    assert service.get_unit(session, "20.SYT").name == "Sở Y tế tỉnh Lạng Sơn"
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "org_unit", AuditEvent.action == "update")).one()
    assert event.before["name"] == "Sở Y tế" and event.after["name"] == "Sở Y tế tỉnh Lạng Sơn"


def test_dry_run_stores_nothing(session: Session, lang_son: OrgUnit) -> None:
    before = count_rows(session, OrgUnit)
    summary = service.load_departments(session, SHIPPED, dry_run=True,
                                       access=Access.system(session, "test"))
    assert summary.dry_run and len(summary.inserted) == 23
    assert count_rows(session, OrgUnit) == before


BAD_FILE = """\
province: "20"
units:
  - code: 20.SYT
    name: Sở Y tế
  - code: 20.SXX
    name: ""
  - code: 20.SYY
    name: Sở Thử nghiệm
    kind: bo
  - code: 20.SZZ
    name: Sở Z
    valid_from: 2025-03-01
    valid_to: 01/01/2024
lineage:
  - {from: 20.SYT, to: 20.SZZ, kind: split, date: 2025-03-01, primary: false}
  - {from: 20.NONE, to: 20.SYT, kind: absorb, date: 2025-03-01}
"""


def test_bad_file_is_rejected_whole_with_bilingual_messages(session: Session,
                                                            lang_son: OrgUnit,
                                                            tmp_path: Path) -> None:
    bad = tmp_path / "so-nganh.yaml"
    bad.write_text(BAD_FILE, "utf-8")
    before = count_rows(session, OrgUnit)
    with pytest.raises(DepartmentFileError) as excinfo:
        service.load_departments(session, bad, access=Access.system(session, "test"))
    problems = excinfo.value.problems
    text = "\n".join(problems)
    assert all(p.startswith("so-nganh.yaml, ") and " / so-nganh.yaml, " in p for p in problems)
    assert "mục 2 (20.SXX): thiếu tên (name)" in text and "name is missing" in text
    assert "mục 3 (20.SYY): loại đơn vị 'bo' không có trong danh mục" in text
    assert "ngày kết thúc trước ngày bắt đầu" in text and "valid_to is before valid_from" in text
    assert "no unit with code '20.NONE'" in text
    assert "a split needs exactly one primary successor, found 0" in text
    session.rollback()
    assert count_rows(session, OrgUnit) == before
    assert service.find_units(session, "Sở Y tế") == []


def test_unreadable_yaml_names_the_file(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "hong.yaml"
    bad.write_text("units: [\n  - code: 1", "utf-8")
    with pytest.raises(DepartmentFileError) as excinfo:
        service.load_departments(session, bad, access=Access.system(session, "test"))
    assert "hong.yaml: YAML không hợp lệ" in str(excinfo.value)
    assert "hong.yaml: invalid YAML" in str(excinfo.value)


def test_departments_need_their_province(session: Session) -> None:
    with pytest.raises(DepartmentFileError) as excinfo:
        service.load_departments(session, SHIPPED, access=Access.system(session, "test"))
    assert "chưa có trong danh mục đơn vị" in str(excinfo.value)
    assert "run 'chiso units load' first" in str(excinfo.value)

"""The self-assessment workspace on both backends: assignment, self and appraised scores,
evidence files, lock on submission, history, permissions, and the spreadsheet round trip."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from chiso.accounts.access import Access, PermissionDenied
from chiso.accounts.models import Role, User
from chiso.audit.models import AuditEvent
from chiso.dti import assessment as ws
from chiso.dti import service
from chiso.dti.models import DtiCriterionVersion
from chiso.settings import get_settings
from chiso.storage.service import local_store


def _system(session):  # type: ignore[no-untyped-def]
    """The authority an internal job writes with (issue 12: access is mandatory)."""
    return Access.system(session, "test")


@pytest.fixture
def opened(session):  # type: ignore[no-untyped-def]
    service.load_shipped_frameworks(session)
    framework = service.get_framework(session, "VIDU_SO_NGANH")
    found = ws.open_assessment(session, framework, 2025, "20", access=_system(session))
    session.commit()
    return found


def _fill(session, assessment) -> None:  # type: ignore[no-untyped-def]
    first, second = assessment.criteria[0], assessment.criteria[4]
    ws.update_criterion(session, first, lead_unit_code="S01", owner="Nguyễn Thị Hoa",
                        deadline=dt.date(2025, 9, 30), self_score=4.5, status="done",
                        notes="Đã ban hành KH số 12/KH-UBND", appraised_score=4.0,
                        evidence_refs="Văn bản 12/KH-UBND ngày 05/02/2025", access=_system(session))
    ws.add_evidence(session, first, "ke-hoach-cds-2025.pdf", b"%PDF-1.7 ke hoach",
                    access=_system(session))
    ws.update_criterion(session, second, owner="Trần Văn Bình", self_score=18.25,
                        status="needs_evidence", deadline=dt.date(2025, 10, 15),
                        access=_system(session))
    session.commit()


def _cells(path: Path) -> list[list[object]]:
    book = load_workbook(path)
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


def test_open_creates_one_criterion_per_scored_leaf(opened) -> None:
    codes = [c.code for c in opened.criteria]
    assert codes == ["S1.1", "S1.2", "S2.1", "S2.2", "S3.1", "S3.2", "S3.3"]
    assert sum(c.max_points for c in opened.criteria) == 100
    assert opened.criteria[0].group_name == "Nhận thức và thể chế số"
    assert all(c.status == "not_started" for c in opened.criteria)


def test_spreadsheet_round_trip_loses_nothing(session, opened, tmp_path) -> None:
    _fill(session, opened)
    first = ws.export_xlsx(opened, tmp_path / "tu-danh-gia.xlsx")
    cells = _cells(first)
    assert cells[0][:11] == ["Mã", "Tiêu chí", "Nhóm", "Điểm tối đa", "Điểm tự đánh giá",
                             "Điểm thẩm định", "Chênh lệch", "Trạng thái", "Người phụ trách",
                             "Hạn hoàn thành", "Minh chứng"]
    row = cells[1]
    assert row[0] == "S1.1" and row[4] == 4.5 and row[5] == 4.0 and row[6] == -0.5
    assert row[7] == "Hoàn thành" and row[8] == "Nguyễn Thị Hoa"
    assert row[9] == dt.datetime(2025, 9, 30)
    assert row[10] == "ke-hoach-cds-2025.pdf; Văn bản 12/KH-UBND ngày 05/02/2025"
    # Into the same round: nothing changes.
    again = ws.import_spreadsheet(session, opened, first, access=_system(session))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)
    # Into a fresh round: everything arrives, and its export is cell-for-cell the same
    # (the attached file's name is kept as a reference there; the file itself stays put).
    other = ws.open_assessment(session, service.get_framework(session, "VIDU_SO_NGANH"), 2026,
                               "20", seed=False, access=_system(session))
    created = ws.import_spreadsheet(session, other, first, access=_system(session))
    assert created.created == 7
    session.commit()
    second = ws.export_xlsx(other, tmp_path / "lan-2.xlsx")
    assert _cells(second) == cells
    moved = other.criteria[0]
    assert (moved.owner, moved.deadline, moved.self_score, moved.appraised_score, moved.status,
            moved.notes, moved.lead_unit_code) == ("Nguyễn Thị Hoa", dt.date(2025, 9, 30), 4.5,
                                                   4.0, "done", "Đã ban hành KH số 12/KH-UBND",
                                                   "S01")


def test_import_edits_and_rejects_bad_rows_all_or_nothing(session, opened, tmp_path) -> None:
    path = ws.export_xlsx(opened, tmp_path / "a.xlsx")
    book = load_workbook(path)
    sheet = book.active
    sheet["E2"] = "4,5"  # Vietnamese decimal comma
    sheet["H2"] = "Đang thực hiện"
    sheet["J2"] = "23/5/2025"
    sheet["E3"] = 7  # above the 5 points maximum
    sheet["H4"] = "Xong rồi"
    book.save(path)
    with pytest.raises(service.ImportRejected) as excinfo:
        ws.import_spreadsheet(session, opened, path, access=_system(session))
    errors = excinfo.value.errors
    assert len(errors) == 2
    assert "a.xlsx, sheet 'Tu danh gia', dòng 3, cột 'Điểm tự đánh giá'" in errors[0]
    assert "row 3" in errors[0] and "Trạng thái" in errors[1]
    session.rollback()
    assert opened.criteria[0].self_score is None
    sheet["E3"] = 5
    sheet["H4"] = "Hoàn thành"
    book.save(path)
    dry = ws.import_spreadsheet(session, opened, path, dry_run=True, access=_system(session))
    assert dry.updated == 3 and opened.criteria[0].self_score is None
    done = ws.import_spreadsheet(session, opened, path, access=_system(session))
    assert done.updated == 3
    first = opened.criteria[0]
    assert (first.self_score, first.status, first.deadline) == (4.5, "in_progress",
                                                                dt.date(2025, 5, 23))


def test_evidence_is_stored_by_hash_under_the_data_dir(session, opened) -> None:
    criterion = opened.criteria[1]
    content = "Biên bản họp BCĐ".encode() * 100
    evidence = ws.add_evidence(session, criterion, "../../bien-ban.docx", content,
                               access=_system(session))
    session.commit()
    assert evidence.file_name == "bien-ban.docx"
    assert evidence.size == len(content)
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    stored = local_store().path(evidence.sha256)
    assert stored.is_relative_to(get_settings().data_dir) and stored.read_bytes() == content
    ws.remove_evidence(session, evidence, access=_system(session))
    assert evidence.is_deleted and stored.exists()  # detached, kept for the history
    assert ws.history(session, criterion.id)[-1].snapshot["evidence"] == []
    assert ws.history(session, criterion.id)[-2].snapshot["evidence"] == [evidence.sha256]


def test_submission_locks_self_scores_but_not_the_council(session, opened) -> None:
    criterion = opened.criteria[0]
    ws.update_criterion(session, criterion, self_score=5, access=_system(session))
    ws.submit(session, opened, access=_system(session))
    with pytest.raises(ws.AssessmentLocked):
        ws.update_criterion(session, criterion, self_score=4, access=_system(session))
    with pytest.raises(ws.AssessmentLocked):
        ws.add_evidence(session, criterion, "x.pdf", b"x", access=_system(session))
    ws.update_criterion(session, criterion, appraised_score=3.5, access=_system(session))
    assert ws.totals(opened)["difference"] == -1.5


def test_history_keeps_every_version_and_stale_edits_are_refused(session, opened) -> None:
    criterion = opened.criteria[2]
    ws.update_criterion(session, criterion, self_score=5, status="in_progress",
                        access=_system(session))
    ws.update_criterion(session, criterion, self_score=8, status="done", access=_system(session))
    assert not ws.update_criterion(session, criterion, self_score=8,
                                   access=_system(session))  # nothing changed
    versions = ws.history(session, criterion.id)
    assert [v.snapshot["self_score"] for v in versions] == [None, 5, 8]
    with pytest.raises(ws.StaleCriterion):
        ws.update_criterion(session, criterion, expected_version=2, self_score=9,
                            access=_system(session))
    with pytest.raises(ws.AssessmentError, match="0–10"):
        ws.update_criterion(session, criterion, self_score=11, access=_system(session))
    assert session.scalar(select(func.count()).select_from(DtiCriterionVersion)) == 9
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "dti.criterion.update")) == 2


def test_lead_unit_captures_self_scores_only(session, opened, make_user) -> None:
    from chiso.units.models import OrgUnit, UnitKind

    session.add(UnitKind(code="so", name_vi="Sở", name_en="Department", level=2))
    session.flush()
    province = OrgUnit(code="20", name="Lạng Sơn", kind="so")
    department = OrgUnit(code="S01", name="Sở KH&CN", kind="so")
    other = OrgUnit(code="S02", name="Sở Tài chính", kind="so")
    session.add_all([province, department, other])
    session.commit()
    criterion = opened.criteria[0]
    ws.update_criterion(session, criterion, lead_unit_code="S01", access=_system(session))
    session.commit()
    focal, _ = make_user(Role.FOCAL_OFFICER, unit_id=department.id)
    outsider, _ = make_user(Role.FOCAL_OFFICER, unit_id=other.id)
    office, _ = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    as_focal = Access(session, session.get(User, focal.id))
    ws.update_criterion(session, criterion, access=as_focal, self_score=3, status="in_progress")
    with pytest.raises(PermissionDenied):
        ws.update_criterion(session, criterion, access=as_focal, appraised_score=2)
    with pytest.raises(PermissionDenied):
        ws.update_criterion(session, criterion, access=Access(session, session.get(
            User, outsider.id)), self_score=4)
    ws.update_criterion(session, criterion, access=Access(session, session.get(
        User, office.id)), appraised_score=2.5, owner="Lê Văn C")
    assert (criterion.self_score, criterion.appraised_score) == (3, 2.5)


def test_what_if_on_a_criterion_score_ranks_against_the_other_rounds(session, opened) -> None:
    framework = service.get_framework(session, "VIDU_SO_NGANH")
    other = ws.open_assessment(session, framework, 2025, "S01", access=_system(session))
    for mine, theirs in zip(opened.criteria, other.criteria, strict=True):
        ws.update_criterion(session, mine, self_score=mine.max_points * 0.6,
                            access=_system(session))
        ws.update_criterion(session, theirs, self_score=theirs.max_points * 0.7,
                            access=_system(session))
    # The council's score wins over the self score where it exists.
    ws.update_criterion(session, other.criteria[0], appraised_score=0.0, access=_system(session))
    session.commit()
    result = service.ranking(session, year=2025, framework_code="VIDU_SO_NGANH",
                             source="assessment")
    assert result.unit_codes == ["20", "S01"]
    assert result.total[0] == pytest.approx(0.6)
    assert result.total[1] == pytest.approx(0.7 - 0.05 * 0.7)
    assert result.rank.tolist() == [2, 1]
    found = service.what_if(result, "20", {"S3.1": 25})  # online dossiers: full marks
    assert found.points_gained == pytest.approx(10.0)
    assert (found.rank_before, found.rank_after) == (2, 1)

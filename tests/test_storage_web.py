"""Evidence through the pages, with files on disk and in the database: an upload is judged by
what its bytes are (a program named `bien-ban.pdf` is refused, 415, naming it, and nothing
is kept), a PDF is sent back as a PDF whatever it was called; files written by chiso before
the one store — evidence in each domain's old folder, report files under `reports/` — are
still served."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from collection_support import CURRENT_QUARTER, build_province
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.collection.models import Evidence
from chiso.dti import assessment as dti_workspace
from chiso.dti import service as dti_service
from chiso.dti.models import DtiCriterion, DtiEvidence
from chiso.reports.models import GeneratedReport
from chiso.settings import get_settings, reset_settings_cache
from chiso.storage.service import local_store
from tests.conftest import login

FORM = f"/collection/CCHC_QUY/{CURRENT_QUARTER}/06001"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)


@pytest.fixture(params=["local", "database"])
def office(request: pytest.FixtureRequest, client, session: Session, make_user, monkeypatch
           ):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_FILE_STORE", request.param)
    reset_settings_cache()
    province = build_province(session)
    session.commit()
    user, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    login(client, user.username, password)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/account/password").text)
    assert token
    return client, token.group(1), province


def _attach(client, token: str, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"{FORM}/evidence", data={"indicator": "CQS.SO_DVCTT",
                                                 "csrf_token": token},
                       files={"file": (name, content, "application/pdf")},
                       follow_redirects=False)


def _pptx() -> bytes:
    """A slide deck: a zip with PowerPoint's parts (not a kind accepted as evidence)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as deck:
        deck.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                      'schemas.openxmlformats.org/package/2006/content-types"/>')
        deck.writestr("ppt/presentation.xml", '<?xml version="1.0"?><p:presentation '
                      'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>')
    return buffer.getvalue()


def _dti_criterion(session: Session) -> int:
    system = Access.system(session, "test")
    dti_service.load_shipped_frameworks(session)
    framework = dti_service.get_framework(session, "VIDU_SO_NGANH")
    opened = dti_workspace.open_assessment(session, framework, 2025, "20", access=system)
    session.commit()
    return int(opened.criteria[0].id)


def test_every_evidence_form_accepts_the_same_kinds_by_their_bytes(office, session: Session
                                                                    ) -> None:
    client, token, _province = office
    criterion = _dti_criterion(session)
    deck = _pptx()
    for url, field, extra in ((f"{FORM}/evidence", "file", {"indicator": "CQS.SO_DVCTT"}),
                              (f"/dti/assessment/criteria/{criterion}/evidence", "file", {})):
        refused = client.post(url, data={**extra, "csrf_token": token},
                              files={field: ("trinh-chieu.pptx", deck)},
                              headers={"accept": "application/json"}, follow_redirects=False)
        assert refused.status_code == 415, (url, refused.status_code, refused.text[:300])
        body = refused.json()
        assert "trinh-chieu.pptx" in body["message_vi"] and "PowerPoint" in body["message_en"]
    program = _attach(client, token, "bien-ban.pdf", PROGRAM)
    assert program.status_code == 415 and "bien-ban.pdf" in program.text
    assert session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert session.scalar(select(func.count()).select_from(DtiEvidence)) == 0
    kept = _attach(client, token, "bien-ban.txt", PDF)  # a PDF, whatever its name
    assert kept.status_code == 303, kept.text
    row = session.scalar(select(Evidence))
    served = client.get(f"/collection/evidence/{row.id}")
    assert served.content == PDF and served.headers["content-type"] == "application/pdf"
    assert 'filename="bien-ban.txt"' in served.headers["content-disposition"]


def _move_to_old_folder(sha256: str, folder: str) -> None:
    """Where chiso kept the file before the one store (same <aa>/<sha256> layout)."""
    old = get_settings().data_dir / folder / sha256[:2] / sha256
    old.parent.mkdir(parents=True, exist_ok=True)
    if get_settings().file_store == "local":
        shutil.move(local_store().path(sha256), old)
    else:  # a database-store server whose old files are still on its disk
        from chiso.storage import read_bytes

        old.write_bytes(read_bytes(sha256))
        _forget_in_database(sha256)


def _forget_in_database(sha256: str) -> None:
    from sqlalchemy import delete

    from chiso.db import session_scope
    from chiso.storage.models import StoredBlob

    with session_scope() as scope:
        scope.execute(delete(StoredBlob).where(StoredBlob.sha256 == sha256))


def test_evidence_kept_in_the_old_folders_is_still_served(office, session: Session) -> None:
    client, token, province = office
    assert _attach(client, token, "bien-ban.pdf", PDF).status_code == 303
    row = session.scalar(select(Evidence))
    _move_to_old_folder(row.sha256, "evidence")
    criterion = session.get(DtiCriterion, _dti_criterion(session))
    plan = "Kế hoạch chuyển đổi số năm 2025".encode()
    dti_workspace.add_evidence(session, criterion, "ke-hoach.txt", plan,
                               access=Access.system(session, "test"))
    session.commit()
    dti = session.scalar(select(DtiEvidence))
    _move_to_old_folder(dti.sha256, "dti/evidence")
    assert not (get_settings().data_dir / "files").exists() or not any(
        p.is_file() for p in (get_settings().data_dir / "files").rglob("*"))
    assert client.get(f"/collection/evidence/{row.id}").content == PDF
    assert client.get(f"/dti/evidence/{dti.id}").content == plan
    report = _old_report_run(session, province.world.province.id)
    served = client.get(f"/reports/jobs/{report.id}/files/bao-cao-quy-III-2025.docx")
    assert served.status_code == 200 and served.content == b"PK\x03\x04 bao cao cu"


def _old_report_run(session: Session, unit_id: int) -> GeneratedReport:
    """A run finished before the store: its file under reports/, its path in `files`."""
    relative = Path("reports/20/2025Q3/job-7/bao-cao-quy-III-2025.docx")
    path = get_settings().data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 bao cao cu")
    job = GeneratedReport(unit_id=unit_id, kind="quarterly", period="2025Q3", status="done",
                          progress=100, files=relative.as_posix())
    session.add(job)
    session.commit()
    return job

"""The report page: edit the proposals, generate with progress, download the DOCX."""

from __future__ import annotations

import io
import re
import time

import pytest
from docx import Document
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.settings import reset_settings_cache
from tests.conftest import login
from tests.tasks_support import TODAY, build_world

PROPOSAL = "Đề nghị UBND tỉnh bố trí kinh phí số hóa hồ sơ cho 65 xã, phường năm 2026"


@pytest.fixture
def pinned_today(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    reset_settings_cache()


def _wait(client, job_id: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    deadline = time.time() + 240
    while time.time() < deadline:
        job = client.get(f"/api/reports/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.5)
    raise AssertionError("report generation did not finish")


@pytest.mark.slow
def test_edit_generate_and_download(session: Session, client, make_user,  # type: ignore[no-untyped-def]
                                    pinned_today: None) -> None:
    w = build_world(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id, username="vp-bcd")
    login(client, office.username, password)
    page = client.get("/reports")
    assert page.status_code == 200 and 'value="2025Q3"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    saved = client.post("/reports/texts", data={
        "csrf_token": token, "unit": "20", "period": "2025Q3", "kind": "quarterly",
        "proposals": PROPOSAL, "signer_name": "Đoàn Thu Hà", "symbol": "BC/BCĐ"})
    assert saved.status_code == 200 and "Đã lưu 2 mục nội dung" in saved.text
    started = client.post("/reports/generate", data={
        "csrf_token": token, "unit": "20", "kind": "quarterly", "period": "2025Q3"},
        follow_redirects=False)
    assert started.status_code == 303
    job_id = int(started.headers["location"].rsplit("/", 1)[1])
    first = client.get(started.headers["location"]).text
    assert "Đang tạo" in first or "Báo cáo đã sẵn sàng" in first
    job = _wait(client, job_id)
    assert job["status"] == "done", job
    docx_url = next(f for f in job["files"] if f.endswith(".docx"))
    download = client.get(docx_url)
    assert download.status_code == 200
    document = Document(io.BytesIO(download.content))
    texts = [p.text for p in document.paragraphs]
    assert f"- {PROPOSAL}" in texts
    signature = document.tables[-1].rows[0].cells[1].text
    # Since NQ 57 the committee is the Party committee's: "T/M", not the State's "TM.".
    assert "Đoàn Thu Hà" in signature and "T/M BAN CHỈ ĐẠO" in signature
    assert any(f.endswith(".xlsx") for f in job["files"])
    page = client.get(f"/reports/jobs/{job_id}")
    assert "Báo cáo đã sẵn sàng" in page.text


def test_other_units_cannot_generate_or_download(session: Session, client, make_user,  # type: ignore[no-untyped-def]
                                                  pinned_today: None) -> None:
    w = build_world(session)
    session.commit()
    officer, password = make_user(Role.FOCAL_OFFICER, w.noi_vu.id, username="dm")
    login(client, officer.username, password)
    assert client.get("/reports?unit=20").status_code == 403
    # From the menu (no unit named) the officer lands on their own department, not a 403.
    own = client.get("/reports")
    assert own.status_code == 200 and '<option value="S_NV" selected>' in own.text
    assert '<option value="20"' not in own.text and '<option value="S_KHCN"' not in own.text
    token = re.search(r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                      client.get("/tasks").text).group(1)
    denied = client.post("/api/reports", json={"unit": "20", "period": "2025Q3"},
                         headers={"x-csrf-token": token})
    assert denied.status_code == 403 and "read" in denied.text


def test_a_period_the_report_cannot_have_is_refused(admin_client, session: Session,  # type: ignore[no-untyped-def]
                                                    pinned_today: None) -> None:
    build_world(session)
    session.commit()
    assert admin_client.get("/reports", params={"period": "2025Q3"}).status_code == 200
    bad = admin_client.get("/reports", params={"period": "2026Q9"})
    assert bad.status_code == 422 and "2026Q9" in bad.text and "không hợp lệ" in bad.text
    # Switching a quarter's page to the annual report shows the latest year (today 2025-…).
    annual = admin_client.get("/reports", params={"kind": "annual", "period": "2025Q3"})
    assert annual.status_code == 200 and 'name="period" value="2024"' in annual.text

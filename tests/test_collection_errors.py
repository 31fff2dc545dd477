"""The reporting cycle's routes answer a mistake with the right status and the one
published error shape (detail, message_vi, message_en, status, issues), never a 500: an
unknown data set, unit, report or step, a period of the wrong kind, a bad template, an
evidence file missing from the store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from collection_support import CURRENT_QUARTER, build_province, fill_template
from sqlalchemy import select

from chiso.accounts.models import Role
from chiso.collection.models import Evidence
from chiso.storage.service import local_store
from tests.conftest import login

P = CURRENT_QUARTER
ERROR_KEYS = {"detail", "message_vi", "message_en", "status", "issues"}


@pytest.fixture
def signed_in(client, session, make_user):  # type: ignore[no-untyped-def]
    province = build_province(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    login(client, office.username, password)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/account/password").text)
    assert token
    return client, {"X-CSRF-Token": token.group(1)}, province


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/api/collection/submissions?data_set=KHONG_CO", 404),
    ("get", "/api/collection/submissions?data_set=CCHC_QUY&period=2025", 422),
    ("get", "/api/collection/submissions?data_set=CCHC_QUY&period=khong-phai-ky", 422),
    ("post", "/api/collection/submissions/987654/approve", 404),
    ("get", "/api/collection/template?data_set=CCHC_QUY&unit=99999&period=2025Q3", 404),
    ("get", "/api/dataValueSets?period=2025Q3", 422),
])
def test_api_mistakes_have_the_published_shape(signed_in, method: str, path: str,
                                               status: int) -> None:
    client, headers, _province = signed_in
    answer = getattr(client, method)(path, headers=headers)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) >= ERROR_KEYS and body["status"] == status
    assert body["message_vi"] and body["message_en"]


def test_a_wrong_period_names_the_form_not_its_code(signed_in) -> None:
    client, headers, _province = signed_in
    body = client.get("/api/collection/submissions?data_set=CCHC_QUY&period=2025",
                      headers=headers).json()
    assert "Báo cáo quý thủ tục hành chính" in body["message_vi"]
    assert "theo quý" in body["message_vi"] and "Năm 2025" in body["message_vi"]


def test_pages_refuse_without_a_crash(signed_in) -> None:
    client, headers, _province = signed_in
    assert client.get(f"/collection/KHONG_CO/{P}/06001").status_code == 404
    assert client.get("/collection/CCHC_QUY/khong-phai-ky/06001").status_code == 422
    assert client.get(f"/collection/CCHC_QUY/{P}/99999").status_code == 404
    submission = client.get(f"/api/collection/submissions?data_set=CCHC_QUY&period={P}",
                            headers=headers).json()["submissions"][0]
    step = client.post(f"/api/collection/submissions/{submission['id']}/nhay-mua",
                       headers=headers)
    assert step.status_code == 404 and step.json()["status"] == 404


def test_a_bad_template_is_422_with_its_cells(signed_in, tmp_path: Path) -> None:
    client, headers, _province = signed_in
    query = f"data_set=CCHC_QUY&unit=06001&period={P}"
    blank = client.get(f"/api/collection/template?{query}").content
    path = fill_template(blank, {"J9": "mười hai"}, tmp_path / "06001.xlsx")
    with path.open("rb") as handle:
        answer = client.post(f"/api/collection/template?{query}&dry_run=false",
                             headers=headers,
                             files={"file": (path.name, handle, "application/octet-stream")})
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) >= ERROR_KEYS and body["status"] == 422 and not body["stored"]
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(9, "J (Giá trị)")]
    assert "mười hai" in body["issues"][0]


def test_an_evidence_file_missing_from_the_store_is_a_404(signed_in, session) -> None:
    client, headers, _province = signed_in
    form = f"/collection/CCHC_QUY/{P}/06001"
    sent = client.post(f"{form}/evidence", data={"indicator": "CQS.SO_DVCTT",
                                                 "csrf_token": headers["X-CSRF-Token"]},
                       files={"file": ("bien-ban.pdf", b"%PDF-1.4 minh chung",
                                       "application/pdf")}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    session.expire_all()
    row = session.scalar(select(Evidence))
    assert client.get(f"/collection/evidence/{row.id}").content.startswith(b"%PDF")
    local_store().path(row.sha256).unlink()  # lost with the disk, or not restored
    missing = client.get(f"/collection/evidence/{row.id}")
    assert missing.status_code == 404 and "bien-ban.pdf" in missing.text

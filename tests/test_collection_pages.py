"""Pages through the real app: upload with a dry-run diff then confirm, a refused form,
evidence files by sha256, English, and permissions."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from collection_support import CURRENT_QUARTER, build_province, fill_template
from sqlalchemy import select

from chiso import storage
from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.collection.models import Evidence
from chiso.values.models import DataValue
from tests.conftest import login

P = CURRENT_QUARTER
BASE = f"/collection/CCHC_QUY/{P}/06001"


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_form_upload_evidence_and_english(client, session, make_user, tmp_path: Path) -> None:
    province = build_province(session)
    session.commit()
    w = province.world
    focal, password = make_user(Role.FOCAL_OFFICER, w.commune_a.id)
    assert client.get(BASE, follow_redirects=False).status_code in (302, 303, 401)
    login(client, focal.username, password)
    page = client.get(BASE)
    assert page.status_code == 200 and "Lưu nháp" in page.text
    token = _token(page.text)

    refused = client.post(f"{BASE}/save", data={"csrf_token": token,
                                                f"value_{w.count.id}": "mười hai"})
    assert refused.status_code == 422 and "Chưa lưu gì" in refused.text
    assert f'name="value_{w.count.id}" inputmode="decimal" value="mười hai"' in refused.text

    content = client.get(f"/api/collection/template?data_set=CCHC_QUY&unit=06001&period={P}"
                         ).content
    filled = fill_template(content, {"H6": 766, "I6": 1000, "J9": "12"}, tmp_path / "f.xlsx")
    with filled.open("rb") as handle:
        preview = client.post(f"{BASE}/upload", data={"csrf_token": token},
                              files={"file": ("f.xlsx", handle)})
    assert preview.status_code == 200 and "Lưu các số liệu này" in preview.text
    assert session.scalar(select(DataValue.id)) is None
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', preview.text).group(1)
    stored = client.post(f"{BASE}/upload", data={"csrf_token": token, "digest": digest,
                                                 "suffix": ".xlsx", "file_name": "f.xlsx",
                                                 "encoding": "auto"}, follow_redirects=False)
    assert stored.status_code == 303
    assert session.scalar(select(DataValue.value).where(DataValue.indicator_id ==
                                                        w.ratio.id)) == 76.6

    proof = b"%PDF-1.4 bien ban xac nhan so lieu"
    attached = client.post(f"{BASE}/evidence", data={"csrf_token": token,
                                                     "indicator": "CQS.HS_TRUC_TUYEN"},
                           files={"file": ("bien-ban.pdf", proof)}, follow_redirects=False)
    assert attached.status_code == 303
    row = session.scalar(select(Evidence))
    assert row.sha256 == hashlib.sha256(proof).hexdigest()
    assert storage.read_bytes(row.sha256) == proof
    assert client.get(f"/collection/evidence/{row.id}").content == proof
    english = client.get(f"{BASE}?lang=en")
    assert "Save draft" in english.text and "Data quality" in english.text
    assert client.get(f"/collection/CCHC_QUY/{P}/06002").status_code == 403
    assert client.get(f"/collection/quality?data_set=CCHC_QUY&period={P}").status_code == 200


def test_flags_are_detected_listed_and_resolved(client, session, make_user) -> None:
    from chiso.values.service import upsert_values

    province = build_province(session)
    w = province.world
    history = [10, 11, 12, 10, 11, 12, 11, 95]
    upsert_values(session, [{"unit_id": w.commune_a.id, "indicator_id": w.count.id,
                             "period": f"{2024 + i // 4}Q{i % 4 + 1}", "value": v}
                            for i, v in enumerate(history)], source="import",
                                access=Access.system(session, "test"))
    session.commit()
    focal, focal_pw = make_user(Role.FOCAL_OFFICER, w.commune_a.id)
    office, office_pw = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, focal.username, focal_pw)
    headers = {"X-CSRF-Token": _token(client.get("/account/password").text)}
    assert client.post("/api/collection/flags/detect", headers=headers).status_code == 403
    login(client, office.username, office_pw)
    headers = {"X-CSRF-Token": _token(client.get("/account/password").text)}
    assert client.post("/api/collection/flags/detect", headers=headers).json() == {
        "new_flags": 1}
    flags = client.get("/api/collection/flags").json()
    assert [(f["period"], f["kind"]) for f in flags] == [("2025Q4", "outlier_history")]
    done = client.post(f"/api/collection/flags/{flags[0]['id']}/resolve", headers=headers,
                       json={"reason": "Xã xác nhận: đã đưa thêm 84 dịch vụ lên cổng"})
    assert done.json()["status"] == "resolved"
    assert client.get("/api/collection/flags").json() == []


def test_quality_page_explains_an_empty_period(client, session, make_user) -> None:  # type: ignore[no-untyped-def]
    from chiso.collection import service

    province = build_province(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    login(client, office.username, password)
    url = f"/collection/quality?data_set=CCHC_QUY&period={P}&lang=vi"
    assert 'id="nothing-submitted"' in client.get(url).text
    data_set = service.data_set_by_code(session, "CCHC_QUY")
    service.submit(session, service.submission_for(session, data_set,
                                                   province.world.commune_a.id, P),
                   access=Access.system(session, "test"))
    session.commit()
    assert 'id="nothing-submitted"' not in client.get(url).text

"""The whole reporting cycle through the HTTP API, on SQLite and PostgreSQL: data set →
template for a commune → filled ("76,6", a TCVN3 unit name) → uploaded → dry-run diff →
submitted → returned → corrected → approved → locked → edited (counted, approval
re-opened) → the scorecard changes; and a bad upload that stores nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from collection_support import CURRENT_QUARTER, build_province, fill_template
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chiso.accounts.models import Role
from chiso.collection.legacy import to_tcvn3
from chiso.collection.models import Submission, SubmissionEvent
from chiso.values.models import DataValue
from tests.conftest import login

P = CURRENT_QUARTER


def _signed_in(app, user, password) -> tuple[TestClient, dict[str, str]]:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    client.__enter__()
    login(client, user.username, password)
    page = client.get("/account/password")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return client, {"X-CSRF-Token": token.group(1)}


@pytest.fixture
def province(session):  # type: ignore[no-untyped-def]
    built = build_province(session)
    session.commit()
    return built


def _upload(client, headers, path: Path, *, dry_run: bool):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(f"/api/collection/template?data_set=CCHC_QUY&unit=06001&period={P}"
                           f"&dry_run={'true' if dry_run else 'false'}", headers=headers,
                           files={"file": (path.name, handle, "application/octet-stream")})


def _value(session, indicator_id: int) -> DataValue:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(DataValue).where(DataValue.indicator_id == indicator_id))


def test_whole_cycle(app, session, province, make_user, tmp_path: Path) -> None:
    w = province.world
    focal, focal_pw = make_user(Role.FOCAL_OFFICER, w.commune_a.id)
    office, office_pw = make_user(Role.STANDING_OFFICE, w.province.id)
    commune, commune_h = _signed_in(app, focal, focal_pw)
    board, board_h = _signed_in(app, office, office_pw)

    before = board.get(f"/api/collection/quality?data_set=CCHC_QUY&period={P}").json()
    assert before["totals"]["du"] == 0 and before["totals"]["reports"] == 3

    template = commune.get(f"/api/collection/template?data_set=CCHC_QUY&unit=06001&period={P}")
    assert template.status_code == 200
    filled = fill_template(template.content, {
        "C6": to_tcvn3("Xã Đồng Đăng"), "J6": "76,6", "H7": 300, "I7": 1000,
        "H8": "950", "I8": "1.000", "J9": 12, "K6": to_tcvn3("Số liệu từ Cổng dịch vụ công"),
    }, tmp_path / "06001.xlsx")

    preview = _upload(commune, commune_h, filled, dry_run=True)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["counts"]["inserted"] == 4 and not body["stored"]
    assert {c["converted"] for c in body["converted"]} == {"Xã Đồng Đăng",
                                                           "Số liệu từ Cổng dịch vụ công"}
    assert body["warnings"] == []  # the converted name matches the unit
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0

    stored = _upload(commune, commune_h, filled, dry_run=False)
    assert stored.status_code == 200 and stored.json()["stored"]
    online = _value(session, w.ratio.id)
    assert online.value == pytest.approx(76.6)
    assert online.comment == "Số liệu từ Cổng dịch vụ công"
    assert _value(session, province.on_time.id).value == pytest.approx(95.0)

    submission_id = session.scalar(select(Submission.id).where(Submission.unit_id ==
                                                               w.commune_a.id))
    step = f"/api/collection/submissions/{submission_id}"
    assert commune.post(f"{step}/approve", headers=commune_h).status_code == 403
    assert commune.post(f"{step}/submit", headers=commune_h).json()["status"] == "submitted"
    no_reason = board.post(f"{step}/return", headers=board_h, json={"reason": ""})
    assert no_reason.status_code == 422  # a return needs its reason
    returned = board.post(f"{step}/return", headers=board_h,
                          json={"reason": "Tỷ lệ trực tuyến cần tử số và mẫu số"})
    assert returned.json()["status"] == "returned"

    corrected = fill_template(template.content, {"H6": 766, "I6": 1000, "H7": 300, "I7": 1000,
                                                 "H8": "950", "I8": "1.000", "J9": 12},
                              tmp_path / "06001-sua.xlsx")
    diff = _upload(commune, commune_h, corrected, dry_run=True).json()
    assert diff["counts"]["updated"] == 1 and diff["updates"][0]["value_old"] == 76.6
    assert _upload(commune, commune_h, corrected, dry_run=False).status_code == 200
    assert commune.post(f"{step}/submit", headers=commune_h).json()["status"] == "submitted"
    assert board.post(f"{step}/approve", headers=board_h).json()["status"] == "approved"
    approved = board.get(f"/api/collection/quality?data_set=CCHC_QUY&period={P}").json()
    assert approved["totals"]["du"] == pytest.approx(4 / 12, abs=1e-4)
    assert approved["totals"]["approved"] == 1
    assert approved["totals"]["song"] == 1.0  # the other communes are not due yet

    # Locked: the focal officer can no longer change the figures, on any path.
    relocked = fill_template(template.content, {"H6": 800, "I6": 1000},
                             tmp_path / "06001-lan-3.xlsx")
    refused = _upload(commune, commune_h, relocked, dry_run=False)
    assert refused.status_code == 422
    assert {e["rule"] for e in refused.json()["errors"]} == {"approved_locked"}
    direct = commune.post("/api/values", headers=commune_h, json={
        "unit": "06001", "indicator": "CQS.HS_TRUC_TUYEN", "period": P,
        "numerator": 800, "denominator": 1000})
    assert direct.status_code == 422 and "approved_locked" in direct.text
    assert _value(session, w.ratio.id).numerator == 766

    # The standing office corrects a figure after approval: counted, approval re-opened.
    edit = board.post("/api/values", headers=board_h, json={
        "unit": "06001", "indicator": "CQS.SO_DVCTT", "period": P, "value": 14})
    assert edit.status_code == 200, edit.text
    after = board.get(f"/api/collection/quality?data_set=CCHC_QUY&period={P}").json()
    session.expire_all()
    submission = session.get(Submission, submission_id)
    assert submission.status == "submitted" and submission.edits_after_approval == 1
    assert after["totals"]["edits_after_approval"] == 1 and after["totals"]["approved"] == 0
    # The figure now has two sources (template, manual): unclean until approved again.
    assert after["totals"]["sach"] < approved["totals"]["sach"]
    board.post(f"{step}/approve", headers=board_h)
    final = board.get(f"/api/collection/quality?data_set=CCHC_QUY&period={P}").json()
    assert final["totals"]["sach"] == approved["totals"]["sach"] == 1.0

    actions = [e.action for e in session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission_id).order_by(SubmissionEvent.id))]
    assert actions == ["save", "submit", "return", "save", "submit", "approve",
                       "edit_after_approval", "approve"]
    history = board.get(f"{step}/history").json()
    assert history[2]["note"] == "Tỷ lệ trực tuyến cần tử số và mẫu số"
    commune.__exit__(None, None, None)
    board.__exit__(None, None, None)


def test_bad_upload_stores_nothing_and_names_every_cell(app, session, province, make_user,
                                                        tmp_path: Path) -> None:
    focal, password = make_user(Role.FOCAL_OFFICER, province.world.commune_a.id)
    client, headers = _signed_in(app, focal, password)
    template = client.get(f"/api/collection/template?data_set=CCHC_QUY&unit=06001&period={P}")
    bad = fill_template(template.content, {
        "B6": "99999", "J6": "50",        # a unit code that does not exist
        "J7": "140",                      # a percentage of 140
        "H8": 120, "I8": 100,             # a numerator above its denominator
        "J9": "mười hai",                 # letters in a number cell
    }, tmp_path / "bad.xlsx")
    response = _upload(client, headers, bad, dry_run=False)
    assert response.status_code == 422
    errors = {(e["sheet"], e["row"], e["column"], e["rule"]) for e in response.json()["errors"]}
    assert ("Số liệu", 6, "B (Mã đơn vị)", "unit_unknown") in errors
    assert ("Số liệu", 7, "J (Giá trị)", "percent_range") in errors
    assert any(row == 8 and rule == "numerator_le_denominator" for _s, row, _c, rule in errors)
    assert ("Số liệu", 9, "J (Giá trị)", "number_format") in errors
    texts = [e["text"] for e in response.json()["errors"]]
    assert all("trang 'Số liệu', dòng" in t and "/ file 'bad.xlsx', sheet" in t for t in texts)
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0

    other, other_pw = make_user(Role.FOCAL_OFFICER, province.world.commune_b.id)
    intruder, intruder_h = _signed_in(app, other, other_pw)
    with bad.open("rb") as handle:
        denied = intruder.post(f"/api/collection/template?data_set=CCHC_QUY&unit=06001"
                               f"&period={P}", headers=intruder_h,
                               files={"file": ("bad.xlsx", handle)})
    assert denied.status_code == 403
    anonymous = TestClient(app)
    assert anonymous.get("/api/collection/quality").status_code == 401
    client.__exit__(None, None, None)
    intruder.__exit__(None, None, None)

"""An uploaded data file is checked (dry run) on one server and confirmed on another behind
the same proxy: with CHISO_FILE_STORE=database the second server imports exactly the bytes
the first one previewed; with the files on each server's own disk it can only say the file
has expired. Another user cannot confirm it by its digest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from values_support import build_world

from chiso.accounts.models import Role
from chiso.settings import reset_settings_cache
from chiso.values.models import DataValue
from tests.conftest import login

CSV = ("Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Tử số,Mẫu số,Giá trị,Nguồn,Ghi chú\n"
       "06001,CQS.HS_TRUC_TUYEN,Quý II/2025,383,500,,,Số liệu một cửa\n")


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return match.group(1)


def _on_another_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "server-b"))
    reset_settings_cache()


def _checked_upload(client: TestClient, session: Session, make_user, monkeypatch,  # type: ignore[no-untyped-def]
                    store: str):
    """A focal officer's dry run of a values file: (world, CSRF token, the preview)."""
    monkeypatch.setenv("CHISO_FILE_STORE", store)
    reset_settings_cache()
    world = build_world(session)
    session.commit()
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id)
    login(client, officer.username, password)
    token = _field(client.get("/values/import").text, "csrf_token")
    checked = client.post("/values/import", data={"csrf_token": token},
                          files={"file": ("so-lieu-quy-2.csv", CSV.encode(), "text/csv")})
    assert checked.status_code == 200 and 'id="confirm"' in checked.text, checked.text[:500]
    return world, token, checked


@pytest.mark.parametrize("store", ["local", "database"])
def test_a_dry_run_is_confirmed_on_another_server(client: TestClient, session: Session,
                                                  make_user, monkeypatch, tmp_path: Path,
                                                  store: str) -> None:
    _world, _token, checked = _checked_upload(client, session, make_user, monkeypatch, store)
    confirm = {name: _field(checked.text, name)
               for name in ("digest", "suffix", "file_name", "csrf_token")}
    _on_another_server(monkeypatch, tmp_path)
    stored = client.post("/values/import", data=confirm)
    values = session.scalars(select(DataValue.value)).all()
    if store == "local":  # each server's own disk: the other one never saw the file
        assert stored.status_code == 400 and "hết hạn" in stored.text
        assert values == []
    else:
        assert stored.status_code == 200, stored.text[:500]
        assert values == [pytest.approx(76.6)]


def test_another_user_cannot_confirm_an_upload_by_its_digest(
        client: TestClient, session: Session, make_user, monkeypatch, tmp_path: Path) -> None:
    world, token, checked = _checked_upload(client, session, make_user, monkeypatch,
                                            "database")
    confirm = {name: _field(checked.text, name) for name in ("digest", "suffix", "file_name")}
    _on_another_server(monkeypatch, tmp_path)
    client.post("/logout", data={"csrf_token": token})
    other, other_password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id)
    login(client, other.username, other_password)
    other_token = _field(client.get("/values/import").text, "csrf_token")
    refused = client.post("/values/import", data={**confirm, "csrf_token": other_token})
    assert refused.status_code == 400 and "hết hạn" in refused.text
    assert session.scalars(select(DataValue.value)).all() == []

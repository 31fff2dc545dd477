"""One error type for people: a `UserError` raised anywhere renders as one JSON shape for
the API and as a page in Vietnamese and English, with its own status; the CLI prints it and
exits with 2."""

from __future__ import annotations

import pytest
import typer
from fastapi.testclient import TestClient

from chiso.errors import Conflict, NotFound, UserError


def _boom(kind: str) -> None:
    if kind == "missing":
        raise NotFound("Không có đơn vị mã '99' / no unit with code '99'")
    if kind == "stale":
        raise Conflict("Đã có người sửa trước", "someone changed it first", data={"current": 3})
    raise UserError("Dòng 2, cột 'value': không phải số", "row 2, column 'value': not a number",
                    issues=[{"row": 2, "column": "value", "rule": "number_format"}])


def test_user_error_json_and_page(db_url: str) -> None:
    from chiso.web.app import create_app

    app = create_app()
    app.add_api_route("/api/_boom/{kind}", _boom)
    app.add_api_route("/_boom/{kind}", _boom)
    with TestClient(app) as client:
        refused = client.get("/api/_boom/bad")
        assert refused.status_code == 422
        assert refused.json() == {
            "detail": "Dòng 2, cột 'value': không phải số / row 2, column 'value': not a number",
            "message_vi": "Dòng 2, cột 'value': không phải số",
            "message_en": "row 2, column 'value': not a number", "status": 422,
            "issues": [{"row": 2, "column": "value", "rule": "number_format"}]}
        missing = client.get("/api/_boom/missing")
        assert missing.status_code == 404
        assert missing.json()["message_en"] == "no unit with code '99'"
        stale = client.get("/api/_boom/stale")
        assert stale.status_code == 409 and stale.json()["current"] == 3
        page = client.get("/_boom/missing")
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]
        # A person reads the page in their language only; the API keeps both.
        assert "Không có đơn vị mã &#39;99&#39;" in page.text
        assert "no unit with code" not in page.text
        english = client.get("/_boom/missing", params={"lang": "en"})
        assert "no unit with code &#39;99&#39;" in english.text


def test_user_error_in_cli_exits_2(monkeypatch, capsys) -> None:
    from chiso.cli import main as cli_main

    single = typer.Typer()

    @single.command()
    def fail() -> None:
        raise NotFound("Không có đơn vị mã '99' / no unit with code '99'")

    monkeypatch.setattr(cli_main, "app", single)
    monkeypatch.setattr("sys.argv", ["chiso"])
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main()
    assert exit_info.value.code == 2
    assert "no unit with code '99'" in capsys.readouterr().err


ERROR_KEYS = {"detail", "message_vi", "message_en", "status", "issues"}


def _shape(answer, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) >= ERROR_KEYS and body["status"] == status, body
    assert body["detail"] == f"{body['message_vi']} / {body['message_en']}" or (
        body["message_vi"] == body["message_en"] == body["detail"]), body
    return body  # type: ignore[no-any-return]


def test_every_refusal_of_the_api_has_one_shape(client, make_user) -> None:  # type: ignore[no-untyped-def]
    """401, 403 (no right; no CSRF token), 404, 405, 422: ErrorBody, Vietnamese first."""
    from chiso.accounts.models import Role
    from tests.conftest import login

    anonymous = client.get("/api/audit")
    assert _shape(anonymous, 401)["message_en"].startswith("Not authenticated")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    bad = client.get("/api/audit", headers={"Authorization": "Bearer chiso_nope"})
    assert "thu hồi" in _shape(bad, 401)["message_vi"]
    assert "invalid_token" in bad.headers["www-authenticate"]
    assert _shape(client.get("/api/khong-co"), 404)["message_vi"]
    leader, password = make_user(Role.LEADER)
    login(client, leader.username, password)
    assert _shape(client.get("/api/audit"), 403)["message_vi"].startswith("Không có quyền")
    no_token = client.post("/api/values", json={})
    assert "CSRF" in _shape(no_token, 403)["detail"]
    wrong = client.options("/api/values")
    _shape(wrong, 405)
    assert wrong.headers["allow"] == "GET, POST"  # both routes of the path, not the first's
    invalid = _shape(client.get("/api/status", params={"unit": "20", "year": "hai-nghin"}), 422)
    assert "'year'" in invalid["message_en"] and invalid["issues"][0]["loc"] == ["query", "year"]


def test_no_status_is_read_from_a_message(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A plain ValueError worded 'vi / en' is a bug (500, logged), not a refusal: refusals
    are UserErrors (the old convention guessed 422 from the ' / ')."""
    from chiso.cli import main as cli_main

    def convention() -> None:
        raise ValueError("Sai định dạng / wrong format")

    app.add_api_route("/api/_convention", convention)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/_convention")
    assert answer.status_code == 500 and "Sai định dạng" not in answer.text
    single = typer.Typer()
    single.command()(convention)
    monkeypatch.setattr(cli_main, "app", single)
    monkeypatch.setattr("sys.argv", ["chiso"])
    with pytest.raises(ValueError, match="wrong format"):
        cli_main.main()

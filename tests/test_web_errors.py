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
        assert "no unit with code &#39;99&#39;" in page.text


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

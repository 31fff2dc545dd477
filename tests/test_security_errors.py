"""A page asked with a malformed parameter answers with a readable bilingual line, not
pydantic's raw error list."""

from __future__ import annotations

from chiso.accounts.models import Role
from tests.test_dashboard_pages import province  # noqa: F401  (fixture)


def test_malformed_parameter_is_explained(province, client, make_user) -> None:  # noqa: F811
    from tests.conftest import login

    user, password = make_user(Role.VIEWER, unit_id=province["root"].id)
    login(client, user.username, password)
    page = client.get("/units/20/overview?year=hai-nghin")
    assert page.status_code == 422
    assert "Tham số &#39;year&#39; không hợp lệ" in page.text
    assert "invalid parameter &#39;year&#39;" in page.text
    assert "{'type'" not in page.text and "&#39;type&#39;" not in page.text

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
    assert "invalid parameter" not in page.text  # the page speaks the reader's language
    english = client.get("/units/20/overview?year=hai-nghin&lang=en")
    assert "invalid parameter &#39;year&#39;" in english.text
    assert "{'type'" not in page.text and "&#39;type&#39;" not in page.text


# ---- the last bilingual ValueErrors are UserErrors (issue 13): a person is told, in both
# languages and with the right status, instead of getting a traceback.

def test_generating_a_feed_for_an_unknown_province_is_told_not_a_traceback(
        db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    from pathlib import Path

    chiso = str(Path(sys.executable).with_name("chiso"))
    shown = subprocess.run([chiso, "records", "generate", "--province", "99", "--months", "1",
                            "-o", str(tmp_path / "feed.parquet")],
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 2, shown.stderr[-2000:]
    assert "Traceback" not in shown.stderr
    told = " ".join(shown.stderr.split())
    assert "Không có xã/sở nào thuộc '99' / no communes or departments under '99'" in told


def test_a_feed_file_of_another_kind_is_refused_as_such(session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from chiso.errors import UnsupportedType
    from chiso.records.generator import _Writer

    with pytest.raises(UnsupportedType) as refused:
        _Writer(tmp_path / "feed.xlsx")
    assert refused.value.status == 415
    assert refused.value.message_en == "only .parquet, .csv or .jsonl can be written"


def test_a_unit_whose_parent_is_missing_is_a_refused_file(session) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    import pytest

    from chiso.errors import UserError
    from chiso.units.official import UnitRecord
    from chiso.units.service import LoadSummary, UnitIndex, _load_units

    orphan = UnitRecord(code="99001", name="Xã Mồ Côi", short_name="Mồ Côi", name_en="",
                        kind="xa", parent_code="99", valid_from=dt.date(2025, 7, 1),
                        valid_to=None, area_km2=None, latitude=None, longitude=None)
    with pytest.raises(UserError) as refused:
        _load_units(session, [orphan], UnitIndex.from_db(session), LoadSummary(),
                    lambda done, total: None, 1, None)
    assert (refused.value.status, refused.value.message_vi, refused.value.message_en) == (
        422, "Thiếu đơn vị cha ['99']", "missing parent units ['99']")

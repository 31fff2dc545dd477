"""The task board and a task's page as a reader sees them, in Vietnamese and English."""

from __future__ import annotations

from sqlalchemy.orm import Session

from chiso.tasks.models import FocusArea
from tests.tasks_support import build_world


def test_focus_area_is_named_in_the_readers_language(session: Session, admin_client) -> None:  # type: ignore[no-untyped-def]
    world = build_world(session)
    area = FocusArea(plan_id=world.plan.id, code="1", name_vi="Chuyển đổi nhận thức",
                     name_en="Changing awareness", sort_order=1)
    session.add(area)
    session.flush()
    task = next(iter(world.tasks.values()))
    task.focus_area_id = area.id
    session.commit()
    board = admin_client.get("/tasks", params={"lang": "en"}).text
    row = board.split(f'data-code="{task.code}"')[1].split("</tr>")[0]
    assert "Changing awareness" in row and "Chuyển đổi nhận thức" not in row
    page = admin_client.get(f"/tasks/{task.id}", params={"lang": "en"}).text
    assert "<dd>Changing awareness</dd>" in page
    vietnamese = admin_client.get(f"/tasks/{task.id}", params={"lang": "vi"}).text
    assert "<dd>Chuyển đổi nhận thức</dd>" in vietnamese


def test_unit_lists_hold_the_province_and_new_task_offers_only_managed_units(
        session: Session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    from chiso.accounts.models import Role
    from chiso.units.models import OrgUnit
    from tests.conftest import login

    world = build_world(session)
    session.add(OrgUnit(code="92", name="Thành phố Cần Thơ", kind="tinh"))
    session.commit()
    officer, password = make_user(Role.STANDING_OFFICE, world.khcn.id)
    login(client, officer.username, password)
    form = client.get("/tasks/new", params={"lang": "vi"}).text
    lead = form.split('name="lead_unit"')[1].split("</select>")[0]
    assert "Sở Khoa học và Công nghệ" in lead and "Sở Nội vụ" not in lead
    assert "Cần Thơ" not in form  # another province is in no list
    options = form.split('name="partners"')[1].split("</select>")[0]
    # Province first, then departments (level 2), then communes (level 3).
    assert options.index("Tỉnh Lạng Sơn") < options.index("Sở Nội vụ") < options.index(
        "Phường Đông Kinh")


def test_import_page_links_to_the_export_it_tells_you_to_start_from(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/tasks/import", params={"lang": "vi"}).text
    assert '<a href="/tasks/export.xlsx">Xuất XLSX</a>' in page


def _board_of_an_officer(session: Session, client, make_user, unit: str) -> str:  # type: ignore[no-untyped-def]
    """The /tasks page as a focal officer of the world's `unit` sees it, in Vietnamese."""
    from chiso.accounts.models import Role
    from tests.conftest import login

    world = build_world(session)
    session.commit()
    officer, password = make_user(Role.FOCAL_OFFICER, getattr(world, unit).id)
    login(client, officer.username, password)
    return str(client.get("/tasks", params={"lang": "vi"}).text)


def test_board_unit_filter_offers_only_units_the_officer_may_open(  # type: ignore[no-untyped-def]
        session: Session, client, make_user) -> None:
    board = _board_of_an_officer(session, client, make_user, "noi_vu")
    options = board.split('name="unit"')[1].split("</select>")[0]
    assert '<option value="S_NV"' in options
    assert '<option value="20"' not in options and '<option value="S_KHCN"' not in options


def test_the_scorecard_shows_a_commune_officer_only_what_it_may_read(  # type: ignore[no-untyped-def]
        session: Session, client, make_user) -> None:
    """A commune officer saw every department's scorecard on /tasks (issue 12, Low)."""
    board = _board_of_an_officer(session, client, make_user, "commune_a")
    scorecard = board.split("Kết quả theo đơn vị chủ trì")[1].split("</table>")[0]
    for department in ("Sở Nội vụ", "Sở Tài chính", "Sở Khoa học và Công nghệ"):
        assert department not in scorecard
    assert "Chưa có nhiệm vụ" in scorecard

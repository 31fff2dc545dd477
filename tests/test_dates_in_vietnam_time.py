"""Stored instants shown and counted in Vietnam time, on SQLite and PostgreSQL.

A report sent at 06:30 on 11/10 in Lạng Sơn is 23:30 on 10/10 in UTC, the time chiso stores:
every page, command and report that names its day says 11/10 and counts it one day late,
and the JSON API writes the instant with its offset (SQLite gives it back naive, which a
client would read as its own local time)."""

from __future__ import annotations

import datetime as dt
import json
import re

from collection_support import Province, build_province
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.cli.main import app
from chiso.collection import dhis2, quality, review, service
from chiso.collection.models import Submission, SubmissionEvent
from chiso.reports.asof import reporting_gaps
from chiso.reports.cutoff import Cutoff
from tests.conftest import login

# 06:30 on 11/10/2025 in Vietnam; the 2025Q3 report was due on 10/10/2025.
SENT = dt.datetime(2025, 10, 10, 23, 30, tzinfo=dt.UTC)


def _sent_at(session: Session, province: Province, moment: dt.datetime) -> Submission:
    """Commune B's 2025Q3 report, sent at `moment` (its submit event too)."""
    submission = service.submission_for(session, province.data_set,
                                        province.world.commune_b.id, "2025Q3")
    service.submit(session, submission, access=Access.system(session, "test"))
    submission.submitted_at = submission.first_submitted_at = moment
    for event in session.scalars(select(SubmissionEvent).where(
            SubmissionEvent.submission_id == submission.id)):
        event.at = moment
    session.commit()
    return submission


def _year_2025_known_now() -> Cutoff:
    """The 2025 report, knowing everything recorded until now."""
    return Cutoff(dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 12, 31),
                  dt.date(2025, 12, 31), dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                  False)


def test_the_reporting_page_dates_a_late_report_on_its_day_in_vietnam(
        session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    province = build_province(session)
    submission = _sent_at(session, province, SENT)
    assert review.late_days(submission) == 1
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    login(client, office.username, password)
    page = client.get("/collection", params={"data_set": "CCHC_QUY", "period": "2025Q3"})
    assert page.status_code == 200
    row = page.text.split(f'data-unit="{province.world.commune_b.code}"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == ["10/10/2025", "11/10/2025"], row  # due, sent ("nộp muộn" beside it)


def test_the_review_page_gives_the_sending_time_in_vietnam_in_either_language(
        session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    """One helper (`chiso.text.format_moment`) writes every instant a page shows."""
    province = build_province(session)
    _sent_at(session, province, SENT)
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    login(client, office.username, password)
    path = f"/collection/CCHC_QUY/2025Q3/{province.world.commune_b.code}/review"
    vi = client.get(path, params={"lang": "vi"})
    assert vi.status_code == 200
    assert "11/10/2025 06:30" in vi.text and "10/10/2025 23:30" not in vi.text
    en = client.get(path, params={"lang": "en"})
    assert "2025-10-11 06:30" in en.text and "11/10/2025 06:30" not in en.text


def test_the_submission_list_command_dates_a_report_on_its_day_in_vietnam(session) -> None:  # type: ignore[no-untyped-def]
    province = build_province(session)
    _sent_at(session, province, SENT)
    listed = CliRunner().invoke(app, ["collection", "submission", "list", "CCHC_QUY",
                                      "2025Q3"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    line = next(ln for ln in listed.output.splitlines() if "Hữu Lũng" in ln)
    cells = [cell.strip() for cell in line.split("│")]
    assert cells[3:5] == ["10/10/2025", "11/10/2025"], line  # due, sent


def test_the_collection_api_writes_every_instant_with_its_offset(
        session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    province = build_province(session)
    submission = _sent_at(session, province, SENT)
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    login(client, office.username, password)
    query = {"data_set": "CCHC_QUY", "period": "2025Q3"}
    listed = client.get("/api/collection/submissions", params=query).json()
    sent = [s["submitted_at"] for s in listed["submissions"] if s["submitted_at"]]
    history = client.get(f"/api/collection/submissions/{submission.id}/history").json()
    card = client.get("/api/collection/quality", params=query).json()
    scored = [u["submitted_at"] for u in card["units"] if u["submitted_at"]]
    written = [*sent, *(e["at"] for e in history), *scored]
    assert len(written) == 3, written
    for text in written:
        # A client reads "2025-10-10T23:30:00" as its own local time: 7 hours off.
        assert dt.datetime.fromisoformat(text).tzinfo is not None, text
        assert dt.datetime.fromisoformat(text) == SENT, text


def test_the_notifications_api_writes_its_instants_with_their_offset(
        session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    from chiso.notify.service import notify

    province = build_province(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    notify(session, recipients=[office], event_key="test:offset", subject="Thử", body="Thử",
           email_now=False)
    session.commit()
    login(client, office.username, password)
    items = client.get("/api/notifications").json()["items"]
    assert items and all(dt.datetime.fromisoformat(n["created_at"]).tzinfo for n in items), \
        items


def test_the_report_counts_days_late_in_vietnam_days(session) -> None:  # type: ignore[no-untyped-def]
    """Due 10/10, sent at 05:00 on 12/10 in Vietnam (22:00 on 11/10 in UTC): two days late
    on the review page, and in the committee's report."""
    province = build_province(session)
    submission = _sent_at(session, province, dt.datetime(2025, 10, 11, 22, 0, tzinfo=dt.UTC))
    assert review.late_days(submission) == 2
    gaps = reporting_gaps(session, [province.world.commune_b.id], _year_2025_known_now())
    late = [entry for gap in gaps for entry in gap.late]
    assert late == [("Xã Hữu Lũng", "2025Q3", 2)], late


def _imported(session: Session, province: Province, complete: str) -> None:
    document = {"dataSet": "CCHC_QUY", "period": "2025Q3",
                "orgUnit": province.world.commune_b.code, "completeDate": complete,
                "dataValues": [
                    {"dataElement": "CQS.HS_DUNG_HAN", "categoryOptionCombo": "NUMERATOR",
                     "value": "45"},
                    {"dataElement": "CQS.HS_DUNG_HAN", "categoryOptionCombo": "DENOMINATOR",
                     "value": "50"}]}
    done = dhis2.import_body(session, json.dumps(document).encode(), "json",
                             options=dhis2.ImportOptions(dry_run=False),
                             access=Access.system(session, "test"))
    session.commit()
    assert done.status == "SUCCESS", done


def test_a_report_completed_in_dhis2_on_time_is_on_time_in_the_committee_report(
        session) -> None:  # type: ignore[no-untyped-def]
    """Completed in DHIS2 on 03/10/2025 (due 10/10/2025), imported now, months later: the
    scorecard says on time, and so does the report; a report drawn with a cut-off before
    the import still does not know of it."""
    province = build_province(session)
    _imported(session, province, "2025-10-03")
    card = quality.scorecard(session, province.data_set, "2025Q3", as_of=dt.date(2025, 12, 31))
    mine = next(u for u in card.units if u.unit_id == province.world.commune_b.id)
    assert mine.on_time is True and mine.late_days == 0
    unit = [province.world.commune_b.id]
    gaps = reporting_gaps(session, unit, _year_2025_known_now())
    assert [entry for gap in gaps for entry in gap.late] == []
    before = Cutoff(dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 12, 31),
                    dt.date(2025, 12, 31), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                    False)
    missing = [gap.missing for gap in reporting_gaps(session, unit, before)]
    assert missing == [{"Xã Hữu Lũng": gaps[0].missing.get("Xã Hữu Lũng", 0) + 1}], missing


def test_a_report_completed_in_dhis2_after_its_due_day_stays_late(session) -> None:  # type: ignore[no-untyped-def]
    province = build_province(session)
    _imported(session, province, "2025-10-13")
    gaps = reporting_gaps(session, [province.world.commune_b.id], _year_2025_known_now())
    assert [entry for gap in gaps for entry in gap.late] == [("Xã Hữu Lũng", "2025Q3", 3)]


def test_the_extract_page_dates_a_document_on_its_day_in_vietnam(
        session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    from extract_support import prepared

    from chiso.extract import service as extract

    province = prepared(session)
    document = extract.propose(session, access=Access.system(session, "test"),
                               pasted="Kế hoạch chuyển đổi số. Tỷ lệ hồ sơ trực tuyến đạt 80%.",
                               unit_code="20")
    document.created_at = SENT
    session.commit()
    officer, password = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    login(client, officer.username, password)
    page = client.get("/extract").text
    line = page[page.find(document.filename):][:300]
    assert f"{document.filename} · system:test · 11/10/2025<" in line, line


def test_the_audit_api_writes_its_instants_with_their_offset(
        session, client, make_user) -> None:  # type: ignore[no-untyped-def]
    province = build_province(session)
    _sent_at(session, province, SENT)  # a submission: an audited change
    admin, password = make_user(Role.ADMIN)
    login(client, admin.username, password)
    events = client.get("/api/audit").json()["events"]
    assert events
    for event in events:
        assert dt.datetime.fromisoformat(event["at"]).tzinfo is not None, event["at"]


def test_the_batches_command_gives_a_batchs_time_in_vietnam(session) -> None:  # type: ignore[no-untyped-def]
    from chiso.records.models import RecordBatch

    build_province(session)
    batch = RecordBatch(source="test", file_name="mot-cua.csv", status="done",
                        started_at=SENT)
    session.add(batch)
    session.commit()
    listed = CliRunner().invoke(app, ["records", "batches"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if "mot-cua.csv" in line)
    assert "11/10/2025 06:30" in line, line

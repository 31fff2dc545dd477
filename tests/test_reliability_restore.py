"""A backup holds the whole installation (issue 12, H6 and M6).

`chiso backup` → `chiso restore` onto an EMPTY data directory and an empty database gives a
second installation that answers exactly as the first: the dashboard's figures, the records
store's figures, every evidence download (reporting cycle, DTI, tasks) byte for byte — and
the next one-stop batch computes the same month as it does on the original (it recomputed
a month from an empty store when only the database was kept). A damaged archive changes
nothing. A server that keeps running through a restore serves the restored figures, not
the memoised ones from before.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.cli.main import app as cli
from chiso.collection.capture import save_evidence
from chiso.db import reset_engines
from chiso.dti import assessment as dti_workspace
from chiso.dti import service as dti_service
from chiso.dti.models import DtiEvidence
from chiso.indicators.models import Indicator
from chiso.plans.models import Plan, Target
from chiso.settings import reset_settings_cache
from chiso.tasks.models import TaskEvidence
from chiso.tasks.service import EvidenceFile, create_task, update_progress
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import serve_process
from tests.conftest import _pg_create_database, _pg_drop_database, login, submit
from tests.records_support import august_records, make_world, post_batch, record, write_csv

PASSWORD_OF: dict[str, str] = {}


def _system(session):  # type: ignore[no-untyped-def]
    return Access.system(session, "test")


def _add_target(session, units) -> None:  # type: ignore[no-untyped-def]
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    plan = Plan(code="72-KH/BCĐ", title="Kế hoạch chuyển đổi số 2025", year_from=2025,
                year_to=2025, scope_unit_id=units["20"].id)
    session.add(plan)
    session.flush()
    session.add(Target(plan_id=plan.id, indicator_id=online.id, unit_id=units["20"].id,
                       year=2025, target_date=dt.date(2025, 12, 31), comparator=">=",
                       value=80.0))


def _add_evidence(session, units) -> list[str]:  # type: ignore[no-untyped-def]
    """One evidence file of each kind chiso keeps; returns their download paths."""
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    kept = save_evidence(session, unit=units["06200"], indicator=online, period="202508",
                         file_name="bien-ban-thang-8.pdf", content=b"%PDF-1.7 bien ban 8",
                         access=_system(session))
    dti_service.load_shipped_frameworks(session)
    framework = dti_service.get_framework(session, "VIDU_SO_NGANH")
    opened = dti_workspace.open_assessment(session, framework, 2025, "20",
                                           access=_system(session))
    dti_workspace.add_evidence(session, opened.criteria[0], "ke-hoach-cds.docx",
                               b"PK\x03\x04 ke hoach", access=_system(session))
    task = create_task(session, title="Số hoá hồ sơ một cửa", lead_unit_id=units["06200"].id,
                       due_date=dt.date(2025, 12, 31), access=_system(session))
    update_progress(session, task_id=task.id, progress_pct=40, note="Đã số hoá 40 %",
                    files=[EvidenceFile("anh-chup.png", b"\x89PNG\r\n\x1a\n anh")],
                    access=_system(session))
    session.flush()
    dti_id = session.scalar(select(DtiEvidence.id))
    task_evidence = session.scalar(select(TaskEvidence.id))
    return [f"/collection/evidence/{kept.id}", f"/dti/evidence/{dti_id}",
            f"/tasks/evidence/{task_evidence}"]


@pytest.fixture
def installation(session, db_url: str, tmp_path: Path, make_user, monkeypatch
                 ) -> dict[str, Any]:
    monkeypatch.setenv("CHISO_TODAY", "2025-10-15")
    reset_settings_cache()
    reset_all_windows()
    units = make_world(session, tmp_path)
    _add_target(session, units)
    evidence = _add_evidence(session, units)
    session.commit()
    admin, password = make_user(Role.ADMIN, username="quan-tri")
    PASSWORD_OF["quan-tri"] = password
    return {"units": units, "evidence": evidence, "admin": admin}


@contextmanager
def signed_in() -> Iterator[TestClient]:
    """The administrator in the installation the settings point at now."""
    from chiso.web.app import create_app

    with TestClient(create_app()) as client:
        login(client, "quan-tri", PASSWORD_OF["quan-tri"])
        yield client


CSRF = re.compile(r'name="csrf_token" value="[^"]*"|name="csrf-token" content="[^"]*"')


def observe(client: TestClient, evidence: list[str]) -> dict[str, Any]:
    """What people see: the status figures, the records figures, the overview page, and
    each evidence download."""
    records = client.get("/api/records/units/20/indicators?year=2025").json()
    seen: dict[str, Any] = {
        "status": client.get("/api/status?unit=20&year=2025").json(),
        # (the API lists a unit's figures in no promised order)
        "records": sorted(records["values"], key=lambda v: (v["month"], v["indicator_code"])),
        "overview": CSRF.sub("", client.get("/units/20/overview?year=2025").text),
    }
    for path in evidence:
        answer = client.get(path)
        seen[path] = (answer.status_code, answer.content)
    return seen


def september_batch() -> list[dict[str, str]]:
    """The next day's feed: a new September dossier, and D4 of August finished late."""
    return [
        record("D7", "P1", "06200", "2025-09-02 08:00", "Trực tuyến", level="toàn trình"),
        record("D4", "P1", "06200", "2025-08-07 14:00", "trực tiếp", level="toàn trình",
               status="da_tra_ket_qua", due="2025-08-10 17:00", finished="2025-09-03 10:00",
               updated="2025-09-03 10:00"),
    ]


@pytest.fixture
def empty_machine(db_url: str, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """Another database, empty (not even migrated), and an empty data directory."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'machine-2' / 'chiso.sqlite'}"
    else:
        url = _pg_create_database()
    yield url
    reset_engines()
    if url.startswith("postgresql"):
        _pg_drop_database(url)


def _switch_to(monkeypatch, url: str, data_dir: Path) -> None:
    monkeypatch.setenv("CHISO_DATABASE_URL", url)
    monkeypatch.setenv("CHISO_DATA_DIR", str(data_dir))
    reset_settings_cache()
    reset_engines()
    reset_all_windows()


@pytest.mark.slow
def test_restore_onto_an_empty_machine_answers_the_same(installation, empty_machine: str,
                                                        tmp_path: Path, monkeypatch) -> None:
    evidence = installation["evidence"]
    with signed_in() as client:
        assert post_batch(client, august_records()).status_code == 201
        before = observe(client, evidence)
    assert before["status"]["targets"] and all(code == 200 for code, _ in (
        before[path] for path in evidence))
    archive = tmp_path / "chiso-backup.tar"
    made = CliRunner().invoke(cli, ["backup", str(archive)])
    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as packed:
        names = packed.getnames()
    assert "manifest.json" in names and any(n.startswith("data/records/") for n in names)
    assert any(n.startswith("data/files/") for n in names)
    with signed_in() as client:  # the original installation carries on
        assert post_batch(client, september_batch()).status_code == 201
        original_next = observe(client, evidence)
    assert original_next["records"] != before["records"]

    machine_two = tmp_path / "machine-2" / "data"
    _switch_to(monkeypatch, empty_machine, machine_two)
    assert not machine_two.exists()
    restored = CliRunner().invoke(cli, ["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    with signed_in() as client:
        assert observe(client, evidence) == before
        assert post_batch(client, september_batch()).status_code == 201
        assert observe(client, evidence) == original_next


def test_a_damaged_archive_restores_nothing(installation, tmp_path: Path, db_url: str
                                            ) -> None:
    from tests.test_reliability_backup import snapshot

    archive = tmp_path / "good.tar"
    assert CliRunner().invoke(cli, ["backup", str(archive)]).exit_code == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            content = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("data/files/"):
                content = content.replace(b"bien ban", b"BIEN BAN")  # one file altered
            member.size = len(content)
            target.addfile(member, io.BytesIO(content))
    before = snapshot(db_url)
    files_before = sorted(p for p in Path(tmp_path / "data").rglob("*") if p.is_file())
    checked = CliRunner().invoke(cli, ["restore", str(damaged), "--check"])
    assert checked.exit_code == 1 and "manifest" in checked.output
    refused = CliRunner().invoke(cli, ["restore", str(damaged), "--yes"])
    assert refused.exit_code == 1 and "không khớp" in refused.output
    assert snapshot(db_url) == before
    assert sorted(p for p in Path(tmp_path / "data").rglob("*") if p.is_file()) == files_before
    assert CliRunner().invoke(cli, ["restore", str(archive), "--check"]).exit_code == 0


def _changed_from(client: httpx.Client, before: dict[str, Any]) -> dict[str, Any]:
    """/api/status once it shows a write: a dashboard reader may be served an answer up to
    a second old (chiso.analytics.cache, bounded staleness), never a restore's."""
    for _ in range(40):
        now = client.get("/api/status?unit=20&year=2025").json()
        if now != before:
            return now  # type: ignore[no-any-return]
        time.sleep(0.25)
    raise AssertionError("the write never showed")


@pytest.mark.slow
def test_a_running_server_serves_restored_figures(installation, tmp_path: Path) -> None:
    """M6: the server's memo saw the September figures; after a restore to the August
    backup its very next answer has the August figures again, without a restart."""
    archive = tmp_path / "august.tar"
    process, base = serve_process()
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            assert submit(client, "/login", {"username": "quan-tri", "password":
                                             PASSWORD_OF["quan-tri"]}).status_code in (200, 303)
            token = client.get("/account/password").text.split(
                'name="csrf_token" value="', 1)[1].split('"', 1)[0]

            def batch(rows: list[dict[str, str]]) -> None:
                answer = client.post("/api/records/batches", json={"records": rows},
                                     headers={"X-CSRF-Token": token})
                assert answer.status_code == 201, answer.text

            batch(august_records())
            august = client.get("/api/status?unit=20&year=2025").json()
            assert CliRunner().invoke(cli, ["backup", str(archive)]).exit_code == 0
            batch(september_batch())
            _changed_from(client, august)  # the memo now holds September's answer
            restored = CliRunner().invoke(cli, ["restore", str(archive), "--yes"])
            assert restored.exit_code == 0, restored.output
            assert client.get("/api/status?unit=20&year=2025").json() == august
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)


def test_a_missing_evidence_file_is_a_404_that_names_it(installation, tmp_path: Path) -> None:
    """A file lost from the store (a restore without files, a disk mishap) is the reader's
    404 naming it — for every kind of evidence — not a 500."""
    for stored in (tmp_path / "data").rglob("*"):
        if stored.is_file() and "files" in stored.parts:
            stored.unlink()
    with signed_in() as client:
        for path, name in zip(installation["evidence"], ("bien-ban-thang-8.pdf",
                                                         "ke-hoach-cds.docx", "anh-chup.png"),
                              strict=True):
            page = client.get(path)
            assert page.status_code == 404, (path, page.status_code)
            assert name in page.text and "không còn trong kho" in page.text, path


def _october(rows_status: str = "dang_xu_ly", finished: str = "") -> list[dict[str, str]]:
    return [record("D8", "P1", "06200", "2025-10-01 08:00", "Trực tuyến", level="toàn trình",
                   status=rows_status, due="2025-10-05 17:00", finished=finished,
                   updated=finished or "2025-10-01 08:00")]


def _october_dossiers(client: httpx.Client) -> set[float | None]:
    values = client.get("/api/records/units/06200/indicators?year=2025").json()["values"]
    return {v["denominator"] for v in values
            if v["period"] == "202510" and v["indicator_code"] == "CQS.HS_TRUC_TUYEN"}


@pytest.mark.slow
def test_a_running_servers_records_index_follows_a_restore(installation, tmp_path: Path
                                                           ) -> None:
    """The records key index of a server that keeps running through a restore is rebuilt
    for the restored store: a dossier stored after the restore by another process, under a
    batch number the restored database handed out again, is found when it is re-sent (the
    index still held the pre-restore batch of that number: the dossier was counted twice
    until the server was restarted)."""
    with signed_in() as client:  # August is stored before the server starts
        assert post_batch(client, august_records()).status_code == 201
    archive = tmp_path / "august.tar"
    process, base = serve_process()  # its key index is built from August at start
    try:
        with httpx.Client(base_url=base, timeout=60) as server:
            assert submit(server, "/login", {"username": "quan-tri", "password":
                                             PASSWORD_OF["quan-tri"]}).status_code in (200, 303)
            token = server.get("/account/password").text.split(
                'name="csrf_token" value="', 1)[1].split('"', 1)[0]
            assert CliRunner().invoke(cli, ["backup", str(archive)]).exit_code == 0

            def batch(rows: list[dict[str, str]]) -> None:
                answer = server.post("/api/records/batches", json={"records": rows},
                                     headers={"X-CSRF-Token": token})
                assert answer.status_code == 201, answer.text

            batch(september_batch())  # batch 2 on this server: D7 in September
            restored = CliRunner().invoke(cli, ["restore", str(archive), "--yes"])
            assert restored.exit_code == 0, restored.output
            # Another process stores October's D8: batch 2 again in the restored database.
            ingested = subprocess.run(
                [str(Path(sys.executable).with_name("chiso")), "records", "ingest",
                 str(write_csv(tmp_path / "october.csv", _october()))],
                capture_output=True, text=True, timeout=300)
            assert ingested.returncode == 0, ingested.stderr[-2000:]
            assert _october_dossiers(server) == {1}
            batch(_october("da_tra_ket_qua", "2025-10-03 10:00"))  # D8 finished, re-sent
            assert _october_dossiers(server) == {1}  # the same dossier, not a second one
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)

"""Extraction as an officer meets it: a document read into proposals, each accepted, edited
or rejected, and what is accepted written by the plans, values and tasks services with the
audit naming the document; bad files refused with a clear message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.errors import UserError
from chiso.extract import service
from chiso.extract.cli import register
from chiso.extract.reading import ocr_available, read_document
from chiso.extract.spelled import parse_spelled_number
from chiso.plans.models import Plan, Target
from chiso.tasks.models import Task
from chiso.values.models import DataValue
from tests.conftest import IN_CI
from tests.extract_support import DATA, PLAN_PARAGRAPHS, prepared, write_docx

cli_app = typer.Typer()
register(cli_app)  # `chiso extract`, as chiso.cli.registry registers it
cli_app.command("version", hidden=True)(lambda: None)  # keeps 'extract' a named command
SEEDS = sorted((DATA / "tuning").glob("seed_*.txt"))


@pytest.mark.parametrize("seed", SEEDS, ids=[s.stem for s in SEEDS])
def test_chiso_extract_lists_each_seed_article(seed: Path, db_url: str) -> None:
    result = CliRunner().invoke(cli_app, ["extract", str(seed)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for heading in ("Chỉ tiêu / targets", "Kết quả / achieved values", "Xếp hạng / ranks",
                    "Nhiệm vụ / tasks"):
        assert heading in result.output


def test_the_plan_article_lists_its_targets_and_the_meeting_its_ranks_and_task(db_url: str
                                                                               ) -> None:
    plan = CliRunner().invoke(cli_app, ["extract", str(DATA / "tuning/seed_002.txt"),
                                        "--json"])
    proposals = __import__("json").loads(plan.output)["proposals"]
    targets = {p["fields"]["indicator_code"]: p["fields"]["value"] for p in proposals
               if p["kind"] == "target"}
    assert targets["CQS.DVCTT_PHAT_SINH_HS"] == 85 and targets["CQS.HS_TRUC_TUYEN"] == 70
    meeting = __import__("json").loads(CliRunner().invoke(
        cli_app, ["extract", str(DATA / "tuning/seed_000.txt"), "--json"]).output)
    ranks = [(p["fields"]["rank"], p["fields"]["total"], p["fields"]["year"])
             for p in meeting["proposals"] if p["kind"] == "rank"]
    assert ranks == [(16, 63, 2021), (8, 63, 2021)]


def test_numbers_written_in_words() -> None:
    assert parse_spelled_number("mười lăm").value == 15
    spelled = parse_spelled_number("một trăm phần trăm")
    assert spelled is not None and spelled.value == 100 and spelled.percent
    assert parse_spelled_number("hai mươi mốt").value == 21
    assert parse_spelled_number("năm học") is None


def test_accept_edit_reject_write_through_the_services_and_the_audit_names_the_document(
        session, tmp_path: Path) -> None:
    prepared(session)
    path = write_docx(tmp_path / "ke-hoach-90.docx", PLAN_PARAGRAPHS)
    access = Access.system(session, "test-officer")
    document = service.propose(session, access=access, data=path.read_bytes(),
                               filename=path.name)
    session.commit()
    assert document.meta["code"] == "90-KH/BCĐ" and document.meta["date"] == "2026-01-15"
    assert session.scalar(select(Target.id)) is None  # nothing stored before review
    proposals = {p.fields.get("indicator_code") or p.kind: p
                 for p in service.proposals_of(session, document.id)}
    service.accept(session, proposal_id=proposals["CQS.HS_TRUC_TUYEN"].id, access=access)
    service.accept(session, proposal_id=proposals["XHS.HO_CAP_QUANG"].id, access=access,
                   changes={"value": "87,5"})
    service.reject(session, proposal_id=proposals["KTS.HOA_DON_DT"].id, access=access)
    task = service.accept(session, proposal_id=proposals["task"].id, access=access)
    session.commit()

    plan = session.scalar(select(Plan).where(Plan.code == "90-KH/BCĐ"))
    assert plan is not None and plan.year_from == 2026
    stored = {t.value for t in session.scalars(select(Target).where(Target.plan_id == plan.id))}
    assert stored == {80.0, 87.5}
    lead = session.get(Task, task.result_id)
    assert lead is not None and lead.due_date.isoformat() == "2026-06-30"
    events = list(session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "extract_proposal").order_by(AuditEvent.id)))
    assert [(e.action, e.after["decision"]) for e in events] == [
        ("extract.accept", "accepted"), ("extract.accept", "edited"),
        ("extract.reject", "rejected"), ("extract.accept", "accepted")]
    assert all(e.after["filename"] == "ke-hoach-90.docx" and e.actor_label for e in events)
    with pytest.raises(UserError):  # decided once only
        service.accept(session, proposal_id=proposals["KTS.HOA_DON_DT"].id, access=access)


def test_an_accepted_value_is_saved_as_a_figure_of_the_province(session) -> None:
    prepared(session)
    access = Access.system(session, "test-officer")
    document = service.propose(session, access=access, pasted=(
        "Năm 2024, tỉnh Lạng Sơn: tỷ lệ hộ gia đình có cáp quang đạt 76,6%."))
    (proposal,) = service.proposals_of(session, document.id)
    assert proposal.kind == "value" and proposal.fields["period"] == "2024"
    service.accept(session, proposal_id=proposal.id, access=access)
    session.commit()
    value = session.scalar(select(DataValue))
    assert value is not None and value.value == pytest.approx(76.6) and value.period == "2024"


def test_bad_input_gets_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(UserError) as empty:
        read_document(b"", "trong.txt")
    assert "trống" in empty.value.message_vi and "empty" in empty.value.message_en
    with pytest.raises(UserError) as unknown:
        read_document(b"abc", "bang.xlsx")
    assert unknown.value.status == 415


def _image_only_pdf(path: Path) -> Path:
    import pypdfium2 as pdfium
    from PIL import Image

    image = Image.new("RGB", (400, 300), "white")
    image.save(path, "PDF")
    assert len(pdfium.PdfDocument(str(path))) == 1
    return path


def test_a_scanned_pdf_without_ocr_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    # A server without tesseract: nothing named tesseract on the PATH.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert not ocr_available()
    pdf = _image_only_pdf(tmp_path / "ban-quet.pdf")
    with pytest.raises(UserError) as refused:
        read_document(pdf.read_bytes(), pdf.name)
    assert "tesseract-ocr-vie" in refused.value.message_vi
    assert "no text layer" in refused.value.message_en


def _scanned_sentence_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF that is only a picture of printed Vietnamese lines (a scan)."""
    from PIL import Image, ImageDraw, ImageFont

    font_path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font_path.exists():
        pytest.skip("fonts-dejavu-core is not installed (CI installs it)")
    font = ImageFont.truetype(str(font_path), 34)
    image = Image.new("RGB", (1700, 120 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + 70 * i), line, fill="black", font=font)
    image.save(path, "PDF", resolution=200)
    return path


def test_a_scanned_pdf_is_read_by_ocr(tmp_path: Path) -> None:
    if not ocr_available():
        if IN_CI:
            pytest.fail("CI installs tesseract-ocr-vie: the OCR path must run there")
        pytest.skip("tesseract-ocr-vie is not installed here")
    pdf = _scanned_sentence_pdf(tmp_path / "bao-cao-quet.pdf", [
        "Tỷ lệ hộ gia đình có cáp quang đạt 76,6%.",
        "Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến đạt 50%.",
    ])
    read = read_document(pdf.read_bytes(), pdf.name)
    assert read.kind == "pdf-ocr"
    assert "cáp quang" in read.text and "76,6" in read.text
    assert any("OCR" in note for note in read.notes)


def test_a_200_page_document_is_read_in_under_a_minute(tmp_path: Path, db_url: str) -> None:
    path = write_docx(tmp_path / "dai.docx", PLAN_PARAGRAPHS, page_breaks=199)
    began = time.perf_counter()
    result = CliRunner().invoke(cli_app, ["extract", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - began < 60
    assert read_document(path.read_bytes(), path.name).pages == 200

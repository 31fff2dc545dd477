"""The PDF LibreOffice makes from the DOCX says everything the DOCX says, numbers its pages
as the decree wants (none on page 1, then 2, 3 …) and, for illustrative figures, carries
the illustrative line on every page."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy.orm import Session

from chiso.reports.service import generate_report
from tests.conftest import IN_CI
from tests.tasks_support import CLOSING, _value, add_values, build_world, system

ILLUSTRATIVE = "SỐ LIỆU MINH HỌA — KHÔNG PHẢI SỐ LIỆU CHÍNH THỨC"


def _flat(text: str) -> str:
    """Without whitespace or hyphens: a table cell wraps where LibreOffice chooses (even at
    'NV-0001'), and pdftotext drops a hyphen that ends a line."""
    return "".join(text.split()).replace("-", "")


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines()
                     if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           check=True, capture_output=True, text=True).stdout
            for i in range(1, count + 1)]


def _docx_texts(path: Path) -> list[str]:
    """Every paragraph of the body and of every table cell (a cell's lines are paragraphs
    of their own: the two header columns sit side by side, so a PDF reader reads them line
    by line across the page, never one cell after the other)."""
    document = Document(str(path))
    texts = [p.text for p in document.paragraphs]
    texts += [p.text for t in document.tables for r in t.rows for c in r.cells
              for p in c.paragraphs]
    # A gap left for the clerk ("Số        -BC/BCĐ") may be read as two words apart.
    parts = [part for t in texts for part in re.split(r" {3,}", t)]
    return [_flat(t) for t in parts if t.strip()]


@pytest.mark.slow
def test_the_pdf_says_what_the_docx_says_on_numbered_marked_pages(session: Session,
                                                                   tmp_path: Path) -> None:
    missing = [tool for tool in ("soffice", "pdftotext", "pdfinfo") if not shutil.which(tool)]
    if missing:
        if IN_CI:
            raise RuntimeError(f"CI must have {missing} (LibreOffice, poppler-utils)")
        pytest.skip(f"not installed: {missing}")
    w = build_world(session)
    add_values(session, [_value(w.commune_a, w.einvoice, "202509", 70, 100, source="demo")])
    session.commit()
    files = generate_report(session, unit_code="20", kind="quarterly", period="2025Q3",
                            out_dir=tmp_path, today=CLOSING + dt.timedelta(days=1),
                            closing_date=CLOSING, pdf=True, access=system(session))
    assert files.pdf is not None, files.pdf_skipped_reason
    pages = _pages(files.pdf)
    assert len(pages) >= 3
    whole = _flat(" ".join(pages))
    lost = [text for text in _docx_texts(files.docx) if text not in whole]
    assert lost == []
    for number, page in enumerate(pages, start=1):
        assert _flat(ILLUSTRATIVE) in _flat(page), number
        first = page.split()[0]
        assert (first == str(number)) if number > 1 else not first.isdigit()

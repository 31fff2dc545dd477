"""Reading a document into text: DOCX, PDF with a text layer, plain text, or text pasted
into the page; a scanned PDF through OCR when Debian's tesseract-ocr-vie is installed.

Bounded: the upload size (`max_upload_mb`), a DOCX's expanded size (`max_unzipped_mb`,
checked by chiso.ops.archives before python-docx opens it) and `MAX_PAGES` pages. Every
refusal is a bilingual UserError naming the file.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chiso.errors import TooLarge, UnsupportedType, UserError
from chiso.extract.text import normalize_document
from chiso.ops.archives import check_archive
from chiso.settings import get_settings

MAX_PAGES = 500
_MIN_CHARS_PER_PAGE = 20  # less text than this on average: a scan, not a text layer
_OCR_DPI = 300
PageProgress = Callable[[int, int], None]


class DocumentUnreadable(UserError):
    status = 422


@dataclass
class ReadDocument:
    filename: str
    kind: str  # docx, pdf, pdf-ocr, txt, pasted
    text: str
    pages: int
    sha256: str
    size_bytes: int
    notes: list[str] = field(default_factory=list)


def read_document(data: bytes, filename: str,
                  progress: PageProgress | None = None) -> ReadDocument:
    """The text of an uploaded or given file, by its extension."""
    name = Path(filename).name or "document"
    _check_size(data, name)
    suffix = Path(name).suffix.lower()
    readers = {".docx": _read_docx, ".pdf": _read_pdf, ".txt": _read_txt}
    if suffix not in readers:
        raise UnsupportedType(
            f"Tệp '{name}': chỉ đọc được DOCX, PDF hoặc TXT (hoặc dán văn bản vào trang)",
            f"file '{name}': only DOCX, PDF or TXT can be read (or paste the text)")
    kind, text, pages, notes = readers[suffix](data, name, progress)
    return _finished(name, kind, text, pages, data, notes)


def read_pasted(text: str) -> ReadDocument:
    data = text.encode("utf-8")
    _check_size(data, "văn bản dán / pasted text")
    return _finished("văn bản dán / pasted text", "pasted", text, 1, data, [])


def _finished(name: str, kind: str, text: str, pages: int, data: bytes,
              notes: list[str]) -> ReadDocument:
    text = normalize_document(text)
    if not text.strip():
        raise DocumentUnreadable(f"Tệp '{name}' không có chữ nào để đọc",
                                 f"file '{name}' holds no text to read")
    return ReadDocument(name, kind, text, pages, hashlib.sha256(data).hexdigest(), len(data),
                        notes)


def _check_size(data: bytes, name: str) -> None:
    if not data.strip():
        raise DocumentUnreadable(f"Tệp '{name}' trống", f"file '{name}' is empty")
    limit = get_settings().max_upload_mb
    if len(data) > limit * 1024 * 1024:
        raise TooLarge(f"Tệp '{name}' lớn hơn {limit} MB", f"file '{name}' is over {limit} MB")


def _check_pages(name: str, pages: int) -> None:
    if pages > MAX_PAGES:
        raise TooLarge(f"Tệp '{name}' có {pages} trang, tối đa {MAX_PAGES} trang",
                       f"file '{name}' has {pages} pages, at most {MAX_PAGES}")


def _read_txt(data: bytes, name: str, progress: PageProgress | None
              ) -> tuple[str, str, int, list[str]]:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return "txt", text, 1, []
    # Not Unicode: an old TCVN3/VNI file saved as Windows-1252 bytes; converted line by line.
    return "txt", data.decode("cp1252", errors="replace"), 1, [
        "Tệp không phải Unicode: đã đọc như bảng mã cũ (TCVN3/VNI) / not Unicode: read as a "
        "legacy encoding (TCVN3/VNI)"]


def _read_docx(data: bytes, name: str, progress: PageProgress | None
               ) -> tuple[str, str, int, list[str]]:
    import docx  # python-docx: imported here, it is only needed for this format
    from docx.opc.exceptions import PackageNotFoundError

    check_archive(io.BytesIO(data), name)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as error:
        raise DocumentUnreadable(f"Tệp '{name}' không phải DOCX đọc được",
                                 f"file '{name}' is not a readable DOCX") from error
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("; ".join(dict.fromkeys(cell.text.strip() for cell in row.cells)))
    pages = _docx_pages(data, document.element.xml)
    _check_pages(name, pages)
    return "docx", "\n".join(lines), pages, []


def _docx_pages(data: bytes, body_xml: str) -> int:
    """Word records the page count in docProps/app.xml; files written by other programs
    may not, so hard page breaks are counted too, and the larger number is kept."""
    breaks = 1 + body_xml.count('w:type="page"')
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            app = archive.read("docProps/app.xml").decode("utf-8", errors="replace")
        except KeyError:
            return breaks
    stated = re.search(r"<Pages>(\d+)</Pages>", app)
    return max(breaks, int(stated.group(1)) if stated else 0)


def _read_pdf(data: bytes, name: str, progress: PageProgress | None
              ) -> tuple[str, str, int, list[str]]:
    import pypdfium2 as pdfium  # binary wheel, only needed for this format

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise DocumentUnreadable(f"Tệp '{name}' không phải PDF đọc được",
                                 f"file '{name}' is not a readable PDF") from error
    try:
        count = len(pdf)
        _check_pages(name, count)
        texts = []
        for index in range(count):
            page = pdf[index]
            texts.append(page.get_textpage().get_text_range())
            if progress:
                progress(index + 1, count)
        if sum(len(t.strip()) for t in texts) >= _MIN_CHARS_PER_PAGE * max(count, 1) // 2:
            return "pdf", "\n".join(texts), count, []
        return "pdf-ocr", _ocr(pdf, name, progress), count, [
            "Văn bản đọc bằng OCR: hãy kiểm tra kỹ từng số / text read by OCR: check each "
            "figure"]
    finally:
        pdf.close()


def ocr_available() -> bool:
    """Tesseract with its Vietnamese data (Debian: tesseract-ocr-vie)."""
    if shutil.which("tesseract") is None:
        return False
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                            check=False, timeout=30)
    return "vie" in listed.stdout.split()


def _ocr(pdf: object, name: str, progress: PageProgress | None) -> str:
    if not ocr_available():
        raise DocumentUnreadable(
            f"Tệp '{name}' là bản quét (ảnh), không có lớp chữ; máy chủ chưa cài OCR tiếng "
            "Việt (gói tesseract-ocr-vie). Hãy gửi bản DOCX hoặc PDF có chữ, hoặc dán văn bản",
            f"file '{name}' is a scan (images) with no text layer, and Vietnamese OCR "
            "(package tesseract-ocr-vie) is not installed here. Send the DOCX or a PDF with "
            "text, or paste the text")
    pages = list(pdf)  # type: ignore[call-overload]
    texts = []
    for index, page in enumerate(pages):
        image = page.render(scale=_OCR_DPI / 72).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        done = subprocess.run(["tesseract", "stdin", "stdout", "-l", "vie"],
                              input=buffer.getvalue(), capture_output=True, check=False,
                              timeout=120)
        texts.append(done.stdout.decode("utf-8", errors="replace"))
        if progress:
            progress(index + 1, len(pages))
    return "\n".join(texts)

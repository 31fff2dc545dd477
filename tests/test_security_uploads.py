"""Uploads are checked as they stream in, after the sender is known (issue 12, H5 and M3).

An anonymous upload is answered before its body is read; a signed-in officer's file must
have an accepted extension and matching bytes whatever case the Content-Type is written in
and whichever of `filename=` / `filename*=` names it; a zip-based file that expands beyond
the limits (a zip bomb), holds too many cells or malformed XML is refused before any
spreadsheet reader opens it. `test_zip_bomb_leaves_server_memory_flat` sends a 20 MiB bomb
to a real server process and measures its memory.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import time
import zipfile
import zlib
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook

from chiso.accounts.access import Access, Action
from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.settings import reset_settings_cache
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import serve_process
from tests.conftest import login

IMPORT = "/api/values/import"


@pytest.fixture
def officer(client, make_user):  # type: ignore[no-untyped-def]
    reset_all_windows()
    user, password = make_user(Role.ADMIN)
    login(client, user.username, password)
    yield client
    reset_all_windows()


def _file(name: str, content: bytes) -> dict[str, tuple[str, io.BytesIO, str]]:
    return {"file": (name, io.BytesIO(content), "application/octet-stream")}


def _raw_multipart(disposition: str, content: bytes, boundary: str = "chisoB0undary"
                   ) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + (
        f"\r\n--{boundary}--\r\n").encode()


def _xlsx(rows: int = 3) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["ma_don_vi", "chi_tieu", "ky", "gia_tri"])
    for row in range(rows):
        sheet.append(["06187", "CQS.HS_TRUC_TUYEN", "2025Q3", 70 + row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rezip(original: bytes, replace: dict[str, bytes]) -> bytes:
    """The workbook with some parts replaced (a hand-made hostile file)."""
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename,
                                                       source.read(item.filename)))
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')


# ---------------------------------------------------------------- who may upload


def test_anonymous_upload_is_answered_before_its_body(client) -> None:
    api = client.post(IMPORT, files=_file("so-lieu.csv", b"a,b\n"))
    assert api.status_code == 401, api.text
    assert api.json()["status"] == 401 and api.headers["www-authenticate"] == "Bearer"
    page = client.post("/values/import", files=_file("so-lieu.csv", b"a,b\n"),
                       follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_anonymous_large_body_is_refused_unread(client) -> None:
    big = b'{"rows": "' + b"x" * (200 * 1024) + b'"}'
    answer = client.post("/api/values", content=big,
                         headers={"content-type": "application/json"})
    assert answer.status_code == 401, answer.text


# ---------------------------------------------------------------- size, type, rate


def test_upload_size_limit(officer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_MAX_UPLOAD_MB", "1")
    reset_settings_cache()
    big = b"PK\x03\x04" + b"0" * (1024 * 1024 + 10)
    response = officer.post(IMPORT, files=_file("so-lieu.xlsx", big))
    assert response.status_code == 413
    body = response.json()
    assert "tối đa 1 MB" in body["detail"] and body["message_en"].endswith("at most 1 MB")
    page = officer.post("/values/import", files=_file("so-lieu.xlsx", big))
    assert page.status_code == 413 and "Tệp quá lớn" in page.text


@pytest.mark.parametrize(("name", "content"), [
    ("virus.exe", b"MZ\x90\x00"),
    ("so-lieu.xlsx", b"this is not a zip file"),
    ("bao-cao.pdf", b"PK\x03\x04 a zip named pdf"),
    ("so-lieu.csv", b"ma_don_vi,gia_tri\x00\x00\x01binary"),
    ("khong-duoi", b"abc"),
])
def test_upload_type_limit(officer, name: str, content: bytes) -> None:
    response = officer.post(IMPORT, files=_file(name, content))
    assert response.status_code == 415, response.text
    assert name in response.json()["detail"]


def test_accepted_upload_types_reach_the_route(officer) -> None:
    for name, content in (("so-lieu.csv", "mã,giá trị\n06187,76,6%\n".encode()),
                          ("so-lieu.xlsx", _xlsx())):
        response = officer.post(IMPORT, files=_file(name, content))
        assert response.status_code not in (413, 415), (name, response.text)
        assert f"Tệp '{name}'" not in response.text, response.text  # not the guard's words


def test_upload_rate_limit(officer) -> None:
    answers = [officer.post(IMPORT, files=_file("a.exe", b"MZ")).status_code
               for _ in range(122)]
    assert answers[:120] == [415] * 120
    assert answers[-1] == 429


# ---------------------------------------------------------------- the M3 bypasses


def test_mixed_case_content_type_is_still_checked(officer) -> None:
    body = _raw_multipart('form-data; name="file"; filename="virus.exe"', b"MZ\x90\x00")
    answer = officer.post(IMPORT, content=body, headers={
        "content-type": "Multipart/Form-Data; boundary=chisoB0undary"})
    assert answer.status_code == 415, answer.text
    assert "virus.exe" in answer.json()["detail"]


@pytest.mark.parametrize("disposition", [
    # RFC 2231 name first, the one the application reads second: both are checked.
    "form-data; name=\"file\"; filename*=UTF-8''so-lieu.csv; filename=\"virus.exe\"",
    "form-data; name=\"file\"; filename=\"so-lieu.csv\"; filename*=UTF-8''virus.exe",
])
def test_both_filename_forms_are_checked(officer, disposition: str) -> None:
    body = _raw_multipart(disposition, b"MZ\x90\x00binary")
    answer = officer.post(IMPORT, content=body, headers={
        "content-type": "multipart/form-data; boundary=chisoB0undary"})
    assert answer.status_code == 415, answer.text
    assert "virus.exe" in answer.json()["detail"]


def _browser_form(fields: dict[str, str], empty_file: str, content: bytes = b"",
                  boundary: str = "chisoB0undary") -> bytes:
    """A form as a browser posts it with its file field left empty: the file part is
    still sent, with `filename=""` and no content."""
    body = b"".join(
        (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
         f"{value}\r\n").encode() for name, value in fields.items())
    return body + _raw_multipart(f'form-data; name="{empty_file}"; filename=""', content,
                                 boundary)


def test_a_file_field_left_empty_is_no_file(db_url: str, officer) -> None:
    """Pasting text on /extract with no file chosen reads the text (it answered 415
    "Tệp '': loại tệp không được chấp nhận"). A nameless part that does carry bytes is
    still refused."""
    from tests.conftest import form_token
    from tests.extract_support import prepared

    session = new_session(db_url)
    prepared(session)
    session.close()

    pasted = "Kế hoạch năm 2026: tỷ lệ hồ sơ trực tuyến đạt 80%."
    headers = {"content-type": "multipart/form-data; boundary=chisoB0undary"}
    body = _browser_form({"csrf_token": form_token(officer, "/extract"), "pasted": pasted},
                         "file")
    answer = officer.post("/extract", content=body, headers=headers, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/extract/")
    page = officer.get(answer.headers["location"])
    assert page.status_code == 200 and "Tệp ''" not in page.text

    body = _browser_form({"csrf_token": form_token(officer, "/extract"), "pasted": pasted},
                         "file", content=b"MZ\x90\x00binary")
    refused = officer.post("/extract", content=body, headers=headers, follow_redirects=False)
    assert refused.status_code == 415, refused.text
    assert "không có tên" in refused.text


# ---------------------------------------------------------------- zip-based files


def test_zip_bomb_xlsx_is_refused(officer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_MAX_UNZIPPED_MB", "1")
    reset_settings_cache()
    zeros = SHEET_HEAD + b" " * (3 * 1024 * 1024) + b"</sheetData></worksheet>"
    bomb = _rezip(_xlsx(), {SHEET: zeros})
    assert len(bomb) < 20_000  # a few kB that expand to 3 MB
    answer = officer.post(IMPORT, files=_file("so-lieu.xlsx", bomb))
    assert answer.status_code == 413, answer.text
    assert "1 MB" in answer.json()["message_en"] and "decompressed" in answer.text


def test_zip_lying_about_its_size_is_refused(officer) -> None:
    """The central directory says 100 bytes; the data expands to far more."""
    real = SHEET_HEAD + b"<row/>" * 200_000 + b"</sheetData></worksheet>"
    bomb = bytearray(_rezip(_xlsx(), {SHEET: real}))
    entry = bomb.rfind(b"PK\x01\x02", 0, bomb.find(SHEET.encode(), bomb.find(b"PK\x01\x02")))
    bomb[entry + 24:entry + 28] = struct.pack("<I", 100)  # its uncompressed size
    answer = officer.post(IMPORT, files=_file("so-lieu.xlsx", bytes(bomb)))
    assert answer.status_code == 422, answer.text
    assert SHEET in answer.json()["detail"]


def test_too_many_cells_is_refused(officer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_MAX_SPREADSHEET_CELLS", "1000")
    reset_settings_cache()
    answer = officer.post(IMPORT, files=_file("so-lieu.xlsx", _xlsx(rows=300)))
    assert answer.status_code == 413, answer.text
    assert "1,000 cells" in answer.json()["message_en"]
    small = officer.post(IMPORT, files=_file("so-lieu.xlsx", _xlsx(rows=200)))
    assert small.status_code != 413, small.text  # 804 cells


@pytest.mark.parametrize(("part", "broken", "said"), [
    (SHEET, SHEET_HEAD + b"<row><c r='A1'><v>1</v></row>", "not well-formed XML"),
    (SHEET, b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><worksheet>&a;'
            b"</worksheet>", "declares a DTD"),
])
def test_malformed_xlsx_is_a_422_naming_the_part(officer, part: str, broken: bytes,
                                                 said: str) -> None:
    answer = officer.post(IMPORT, files=_file("so-lieu.xlsx", _rezip(_xlsx(), {part: broken})))
    assert answer.status_code == 422, answer.text
    assert part in answer.json()["message_en"] and said in answer.json()["message_en"]
    page = officer.post("/values/import", files=_file("so-lieu.xlsx",
                                                      _rezip(_xlsx(), {part: broken})))
    assert page.status_code == 422 and "xl/worksheets/sheet1.xml" in page.text


# ---------------------------------------------------------------- a real server's memory


def _deflated_zeros(mib: int) -> tuple[bytes, int]:
    """Raw deflate data for `mib` MiB of zeros, made fast: after a full flush the
    compressor starts afresh, so one flushed MiB repeats byte for byte."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert segment == again
    return segment * mib + compressor.flush(), mib << 20


def _zip_of(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A zip written by hand from already-deflated entries (name, data, expanded size)."""
    out, directory = io.BytesIO(), io.BytesIO()
    for name, data, size in entries:
        offset = out.tell()
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(data), size,
                             len(name), 0)
        out.write(header + name.encode() + data)
        directory.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0,
                                    len(data), size, len(name), 0, 0, 0, 0, 0, offset)
                        + name.encode())
    start, count = out.tell(), len(entries)
    out.write(directory.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count,
                          len(directory.getvalue()), start, 0))
    return out.getvalue()


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@pytest.mark.slow
def test_zip_bomb_leaves_server_memory_flat(db_url: str, make_user, tmp_path: Path) -> None:
    """20 MiB of XLSX expanding to 20 GiB, sent to `chiso serve` by a signed-in officer:
    refused, and the server process's peak memory grows by less than 100 MiB."""
    from chiso.accounts.service import create_api_token, find_user

    user, _ = make_user(Role.ADMIN)
    db = new_session(db_url)
    secret, _row = create_api_token(db, access=Access.system(db, "test"),
                                    user=find_user(db, user.username), name="bom",
                                    actions=[Action.READ, Action.CAPTURE])
    db.commit()
    db.close()
    data, size = _deflated_zeros(1000)  # ~1 MiB of data, 1000 MiB once expanded
    bomb = _zip_of([(f"xl/worksheets/sheet{n}.xml", data, size) for n in range(20)])
    liar = _zip_of([(f"xl/worksheets/sheet{n}.xml", data, 1000) for n in range(20)])
    assert 19 << 20 < len(bomb) < 21 << 20
    env = {**os.environ, "CHISO_MAX_UPLOAD_MB": "25"}
    process, base = serve_process(env)
    try:
        before = _rss_kib(process.pid, "VmRSS")
        headers = {"authorization": f"Bearer {secret}"}
        for file, status in ((bomb, 413), (liar, 422)):
            started = time.monotonic()
            answer = httpx.post(base + IMPORT, headers=headers, timeout=120,
                                files=_file("bom.xlsx", file))
            assert answer.status_code == status, answer.text[:500]
            print(f"refused {status} in {time.monotonic() - started:.1f} s")
        peak = _rss_kib(process.pid, "VmHWM")
        print(f"server RSS before {before / 1024:.0f} MiB, peak after {peak / 1024:.0f} MiB")
        assert peak - before < 100 * 1024, (before, peak)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)

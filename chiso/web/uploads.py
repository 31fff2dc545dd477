"""Request bodies and uploaded files, checked as they stream in, in front of every route.

`UploadGuard` is an ASGI middleware, so a domain that adds an upload form gets the limits
without doing anything:
- a body larger than `CHISO_MAX_UPLOAD_MB` is refused (413) — at once when its declared
  length says so, else as soon as the bytes passed prove it; nothing is buffered here;
- a multipart upload, or any large body, is authenticated *before* a byte of it is read:
  an anonymous one is answered like any anonymous request (401, or the sign-in page), so
  strangers cannot make the server receive and store files;
- uploads are rate-limited per signed-in user or token (429, `chiso.web.ratelimit`);
- each uploaded file is checked while it streams through python-multipart's own parser —
  the very parser the application uses next, so both see the same parts, names and
  content type (case-insensitive): its extension must be accepted, its first bytes must
  match it (415), whichever of `filename=` and `filename*=` names it; a zip-based file
  (XLSX, DOCX, ZIP…) is inspected for size, cell count and well-formed XML before the
  application receives its last byte (`chiso.ops.archives`: 413, 422).

A refusal is answered by this middleware; whatever the application had started doing with
the body is dropped. Memory stays bounded: parts are inspected in pieces and a zip part is
spooled to a temporary file (in memory up to 1 MiB) only for its inspection.
"""

from __future__ import annotations

import email.message
import email.utils
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from chiso.accounts.service import resolve_api_token, resolve_session
from chiso.db import session_scope
from chiso.errors import TooLarge, UnsupportedType, UserError
from chiso.ops.archives import ArchiveLimits, check_archive, is_archive_name
from chiso.settings import get_settings
from chiso.web.deps import SESSION_COOKIE, request_locale
from chiso.web.error_pages import login_required_response, user_error_response
from chiso.web.ratelimit import UPLOADS_PER_CLIENT

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# What an anonymous request may send: the sign-in and password forms are a few hundred bytes.
ANONYMOUS_BODY_LIMIT = 64 * 1024
HEAD_BYTES = 8192
SPOOL_IN_MEMORY = 1024 * 1024

ZIP = (b"PK\x03\x04", b"PK\x05\x06")
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
TEXT = ()  # checked for NUL bytes instead of a signature
UPLOAD_TYPES: dict[str, tuple[bytes, ...]] = {
    "csv": TEXT, "tsv": TEXT, "txt": TEXT, "json": TEXT,
    "xlsx": ZIP, "xlsm": ZIP, "ods": ZIP, "docx": ZIP, "odt": ZIP, "pptx": ZIP, "zip": ZIP,
    "xls": OLE, "doc": OLE,
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
}


class TooManyUploads(UserError):
    status = 429


# ---------------------------------------------------------------- one file


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_file_name(filename: str) -> None:
    """Refuse (415) a file whose extension is not accepted."""
    if _extension(filename) not in UPLOAD_TYPES:
        allowed = ", ".join(sorted(UPLOAD_TYPES))
        raise UnsupportedType(
            f"Tệp '{filename}': loại tệp không được chấp nhận (cho phép: {allowed})",
            f"file '{filename}': type not accepted (allowed: {allowed})")


def check_file_start(filename: str, head: bytes) -> None:
    """Refuse (415) a file whose first bytes do not match its extension."""
    extension = _extension(filename)
    signatures = UPLOAD_TYPES[extension]
    if not head:
        return
    looks_right = (b"\x00" not in head) if not signatures else head.startswith(signatures)
    if not looks_right:
        raise UnsupportedType(f"Tệp '{filename}': nội dung không phải tệp .{extension}",
                              f"file '{filename}': the content is not a .{extension} file")


def _file_names(disposition: bytes) -> list[str]:
    """Every name a Content-Disposition gives the file: `filename=` as python-multipart
    (and so the application) reads it, and `filename*=` (RFC 2231) as a browser or a
    library may read it. Each must pass; a part naming no file is a plain field, and so
    is an empty name (`filename=""`: what a browser sends for a file field left empty)."""
    _, options = parse_options_header(disposition)
    names = []
    if b"filename" in options:
        names.append(options[b"filename"].decode("utf-8", "replace"))
    header = email.message.Message()
    header["content-disposition"] = disposition.decode("latin-1")
    for key, value in header.get_params(header="content-disposition") or []:
        if key == "filename":  # `filename*` values arrive decoded under this name too
            names.append(email.utils.collapse_rfc2231_value(value))
    return [name for name in dict.fromkeys(name.strip() for name in names) if name]


def _names_a_file(disposition: bytes) -> bool:
    """Whether the part is a file part at all (`filename` given, even empty)."""
    return b"filename" in parse_options_header(disposition)[1] or b"filename*=" in disposition


@dataclass
class _Part:
    names: list[str] = field(default_factory=list)
    head: bytearray = field(default_factory=bytearray)
    head_checked: bool = False
    spool: Any = None  # a SpooledTemporaryFile for zip-based files
    unnamed: bool = False  # a file part with an empty name: "no file" while it stays empty

    @property
    def is_file(self) -> bool:
        return bool(self.names)


# ---------------------------------------------------------------- the multipart stream


class MultipartCheck:
    """Feeds a multipart body, piece by piece, to python-multipart's parser and checks each
    file part as it goes. `feed` raises the refusal; archives that ended are returned for
    `check_archives` (CPU work, run off the event loop)."""

    def __init__(self, boundary: bytes, limits: ArchiveLimits) -> None:
        self.limits = limits
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._ended: list[_Part] = []
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._begin, "on_part_data": self._data,
            "on_part_end": self._end, "on_header_field": self._header_field,
            "on_header_value": self._header_piece, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
        })

    def feed(self, chunk: bytes) -> list[_Part]:
        self._parser.write(chunk)
        return self._take_archives()

    def finish(self) -> list[_Part]:
        self._parser.finalize()
        return self._take_archives()

    def _take_archives(self) -> list[_Part]:
        ended, self._ended = self._ended, []
        return [part for part in ended if part.spool is not None]

    def _begin(self) -> None:
        self._part = _Part()
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_piece(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_done(self) -> None:
        part = self._part
        part.names = _file_names(self._disposition)
        part.unnamed = not part.names and _names_a_file(self._disposition)
        for name in part.names:
            check_file_name(name)
        if part.is_file and any(is_archive_name(name) for name in part.names):
            # Closed by check_archives once inspected (or by the collector on a refusal).
            part.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.unnamed and end > start:
            raise UnsupportedType("Tệp không có tên: không biết loại tệp",
                                  "a file with no name: its type cannot be known")
        if not part.is_file:
            return
        if not part.head_checked:
            part.head += data[start:end][:HEAD_BYTES - len(part.head)]
            if len(part.head) >= HEAD_BYTES:
                self._check_head(part)
        if part.spool is not None:
            part.spool.write(data[start:end])

    def _end(self) -> None:
        part = self._part
        if part.is_file and not part.head_checked:
            self._check_head(part)
        self._ended.append(part)

    @staticmethod
    def _check_head(part: _Part) -> None:
        part.head_checked = True
        for name in part.names:
            check_file_start(name, bytes(part.head))


def check_archives(parts: list[_Part], limits: ArchiveLimits) -> None:
    for part in parts:
        try:
            part.spool.seek(0)
            check_archive(part.spool, part.names[0], limits)
        finally:
            part.spool.close()


# ---------------------------------------------------------------- the middleware


def _request_client(request: Request) -> str | None:
    """Who sends this request ("user:<id>"), from its token or session cookie; None when
    nobody valid. Reads only (a token's use is noted in memory, see accounts.usage)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    with session_scope() as session:
        if scheme.lower() == "bearer" and secret.strip():
            found_token = resolve_api_token(session, secret.strip())
            return f"user:{found_token[0].id}" if found_token else None
        found = resolve_session(session, request.cookies.get(SESSION_COOKIE))
        return f"user:{found[0].id}" if found else None


class _Refused(Exception):
    """Raised into the application's body reading when the guard refuses the request."""


class UploadGuard:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request.state.locale = request_locale(request)
        try:
            check = await self._admit(request)
        except _Answer as answer:
            await answer.response(scope, receive, send)
            return
        await _GuardedRequest(self.app, scope, receive, send, check).run(request)

    async def _admit(self, request: Request) -> _Stream:
        """What may be read of this body, decided before reading any of it."""
        limit = get_settings().max_upload_mb * 1024 * 1024
        client: str | None = None
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else None
        kind, options = parse_options_header(request.headers.get("content-type", ""))
        multipart = kind == b"multipart/form-data"
        if multipart or size is None or size > ANONYMOUS_BODY_LIMIT:
            client = await run_in_threadpool(_request_client, request)
            if client is None:
                if multipart or (size or 0) > ANONYMOUS_BODY_LIMIT:
                    raise _Answer(login_required_response(request))
                limit = ANONYMOUS_BODY_LIMIT
        if size is not None and size > limit:
            raise _Answer(user_error_response(request, _too_large(limit)))
        if not multipart or b"boundary" not in options:
            return _Stream(limit, None)
        if not UPLOADS_PER_CLIENT.hit(client or ""):
            response = user_error_response(request, TooManyUploads(
                "Quá nhiều lần tải tệp, vui lòng đợi một phút",
                "too many uploads, please wait a minute"))
            response.headers["Retry-After"] = "60"
            raise _Answer(response)
        return _Stream(limit, MultipartCheck(options[b"boundary"], ArchiveLimits.from_settings()))


class _Answer(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


@dataclass
class _Stream:
    limit: int
    check: MultipartCheck | None


class _GuardedRequest:
    """One request passed to the application through a receive channel that counts and
    checks each piece before handing it on."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                 stream: _Stream) -> None:
        self.app, self.scope, self.receive, self.send = app, scope, receive, send
        self.stream = stream
        self.size = 0
        self.ended = False
        self.refusal: UserError | None = None
        self.started = False

    async def run(self, request: Request) -> None:
        try:
            await self.app(self.scope, self._receive, self._send)
        except Exception:
            if self.refusal is None or self.started:
                raise
        if self.refusal is None or self.started:
            return
        if not isinstance(self.refusal, TooLarge) or self.size <= self.stream.limit:
            await self._drain()  # the client is still sending: let it finish, then answer
        response = user_error_response(request, self.refusal)
        await response(self.scope, self.receive, self.send)

    async def _send(self, message: Message) -> None:
        if self.refusal is not None:
            return  # the application's answer to a body it was refused is dropped
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)

    async def _receive(self) -> Message:
        message = await self.receive()
        if message["type"] != "http.request" or self.refusal is not None:
            return message
        try:
            await self._inspect(message)
        except UserError as refusal:
            self.refusal = refusal
            raise _Refused from refusal
        return message

    async def _inspect(self, message: Message) -> None:
        chunk = message.get("body", b"")
        self.size += len(chunk)
        if self.size > self.stream.limit:
            raise _too_large(self.stream.limit)
        self.ended = not message.get("more_body", False)
        check = self.stream.check
        if check is None:
            return
        try:
            archives = check.feed(chunk)
            if self.ended:
                archives += check.finish()
        except (MultipartParseError, ValueError) as exc:
            raise UserError("Dữ liệu tải lên không đúng định dạng multipart",
                            "the upload is not well-formed multipart data",
                            status=400) from exc
        if archives:
            await run_in_threadpool(check_archives, archives, check.limits)

    async def _drain(self) -> None:
        while not self.ended and self.size <= self.stream.limit:
            message = await self.receive()
            if message["type"] != "http.request":
                return
            self.size += len(message.get("body", b""))
            self.ended = not message.get("more_body", False)


def _too_large(limit: int) -> TooLarge:
    mb = limit / (1024 * 1024)
    shown = f"{mb:g}" if mb >= 1 else f"{limit // 1024} KB"
    unit = "" if mb < 1 else " MB"
    return TooLarge(f"Tệp hoặc dữ liệu gửi lên quá lớn: tối đa {shown}{unit}",
                    f"file or request too large: at most {shown}{unit}")

"""Limits that protect every route at once: upload size and type, and request rates.

They sit in front of all domains' routes (an ASGI middleware and a login helper), so a
domain that adds an upload form gets the limits without doing anything.

Rate limits are counted in this process's memory (a sliding window). With several
processes — e.g. two uvicorn workers on PostgreSQL — each keeps its own window, so the
effective limit is N × the configured one; the account lockout, which is stored in the
database, still holds across processes and remains the real defence against guessing.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import Response

from chiso.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SlidingWindow:
    """At most `limit` events per `seconds` for each key, counted in this process."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Record one event; False when the key is over its limit (the event is not kept)."""
        with self._lock:
            events = self._current(key)
            if len(events) >= self.limit:
                return False
            events.append(time.monotonic())
            return True

    def full(self, key: str) -> bool:
        """Whether the key has used its limit, without recording anything."""
        with self._lock:
            return len(self._current(key)) >= self.limit

    def _current(self, key: str) -> deque[float]:
        events = self._events[key]
        while events and events[0] <= time.monotonic() - self.seconds:
            events.popleft()
        return events

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


# Failed sign-ins: per client address and user name, and per address (password spraying
# over many accounts). Successful sign-ins are not counted.
LOGIN_FAILURES_PER_ACCOUNT = SlidingWindow(limit=10, seconds=300)
LOGIN_FAILURES_PER_ADDRESS = SlidingWindow(limit=30, seconds=300)
# Uploads: per browser session or API token (else per address); a person cannot upload
# two files a second, a runaway script can.
UPLOADS_PER_CLIENT = SlidingWindow(limit=120, seconds=60)
RESET_REQUESTS_PER_ADDRESS = SlidingWindow(limit=5, seconds=300)


def login_allowed(address: str, username: str) -> bool:
    return not (LOGIN_FAILURES_PER_ADDRESS.full(address)
                or LOGIN_FAILURES_PER_ACCOUNT.full(f"{address}|{username}"))


def record_login_failure(address: str, username: str) -> None:
    LOGIN_FAILURES_PER_ADDRESS.hit(address)
    LOGIN_FAILURES_PER_ACCOUNT.hit(f"{address}|{username}")


def reset_all_windows() -> None:
    for window in (LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS, UPLOADS_PER_CLIENT,
                   RESET_REQUESTS_PER_ADDRESS):
        window.reset()


# ---------------------------------------------------------------- uploads

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
_FILENAME = re.compile(rb'filename\*?=(?:"([^"]*)"|([^;\r\n]*))', re.IGNORECASE)


class UploadRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def check_file_part(filename: str, content: bytes) -> None:
    """Refuse a file whose extension is not accepted or whose bytes do not match it."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in UPLOAD_TYPES:
        allowed = ", ".join(sorted(UPLOAD_TYPES))
        raise UploadRejected(415, (
            f"Tệp '{filename}': loại tệp không được chấp nhận (cho phép: {allowed}) / "
            f"file '{filename}': type not accepted (allowed: {allowed})"))
    signatures = UPLOAD_TYPES[extension]
    if not content:
        return
    looks_right = (b"\x00" not in content[:8192]) if not signatures else content.startswith(
        signatures)
    if not looks_right:
        raise UploadRejected(415, (
            f"Tệp '{filename}': nội dung không phải tệp .{extension} / "
            f"file '{filename}': the content is not a .{extension} file"))


def check_multipart(body: bytes, content_type: str) -> None:
    boundary = _boundary(content_type)
    if boundary is None:
        return
    for part in body.split(b"--" + boundary):
        headers, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            continue
        match = _FILENAME.search(headers)
        if match is None:
            continue
        name = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace").strip()
        if name:
            check_file_part(name, content.removesuffix(b"\r\n"))


def _boundary(content_type: str) -> bytes | None:
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    return None


class UploadGuard:
    """ASGI middleware: body size limit on every request (413), and for multipart uploads a
    per-address rate limit (429) and an accepted-type check of each file (415)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        try:
            body = await self._read_body(headers, receive)
            content_type = headers.get("content-type", "")
            if content_type.startswith("multipart/form-data"):
                if not UPLOADS_PER_CLIENT.hit(_client_key(scope, headers)):
                    raise UploadRejected(429, "Quá nhiều lần tải tệp, vui lòng đợi một phút / "
                                              "too many uploads, please wait a minute")
                check_multipart(body, content_type)
        except UploadRejected as exc:
            await _refusal(scope, exc)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = get_settings().max_upload_mb * 1024 * 1024
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _client_key(scope: Scope, headers: dict[str, str]) -> str:
    """The browser session or API token making the request, else its address."""
    credentials = headers.get("authorization", "")
    for cookie in headers.get("cookie", "").split(";"):
        name, _, value = cookie.strip().partition("=")
        if name == "chiso_session":
            credentials = credentials or value
    return credentials or (scope.get("client") or ("?", 0))[0]


def _too_large(limit: int) -> UploadRejected:
    mb = limit // (1024 * 1024)
    return UploadRejected(413, f"Tệp quá lớn: tối đa {mb} MB / file too large: at most {mb} MB")


def _replay(body: bytes, original: Receive) -> Receive:
    """Give the app the body already read, then the real channel (to see a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


def _refusal(scope: Scope, exc: UploadRejected) -> Response:
    from starlette.requests import Request

    from chiso.web.app import error_response
    from chiso.web.deps import request_locale

    request = Request(scope)
    request.state.locale = request_locale(request)
    response = error_response(request, exc.status, str(exc))
    if exc.status == 429:
        response.headers["Retry-After"] = "60"
    return response

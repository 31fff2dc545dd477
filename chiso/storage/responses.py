"""Sending a stored file to a browser, from whichever store holds it.

The media type comes from the file's first bytes (chiso/storage/kinds.py), not from the
name a user gave it, so a file named `.html` is never served as a page; it is sent as an
attachment under the name the user knows. A file the store does not hold is a 404 that
names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from fastapi.responses import FileResponse, Response, StreamingResponse

from chiso.storage import service
from chiso.storage.backends import CHUNK
from chiso.storage.kinds import KINDS, OCTET_STREAM, media_type_for, sniff

ZIP_MEDIA = {KINDS[code].media_type for code in ("docx", "xlsx", "pptx", "odt", "ods")}


def file_response(sha256: str, file_name: str, media_type: str | None = None, *,
                  disposition: str = "attachment") -> Response:
    """The stored file `sha256` as a download called `file_name`."""
    path = service.local_path(sha256)
    if path is not None:  # on this disk: ranges and sendfile come with FileResponse
        with path.open("rb") as handle:
            media = media_type or media_of(handle.read(CHUNK), file_name)
        return FileResponse(path, filename=file_name, media_type=media,
                            content_disposition_type=disposition)
    chunks = service.open_file(sha256, file_name)  # MissingFile (404) before any header
    first = next(chunks, b"")
    headers = {"content-disposition": _disposition(disposition, file_name)}
    return StreamingResponse(_again(first, chunks), media_type=media_type or media_of(
        first, file_name), headers=headers)


def media_of(first: bytes, file_name: str) -> str:
    """The media type of a file from its first bytes. A zip-based file whose directory lies
    beyond them reads as a plain zip: then its name says which Office or ODF kind it is."""
    kind = sniff(first, file_name)
    if kind is None:
        return OCTET_STREAM
    named = media_type_for(file_name)
    if kind.code == "zip" and named in ZIP_MEDIA:
        return named
    return kind.media_type


def _again(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _disposition(kind: str, file_name: str) -> str:
    """RFC 6266 with the RFC 5987 form for Vietnamese names (as Starlette writes it)."""
    quoted = quote(file_name)
    if quoted != file_name:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{file_name}"'

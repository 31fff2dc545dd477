"""Static assets served fast on slow provincial links: every URL a page writes carries the
file's content hash (`/static/chiso.css?v=3f2a9c1e`), so a browser keeps it for a year and
asks again only when the file changes; text assets go out gzip-compressed (compressed once
per process and kept), and JSON answers of the API are compressed as they stream.

Pages (text/html) are deliberately NOT compressed: they carry the session's CSRF token and
echo what was typed in a query, the two ingredients of the BREACH attack on compression.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import cache, lru_cache
from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"
YEAR = 365 * 86400
IMMUTABLE = f"public, max-age={YEAR}, immutable"
# Without its hash a URL may change meaning at the next release: ask each time (ETag).
REVALIDATE = "no-cache"
COMPRESSIBLE = (".css", ".js", ".json", ".svg", ".txt", ".map", ".geojson")
SMALLEST_WORTH_COMPRESSING = 1024


@cache
def content_hash(relative: str) -> str:
    """The first 10 hex digits of the file's SHA-256 (files ship in the package: they do not
    change while the process runs)."""
    data = (STATIC_DIR / relative).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def static_url(relative: str) -> str:
    """`/static/<relative>?v=<hash>`: the URL templates write (`{{ static('chiso.css') }}`)."""
    return f"/static/{relative}?v={content_hash(relative)}"


@lru_cache(maxsize=64)
def _compressed(path: str, mtime_ns: int) -> bytes:
    # mtime in the key: a file replaced on disk (development) is compressed again.
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


class CachedStatic(StaticFiles):
    """StaticFiles with cache headers by URL (a hashed URL is immutable) and a gzip copy of
    text assets for browsers that accept it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = (IMMUTABLE if versioned and response.status_code
                                             == 200 else REVALIDATE)
        if response.status_code == 200 and _accepts_gzip(scope):
            return self._gzipped(path, response) or response
        return response

    def _gzipped(self, path: str, response: Response) -> Response | None:
        full, stat = self.lookup_path(path)
        if stat is None or not full.endswith(COMPRESSIBLE) or \
                stat.st_size < SMALLEST_WORTH_COMPRESSING:
            return None
        body = _compressed(os.path.realpath(full), stat.st_mtime_ns)
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-encoding")}
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return Response(body, headers=headers, media_type=response.media_type)


def _accepts_gzip(scope: Scope) -> bool:
    return "gzip" in Headers(scope=scope).get("accept-encoding", "")


class ApiGZip:
    """gzip for `/api/…` answers only (JSON: no CSRF token in them); pages pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=SMALLEST_WORTH_COMPRESSING)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/api/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)

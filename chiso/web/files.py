"""Sending a stored file (evidence, a generated report): a file that is no longer on disk is
a 404 that names it, not a crash. (Starlette's FileResponse raises a RuntimeError when
asked for a missing path, which the app could only answer 500.)"""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

from chiso.errors import NotFound


def stored_file(path: Path, filename: str, media_type: str | None = None) -> FileResponse:
    if not path.is_file():
        raise NotFound(f"Tệp «{filename}» không còn trong kho lưu trữ; đề nghị tải lên lại",
                       f"the file “{filename}” is missing from the store; ask for it to be "
                       "uploaded again")
    return FileResponse(path, filename=filename, media_type=media_type)

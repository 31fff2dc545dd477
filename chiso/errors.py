"""The one error type for people (STYLE §13, like zulip's `JsonableError`).

Anything a user can cause and should be told about — a refused value, an unknown unit, a
stale version, a file that cannot be read — is a `UserError`: an HTTP status, the message in
Vietnamese and in English, and optionally the itemised problems (`issues`, e.g. one per
rejected row). Domains subclass it (`class ValueRejected(UserError)`) and set `status`.

One handler renders it (`chiso/web/app.py`): a page in the reader's language, or for the
API one JSON shape, `ErrorBody` below, documented in OpenAPI. The CLI prints the message
and exits with code 2. Nothing decides a status by looking inside a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field


class UserError(Exception):
    """An error meant for the person who caused it. `str(error)` is "vi / en"."""

    status: ClassVar[int] = 422

    def __init__(self, message_vi: str, message_en: str | None = None, *,
                 issues: Sequence[Any] = (), status: int | None = None,
                 data: dict[str, Any] | None = None) -> None:
        if message_en is None:  # one text already written "vi / en"
            message_vi, _, message_en = message_vi.partition(" / ")
        self.message_vi = message_vi
        self.message_en = message_en or message_vi
        self.issues = list(issues)
        self.data = data or {}
        if status is not None:
            self.status = status  # type: ignore[misc]  # an instance may narrow its class's
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Both languages, Vietnamese first (logs, the CLI, the `detail` field)."""
        if self.message_en == self.message_vi:
            return self.message_vi
        return f"{self.message_vi} / {self.message_en}"

    def in_locale(self, locale: str) -> str:
        return self.message_en if locale == "en" else self.message_vi

    def body(self) -> dict[str, Any]:
        """The JSON an API caller receives (`ErrorBody`)."""
        return {"detail": self.message, "message_vi": self.message_vi,
                "message_en": self.message_en, "status": self.status,
                "issues": [_jsonable_issue(i) for i in self.issues], **self.data}


class NotFound(UserError):
    status = 404


class Conflict(UserError):
    status = 409


class Forbidden(UserError):
    status = 403


class TooLarge(UserError):
    status = 413


class UnsupportedType(UserError):
    status = 415


def _jsonable_issue(issue: Any) -> Any:
    if isinstance(issue, (str, int, float, bool, dict)) or issue is None:
        return issue
    to_dict = getattr(issue, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(issue)


class ErrorBody(BaseModel):
    """Every error answer of the JSON API has this shape."""

    detail: str | list[Any] = Field(description="The message, Vietnamese / English; for a "
                                    "malformed request, the list of refused fields")
    message_vi: str = ""
    message_en: str = ""
    status: int = 0
    issues: list[Any] = Field(default_factory=list,
                              description="Itemised problems, e.g. one per rejected row")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}
"""`responses=` for routers: documents the error shape for the statuses the API uses."""

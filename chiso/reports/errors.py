"""The report's one error type."""

from __future__ import annotations

from chiso.errors import UserError


class ReportError(UserError):
    """A report that cannot be made as asked (422), with a bilingual message."""

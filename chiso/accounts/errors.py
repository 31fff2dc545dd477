"""Refusals about accounts (user errors: each renders with its own status)."""

from __future__ import annotations

from chiso.errors import NotFound, UserError


class AccountError(UserError):
    """A refused request about accounts (422), with a bilingual message."""


class AccountNotFound(AccountError, NotFound):
    """No account with that name (404)."""

"""Moved: numbers are parsed by `chiso.text` (`parse_number`, and `chiso.text.columns` for
whole columns). These names stay importable here for code not yet switched."""

from chiso.text.columns import cell_text, parse_number_columns, parse_number_expr

__all__ = ["cell_text", "parse_number_columns", "parse_number_expr"]

"""Data values (số liệu) with their complete version history, import and export."""

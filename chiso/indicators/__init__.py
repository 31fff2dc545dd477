"""Indicator catalogue (chỉ tiêu / chỉ số) and pillars (trụ cột)."""

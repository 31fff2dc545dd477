"""Scored departments and communes: rubric indices, self and appraised scores with evidence,
progress per criterion, rankings (docs/scoring.md)."""

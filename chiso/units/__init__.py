"""Org units (đơn vị): effective-dated hierarchy with lineage of merges, splits and renames."""

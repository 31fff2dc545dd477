"""Accounts, roles over org units, sessions; the one access layer every route goes through."""

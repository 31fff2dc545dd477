"""Administration pages: users, their roles over units, API tokens."""

"""Storage of the web companion: links, sessions, API tokens (tables in storage/tables/web.py)."""

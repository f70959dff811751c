"""Persistence: SQLModel tables, repositories, migrations and plan importers."""

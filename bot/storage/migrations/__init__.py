"""Alembic migrations of the app database, applied when a Store opens it."""

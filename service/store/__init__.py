"""Persistence: SQLAlchemy ORM, repositories, the inbox/outbox/cursor rows, schema management."""

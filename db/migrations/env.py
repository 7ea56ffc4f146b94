"""Alembic environment: runs on a connection handed over by ``db.migrate`` (async engines)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.models import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters via table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `govhub migrate` (db.migrate.upgrade)")
run_on(connection)

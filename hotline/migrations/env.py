"""Alembic environment: runs on the connection that ``hotline.db.upgrade`` passes in."""

from alembic import context

from hotline.models import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: runs the migrations against the app's database."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Configure logging only when run from the command line, not inside the app or its tests.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the search index (SQLite: an FTS5 table and its shadow tables; PostgreSQL: a table
    with a GIN index; no models) to its migrations.
    """
    return not (type_ == "table" and reflected and name.startswith("article_search"))


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (``flask db upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=db.metadata,
        literal_binds=True,
        **current_app.extensions["migrate"].configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""

    def skip_empty(_context, _revision, directives) -> None:
        # An autogenerate that finds no change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("include_object", include_object)
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

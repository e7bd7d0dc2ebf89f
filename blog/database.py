"""The database connection: SQLite settings, migrations, and the ``init-db`` command."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import click
import flask_migrate
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import event

from blog.config import ROOT
from blog.extensions import db, migrate
from blog.models import UTCDateTime

MIGRATIONS = ROOT / "migrations"


def init_app(app: Flask) -> None:
    """Bind the database and migrations to ``app`` and add ``init-db``."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A pooled connection that a restart of the database server closed is noticed and
        # replaced before use, rather than failing the request that draws it.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {}).setdefault("pool_pre_ping", True)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS), render_as_batch=True, render_item=_render_item
    )
    app.cli.add_command(init_db)


def _render_item(kind: str, item: object, _context: object) -> str | bool:
    """Write our column types as plain SQLAlchemy ones, so migrations never import the app."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _sqlite_pragmas(connection: sqlite3.Connection, _record: object) -> None:
    """Foreign keys on; WAL so readers never wait for a writer; wait, don't fail, when busy.

    synchronous=NORMAL in WAL mode loses no committed transaction on an application crash,
    only possibly the last ones on a power cut, and saves an fsync on every commit.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 15000")
    cursor.close()


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection that reads the database as it was at one moment, while the site goes on
    writing; rolled back at the end.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        else:
            # pysqlite starts no transaction for reads: each query would see another moment.
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def begin_now() -> None:
    """Open the session's transaction now, so that the savepoints taken next lie inside it.

    pysqlite opens SQLite's transaction only before a write, and a SAVEPOINT taken outside one
    starts a transaction of its own that releasing it commits.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    flask_migrate.upgrade(directory=str(MIGRATIONS))
    click.echo("Database is up to date.")

"""``copy-database``: the whole site copied into another, empty database, then checked.

How a newsroom moves house, from SQLite to PostgreSQL (or back, or to another SQLite file).
The target gets its schema from the migrations; then every table of the models, parents
first, is read from one snapshot of the site's database a batch at a time and inserted with
its keys, all in one transaction. The search index is not copied: each database keeps its own
kind (an FTS5 table on SQLite, a table of ``tsvector``s on PostgreSQL, neither among the
models), so it is built again on the target, and PostgreSQL's id sequences continue after the
copied ids. Last, each table is read back from both databases and compared by its row count
and a SHA-256 of its rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import flask_migrate
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from blog.archive import contents_found, continue_sequences
from blog.database import MIGRATIONS, begin_now, snapshot
from blog.extensions import db
from blog.models import Article
from blog.search import backend, reindex_all
from blog.storage import current_media

# Rows read and inserted at a time: memory stays flat however large the site.
BATCH = 1000
SUPPORTED = ("sqlite", "postgresql")
EXAMPLES = "postgresql+psycopg://USER:PASSWORD@HOST/NAME, sqlite:////srv/dateline/dateline.db"
PREFIX = 12  # characters of each checksum printed


def init_app(app: Flask) -> None:
    """Add ``copy-database`` to ``flask``."""
    app.cli.add_command(copy_database)


@click.command("copy-database")
@with_appcontext
@click.option("--to", "to", required=True, metavar="URL", help="An empty database to copy into.")
def copy_database(to: str) -> None:
    """Copy everything in this site's database into the empty database at URL, and check it.

    URL is a SQLAlchemy database URL, as for SQLALCHEMY_DATABASE_URI. Stop the site, or keep
    the newsroom from saving, while it runs: later changes are not in the copy.
    """
    source = db.engine
    url = _target_url(to, source.url)
    shown = url.render_as_string(hide_password=True)
    with _reached(_("cannot read this site's database")), source.connect() as connection:
        _check_revision(_revision(connection), _("this site's database"))
    target = _app_on(url)
    click.echo(_("Copying this site's database into %(url)s…", url=shown))
    with target.app_context(), snapshot(source) as reading:
        try:
            _prepare(shown)
            with _reached(_("cannot copy into %(url)s", url=shown), _("Nothing was copied.")):
                begin_now()
                for table in db.metadata.sorted_tables:
                    _copy(reading, table)
                continue_sequences(db.metadata.sorted_tables)
                reindex_all()  # commits
            different = _verify(reading)
        finally:
            db.session.remove()
            db.engine.dispose()
    if different:
        raise click.ClickException(
            _(
                "the copy in %(url)s differs from this site's database in %(tables)s: do not"
                " use it. Empty that database (or make a new one) and copy again.",
                url=shown,
                tables=", ".join(different),
            )
        )
    click.echo(
        _(
            "The copy matches. Set SQLALCHEMY_DATABASE_URI to %(url)s on the new servers and"
            " start the site there. The media are not in the database: if the new servers use"
            " another MEDIA_DIR, copy %(media)s there too.",
            url=shown,
            media=current_media().folder,
        )
    )


def _target_url(text: str, source: sa.URL) -> sa.URL:
    """``text`` as the URL of a database this command can copy into, other than ``source``."""
    try:
        url = sa.make_url(text)
    except sa.exc.ArgumentError:
        # Not repeated: what cannot be read cannot have its password hidden.
        raise click.ClickException(
            _("--to is not a database URL; write one such as %(examples)s.", examples=EXAMPLES)
        ) from None
    shown = url.render_as_string(hide_password=True)
    kind = url.get_backend_name()
    if kind not in SUPPORTED:
        raise click.ClickException(
            _(
                "%(url)s is a %(kind)s database; copy-database copies into SQLite or PostgreSQL"
                " only, such as %(examples)s.",
                url=shown,
                kind=kind,
                examples=EXAMPLES,
            )
        )
    if kind == "sqlite" and url.database in (None, "", ":memory:"):
        raise click.ClickException(_("%(url)s names no database file.", url=shown))
    if _where(url) == _where(source):
        raise click.ClickException(_("%(url)s is this site's own database.", url=shown))
    return url


def _where(url: sa.URL) -> tuple[Any, ...]:
    """What tells databases apart in ``url``: a file, or a server and a database name."""
    if url.get_backend_name() == "sqlite":
        # A relative file is in instance/, as Flask-SQLAlchemy reads it.
        return ("sqlite", Path(current_app.instance_path, url.database or "").resolve())
    return (url.get_backend_name(), url.host or "localhost", url.port or 5432, url.database)


def _app_on(url: sa.URL) -> Flask:
    """This app made again on the database at ``url``, with every other setting the same."""
    from blog import create_app  # the package imports this module

    settings = {
        **current_app.config,
        "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
    }
    try:
        return create_app(settings)
    except (ImportError, sa.exc.ArgumentError) as error:  # a driver missing or misnamed
        raise click.ClickException(
            _(
                "cannot open %(url)s: %(error)s. Write it such as %(examples)s.",
                url=url.render_as_string(hide_password=True),
                error=error,
                examples=EXAMPLES,
            )
        ) from error


@contextmanager
def _reached(failed: str, then: str = "") -> Iterator[None]:
    """Turn an error of a database into a message, ``failed`` saying what could not be done."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise click.ClickException(f"{failed}: {_reason(error)} {then}".strip()) from error


def _reason(error: sa.exc.DBAPIError) -> str:
    """What the database said, on one line, as a sentence."""
    text = " ".join(str(error.orig).split())
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _revision(connection: sa.Connection) -> str | None:
    """The schema revision of the database behind ``connection``; None before any."""
    return MigrationContext.configure(connection).get_current_revision()


def _check_revision(revision: str | None, what: str) -> None:
    """Refuse a database whose schema is not this version's latest."""
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    if revision not in heads:
        raise click.ClickException(
            _(
                "%(what)s has schema revision %(revision)s, not the latest (%(heads)s): run"
                " `flask --app app init-db` first. Nothing was copied.",
                what=what,
                revision=revision or _("none"),
                heads=", ".join(heads),
            )
        )


def _prepare(shown: str) -> None:
    """Give the target database this version's schema; refuse it, untouched, unless it is
    empty: no tables at all, or this version's tables without a row.
    """
    with _reached(_("cannot connect to %(url)s", url=shown)), db.engine.connect() as connection:
        revision = _revision(connection)
        tables = sa.inspect(connection).get_table_names()
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    if revision not in heads and tables:
        raise click.ClickException(
            _(
                "%(url)s already holds tables (%(tables)s) at schema revision %(revision)s;"
                " copy-database only copies into an empty database. Nothing was copied.",
                url=shown,
                tables=", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else ""),
                revision=revision or _("none"),
            )
        )
    if revision in heads and (found := contents_found(db.metadata.sorted_tables)):
        raise click.ClickException(
            _(
                "%(url)s already holds %(found)s; copy-database only copies into an empty"
                " database. Nothing was copied.",
                url=shown,
                found=found,
            )
        )
    with _reached(_("cannot make the schema in %(url)s", url=shown), _("Nothing was copied.")):
        flask_migrate.upgrade(directory=str(MIGRATIONS))


def _rows(connection: sa.Connection, table: sa.Table) -> sa.Result[Any]:
    """The rows of ``table`` in the order of their keys, read a batch at a time."""
    query = sa.select(table).order_by(*table.primary_key.columns)
    return connection.execute(query.execution_options(yield_per=BATCH))


def _copy(reading: sa.Connection, table: sa.Table) -> None:
    """Insert every row of ``table`` from ``reading`` into the target, a batch at a time."""
    for batch in _rows(reading, table).mappings().partitions():
        rows = [dict(row) for row in batch]
        try:
            with db.session.begin_nested():
                db.session.execute(table.insert(), rows)
        except (sa.exc.IntegrityError, sa.exc.DataError):
            _find_refused(table, rows)
            raise


def _find_refused(table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` one at a time to name the one the target refuses."""
    for row in rows:
        try:
            with db.session.begin_nested():
                db.session.execute(table.insert(), row)
        except (sa.exc.IntegrityError, sa.exc.DataError) as error:
            key = ", ".join(f"{column.name} {row[column.name]}" for column in table.primary_key)
            raise click.ClickException(
                _(
                    "the target refused the row of %(table)s with %(key)s: %(reason)s"
                    " Nothing was copied.",
                    table=table.name,
                    key=key,
                    reason=_reason(error),
                )
            ) from error


def _verify(reading: sa.Connection) -> list[str]:
    """Compare every table and the search index of the target with ``reading``; print a line
    for each, and return the names of the tables that differ.
    """
    tables = db.metadata.sorted_tables
    width = max(len(table.name) for table in tables)
    click.echo(f"{_('table'):<{width}}  {_('rows'):>8}  {_('SHA-256')}")
    different = []
    with db.engine.connect() as written:
        for table in tables:
            (rows, digest), copied = _checksum(reading, table), _checksum(written, table)
            same = (rows, digest) == copied
            counts = f"{rows}" if same else f"{rows}/{copied[0]}"
            digests = digest[:PREFIX] if same else f"{digest[:PREFIX]}/{copied[1][:PREFIX]}"
            verdict = _("ok") if same else _("DIFFERS")
            click.echo(f"{table.name:<{width}}  {counts:>8}  {digests:<{PREFIX}}  {verdict}")
            if not same:
                different.append(table.name)
    indexed, public, found = _search_counts()
    verdict = _("ok") if found == public else _("DIFFERS")
    click.echo(
        _(
            "Search index: %(indexed)s articles, %(found)s of the %(public)s public ones: %(ok)s",
            indexed=indexed,
            found=found,
            public=public,
            ok=verdict,
        )
    )
    if found != public:
        different.append(_("the search index"))
    return different


def _checksum(connection: sa.Connection, table: sa.Table) -> tuple[int, str]:
    """How many rows ``table`` holds and a SHA-256 of them, the same on SQLite and PostgreSQL."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(connection, table):
        line = json.dumps([_plain(value) for value in row], sort_keys=True)
        digest.update(line.encode() + b"\n")
        count += 1
    return count, digest.hexdigest()


def _plain(value: Any) -> Any:
    """``value`` as JSON that both databases agree on: times in UTC, bytes in hex; booleans,
    None, numbers, text and JSON values as they are.
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _search_counts() -> tuple[int, int, int]:
    """The target's search index: its rows, the public articles, and how many of those it holds."""
    index = backend(db.engine)
    public = Article.public().whereclause
    indexed = db.session.scalar(sa.select(sa.func.count()).select_from(index.table))
    total = db.session.scalar(sa.select(sa.func.count()).where(public))
    found = db.session.scalar(
        sa.select(sa.func.count()).where(public, Article.id.in_(sa.select(index.key)))
    )
    return indexed or 0, total or 0, found or 0

"""copy-database: a site copied into an empty database of either kind holds every row and
serves the same pages; a target that is not empty, a bad URL or an unreachable server is
refused with a message and nothing copied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from blog import copying, create_app
from blog.database import MIGRATIONS
from blog.extensions import db
from blog.models import Article, AuditEvent, User, article_tags
from tests.conftest import app_at_revision, every_row, throwaway_postgres
from tests.test_archive import build_site, crawl
from tests.test_search import found

TARGET_PASSWORD = "s3cret-pass"


@pytest.fixture(params=["sqlite_app", "postgres_app"])
def app(request: pytest.FixtureRequest) -> Flask:
    """The site copied from: on SQLite, then on PostgreSQL."""
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database to copy into: a SQLite file, then a PostgreSQL
    database, named with a password (the test server trusts local connections) so that its
    absence from the output can be checked.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'copy.db'}"
        return
    with throwaway_postgres() as url:
        parsed = sa.make_url(url)
        if parsed.password is None:
            parsed = parsed.set(password=TARGET_PASSWORD)
        yield parsed.render_as_string(hide_password=False)


def copy(app: Flask, url: str) -> Any:
    """Run ``copy-database --to url`` on ``app``."""
    return app.test_cli_runner().invoke(args=["copy-database", "--to", url])


@contextmanager
def site_on(app: Flask, url: str) -> Iterator[Flask]:
    """``app`` made again on the database at ``url``."""
    other = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": url})
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


def db_kind(app: Flask) -> str:
    """The kind of database ``app`` runs on."""
    return sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


@pytest.fixture
def copied(app, target, make_user, make_article, monkeypatch) -> Iterator[tuple[Any, Flask]]:
    """A site with a bit of everything copied into ``target`` in batches of three rows: the
    command's result and an app on the copy.
    """
    build_site(app, make_user, make_article)
    monkeypatch.setattr(copying, "BATCH", 3)  # batches end inside every larger table
    result = copy(app, target)
    with site_on(app, target) as other:
        yield result, other


def test_the_copy_holds_every_row_and_each_table_is_checked(app, target, copied):
    result, other = copied

    assert result.exit_code == 0, result.output
    rows = every_row(other)
    assert rows == every_row(app)
    assert rows["articles"] and rows["autosaves"] and rows["audit_events"] and rows["media"]
    for table, found_rows in rows.items():
        line = rf"^{table} +{len(found_rows)}  [0-9a-f]{{{copying.PREFIX}}}  ok$"
        assert re.search(line, result.output, re.M), (table, result.output)
    assert "Search index: 17 articles, 13 of the 13 public ones: ok" in result.output
    assert f"copy {app.config['MEDIA_DIR']} there too" in result.output
    assert TARGET_PASSWORD not in result.output


def test_the_copy_serves_every_reader_page_byte_for_byte(app, target, copied):
    _result, other = copied
    before, after = crawl(app.test_client()), crawl(other.test_client())

    assert sorted(before) == sorted(after)
    assert len(before) > 60 and any(url.startswith("/media/") for url in before)
    same_engine = sa.make_url(target).get_backend_name() == db_kind(app)
    for url, answer in before.items():
        # Each kind of database has its own search engine, which ranks and cuts snippets its
        # own way; what it finds is compared below.
        if same_engine or not url.startswith("/search"):
            assert after[url] == answer, url
    for query in ("café reopens", "harbour", "binned", "tomorrow", "draft"):
        assert sorted(found(other, query)) == sorted(found(app, query)), query
    tides = found(app, "tide") + found(app, "tide", page=2)
    assert sorted(found(other, "tide") + found(other, "tide", page=2)) == sorted(tides)
    assert len(tides) == 12


def test_a_second_copy_is_refused_and_new_rows_on_the_copy_get_fresh_ids(app, target, copied):
    _result, other = copied
    before = every_row(other)

    again = copy(app, target)

    assert again.exit_code == 1
    assert (
        "already holds 3 sections, 3 tags, 4 users, 17 articles, 2 media library items"
        in again.output
    )
    assert "copy-database only copies into an empty database. Nothing was copied." in again.output
    assert every_row(other) == before
    with other.app_context():
        largest = db.session.scalar(sa.select(sa.func.max(Article.id)))
        author = db.session.scalar(sa.select(User).where(User.username == "ada"))
        article = Article(title="New", slug="new", author_id=author.id)
        event = AuditEvent(action="publish", actor_id=author.id)
        db.session.add_all([article, event])
        db.session.commit()
        assert article.id == largest + 1
        assert event.id == db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


def test_a_target_holding_anything_is_refused_and_left_as_it_was(app, target):
    with site_on(app, target) as other:
        with other.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS))
            db.session.add(User(username="zoe", display_name="Zoe", password_hash="x"))
            db.session.commit()

        result = copy(app, target)

        assert result.exit_code == 1
        assert "already holds 1 users; copy-database only copies" in result.output
        assert [user["username"] for user in every_row(other)["users"]] == ["zoe"]


def test_an_older_site_or_another_program_s_tables_are_refused_before_any_migration(app, target):
    with site_on(app, target) as other:
        with other.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS), revision="60b2758ec6a6")
        result = copy(app, target)

        assert result.exit_code == 1
        assert "already holds tables (alembic_version, article_tags, articles, sections," in (
            result.output
        )
        assert "at schema revision 60b2758ec6a6; copy-database only copies" in result.output
        with other.app_context(), db.engine.connect() as connection:
            revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
            tables = set(sa.inspect(connection).get_table_names())
        assert revision == "60b2758ec6a6" and "media" not in tables


def test_tables_of_another_program_are_refused_and_left_alone(app, target):
    with site_on(app, target) as other:
        with other.app_context():
            db.session.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
            db.session.commit()
        result = copy(app, target)

        assert result.exit_code == 1
        assert "already holds tables (invoices) at schema revision none" in result.output
        with other.app_context(), db.engine.connect() as connection:
            assert sa.inspect(connection).get_table_names() == ["invoices"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "--to is not a database URL; write one such as postgresql+psycopg://"),
        ("mysql://ed:s3cret@db/news", "mysql://ed:***@db/news is a mysql database"),
        ("postgresql+nosuchdriver://ed:s3cret@db/news", "cannot open postgresql+nosuchdriver"),
        ("sqlite://", "sqlite:// names no database file"),
    ],
)
def test_a_url_it_cannot_copy_into_is_refused(app, url, message):
    result = copy(app, url)

    assert result.exit_code == 1
    assert message in result.output and "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_the_site_s_own_database_is_refused(app):
    result = copy(app, app.config["SQLALCHEMY_DATABASE_URI"])

    assert result.exit_code == 1 and "is this site's own database" in result.output


def test_a_relative_sqlite_file_is_read_in_instance_as_the_site_reads_it(sqlite_app):
    database = Path(sa.make_url(sqlite_app.config["SQLALCHEMY_DATABASE_URI"]).database)
    sqlite_app.instance_path = str(database.parent)

    result = copy(sqlite_app, f"sqlite:///{database.name}")

    assert result.exit_code == 1 and "is this site's own database" in result.output


def test_an_unreachable_server_is_named_without_its_password(app):
    result = copy(app, f"postgresql+psycopg://ed:{TARGET_PASSWORD}@127.0.0.1:1/news")

    assert result.exit_code == 1
    assert "Error: cannot connect to postgresql+psycopg://ed:***@127.0.0.1:1/news:" in result.output
    assert TARGET_PASSWORD not in result.output and "Traceback" not in result.output


def test_a_site_not_at_the_latest_schema_is_refused(tmp_path):
    old = app_at_revision(tmp_path, "60b2758ec6a6")
    target = tmp_path / "copy.db"

    result = copy(old, f"sqlite:///{target}")

    assert result.exit_code == 1
    assert "schema revision 60b2758ec6a6, not the latest" in result.output
    assert "run `flask --app app init-db` first. Nothing was copied." in result.output
    assert not target.exists()
    with old.app_context():
        db.engine.dispose()


def too_long_title(connection: sa.Connection) -> str:
    """Give the last article a headline longer than its column: SQLite keeps it, PostgreSQL
    refuses it.
    """
    last = connection.scalar(sa.select(sa.func.max(Article.id)))
    connection.execute(sa.update(Article).where(Article.id == last).values(title="x" * 201))
    return f"articles with id {last}: value too long"


def orphan_tag(connection: sa.Connection) -> str:
    """Tag an article that does not exist, as SQLite allows with its foreign keys off."""
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.execute(sa.insert(article_tags).values(article_id=999, tag_id=1))
    return "article_tags with article_id 999, tag_id 1: FOREIGN KEY constraint failed"


@pytest.mark.parametrize("app", ["sqlite_app"], indirect=True)
@pytest.mark.parametrize(
    ("target", "damage"),
    [("postgresql", too_long_title), ("sqlite", orphan_tag)],
    indirect=["target"],
)
def test_a_row_the_target_refuses_is_named_and_nothing_is_copied(
    app, target, damage, make_user, make_article, monkeypatch
):
    build_site(app, make_user, make_article)
    with app.app_context():
        with db.engine.begin() as connection:
            refused = damage(connection)
        db.engine.dispose()  # no connection is left with its foreign keys off
    monkeypatch.setattr(copying, "BATCH", 3)

    result = copy(app, target)

    assert result.exit_code == 1
    assert f"the target refused the row of {refused}" in result.output
    assert result.output.rstrip().endswith("Nothing was copied.")
    with site_on(app, target) as other:
        assert not any(every_row(other).values())


# A change made to the copy behind the command's back, and the line that must show it.
SPOILED = {
    "a row lost": (
        "DELETE FROM article_tags WHERE tag_id = 1",
        "article_tags",
        r"^article_tags +(\d+)/(?!\1)\d+  [0-9a-f]+/[0-9a-f]+  DIFFERS$",
    ),
    # The same number of rows, told apart by their checksums alone.
    "a row changed": (
        "UPDATE articles SET title = 'Changed' WHERE id = 1",
        "articles",
        r"^articles +(\d+)/\1  ([0-9a-f]+)/(?!\2)[0-9a-f]+  DIFFERS$",
    ),
}


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("change", "table", "line"), SPOILED.values(), ids=SPOILED.keys())
def test_a_copy_that_differs_names_the_table(
    app, target, make_user, make_article, monkeypatch, change, table, line
):
    build_site(app, make_user, make_article)
    reindex_all = copying.reindex_all

    def spoiling() -> int:
        db.session.execute(sa.text(change))
        return reindex_all()

    monkeypatch.setattr(copying, "reindex_all", spoiling)

    result = copy(app, target)

    assert result.exit_code == 1
    assert re.search(line, result.output, re.M), result.output
    assert f"differs from this site's database in {table}: do not use it" in result.output
    assert "The copy matches" not in result.output

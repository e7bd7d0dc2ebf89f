"""Schema upgrades keep what an existing site holds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask

from blog.database import MIGRATIONS
from blog.extensions import db
from blog.models import Article
from tests.conftest import app_at_revision, app_on, throwaway_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database without tables: a new SQLite file, then a new PostgreSQL database."""
    with contextlib.ExitStack() as stack:
        uri = None if request.param == "sqlite" else stack.enter_context(throwaway_postgres())
        app = app_on(tmp_path / "new.db", tmp_path / "media", uri=uri)
        yield app
        with app.app_context():
            db.engine.dispose()


def revisions_in_order() -> list[str]:
    """Every migration from the first to the latest."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def test_an_empty_database_takes_every_migration_one_by_one_and_matches_the_models(
    empty_app,
):
    revisions = revisions_in_order()
    assert len(revisions) >= 10 and current_revision(empty_app) is None
    with empty_app.app_context():
        for revision in revisions:
            flask_migrate.upgrade(directory=str(MIGRATIONS), revision=revision)
            assert current_revision(empty_app) == revision
    # ``db check`` exits with 1 when autogenerate would find a change the migrations lack.
    result = empty_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context(), db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables


def test_every_migration_can_be_undone_back_to_an_empty_database_and_taken_again(
    empty_app,
):
    with empty_app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        for revision in reversed(revisions_in_order()[:-1]):
            flask_migrate.downgrade(directory=str(MIGRATIONS), revision="-1")
            assert current_revision(empty_app) == revision
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="base")
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade(directory=str(MIGRATIONS))
    assert current_revision(empty_app) == revisions_in_order()[-1]
    assert empty_app.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0


def test_articles_from_before_revisions_start_their_history_as_they_are(tmp_path: Path):
    app = app_at_revision(tmp_path, "a81df6068566")
    with app.app_context():
        published = datetime(2025, 2, 24, 8, 30)
        for statement in (
            "INSERT INTO users (id, username, display_name, password_hash, role, active,"
            " created_at, session_token) VALUES (1, 'ada', 'Ada', 'x', 'writer', 1, :t, 't')",
            "INSERT INTO sections (id, name, slug) VALUES (1, 'Local', 'local')",
            "INSERT INTO tags (id, name, slug)"
            " VALUES (1, 'roads', 'roads'), (2, 'Budget', 'budget')",
            "INSERT INTO articles (id, title, slug, summary, dateline, body, body_html, toc,"
            " author_id, section_id, featured, status, published_at, created_at, updated_at,"
            " hero_alt, hero_caption, hero_credit) VALUES (7, 'Old story', 'old-story', 'Dek',"
            " 'Millbrook', 'Body.', '<p>Body.</p>', '[]', 1, 1, 1, 'published', :t, :t, :t,"
            " '', '', '')",
            "INSERT INTO article_tags (article_id, tag_id) VALUES (7, 1), (7, 2)",
        ):
            db.session.execute(sa.text(statement), {"t": published})
        db.session.commit()
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        article = db.session.get(Article, 7)
        [revision] = article.revisions
        assert (revision.version, revision.editor.username, article.version) == (1, "ada", 1)
        assert revision.created_at == published.replace(tzinfo=UTC)
        assert revision.fields == article.snapshot()
        assert revision.fields["tags"] == ["Budget", "roads"]
        assert revision.fields["published_at"] == "2025-02-24T08:30:00+00:00"
        db.engine.dispose()

"""Schema upgrades keep what an existing site holds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import sqlalchemy as sa

from blog.database import MIGRATIONS
from blog.extensions import db
from blog.models import Article
from tests.conftest import app_at_revision


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

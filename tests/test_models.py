"""Models: visibility rules, the shared queries, rendering, and SQLite settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from blog.dates import long_date, utcnow
from blog.extensions import db
from blog.models import Article, User


def test_public_leaves_out_drafts_and_future_articles(app, make_article):
    shown = make_article("Shown")
    make_article("Draft", status="draft", published_at=None)
    make_article("Scheduled", published_at=utcnow() + timedelta(days=1))
    with app.app_context():
        titles = [a.title for a in db.session.scalars(Article.public())]
    assert titles == [shown.title]


def test_latest_is_newest_first_and_leaves_out_the_excluded_article(app, make_article):
    old = make_article("Old", published_at=utcnow() - timedelta(days=3))
    new = make_article("New", published_at=utcnow() - timedelta(days=1))
    newest = make_article("Newest", published_at=utcnow() - timedelta(minutes=5))
    with app.app_context():
        assert [a.id for a in Article.latest(5)] == [newest.id, new.id, old.id]
        assert [a.id for a in Article.latest(5, exclude=new.id)] == [newest.id, old.id]
        assert [a.id for a in Article.latest(2)] == [newest.id, new.id]


def test_featured_latest_lists_only_featured_articles(app, make_article):
    featured = make_article("Featured", featured=True)
    make_article("Plain")
    with app.app_context():
        assert [a.id for a in Article.featured_latest(5)] == [featured.id]
        assert Article.featured_latest(5, exclude=featured.id) == []


def test_render_puts_dateline_with_long_publication_date_in_first_paragraph(app, make_user):
    with app.app_context():
        article = Article(
            body="Ukraine is facing a hard winter.",
            dateline="Kyiv, Ukraine",
            published_at=utcnow().replace(year=2023, month=10, day=26, hour=12),
        )
        article.render()
    assert article.body_html.startswith(
        '<p><span class="dateline">Kyiv, Ukraine – October 26, 2023 – </span>Ukraine is facing'
    )


def test_was_updated_only_after_a_real_change_past_publication(app):
    published = utcnow() - timedelta(days=1)
    assert not Article(
        published_at=published, revised_at=published + timedelta(minutes=1)
    ).was_updated
    assert Article(published_at=published, revised_at=published + timedelta(hours=2)).was_updated
    assert not Article(published_at=published, updated_at=utcnow()).was_updated
    assert not Article(published_at=None, revised_at=published).was_updated


def test_times_come_back_timezone_aware_in_utc(app, make_article):
    made = make_article("Aware")
    with app.app_context():
        article = db.session.get(Article, made.id)
        assert article.published_at.utcoffset() == timedelta(0)
        assert article.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(app, make_user):
    user = make_user("naive")
    with app.app_context():
        article = Article(title="x", slug="x", author_id=user.id)
        article.published_at = utcnow().replace(tzinfo=None)
        db.session.add(article)
        with pytest.raises(sa.exc.StatementError):
            db.session.commit()


def test_password_is_hashed_and_checked(app):
    user = User(username="u", display_name="U")
    user.set_password("a long enough password")
    assert "a long enough password" not in user.password_hash
    assert user.check_password("a long enough password")
    assert not user.check_password("wrong")


def test_writers_edit_only_their_own_articles(app):
    writer = User(id=1, role="writer")
    editor = User(id=2, role="editor")
    own, other = Article(author_id=1), Article(author_id=3)
    assert writer.can_edit(own) and not writer.can_edit(other)
    assert editor.can_edit(other)
    assert not writer.can_publish and editor.can_publish


@pytest.mark.sqlite
def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(app):
    with app.app_context():
        pragma = lambda name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("foreign_keys") == 1
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") >= 5000
        assert pragma("synchronous") == 1  # NORMAL


def query_plan(query: sa.Select) -> str:
    """SQLite's plan for one of the app's own queries."""
    sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    return " ".join(str(row) for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))


@pytest.mark.sqlite
def test_page_queries_use_indexes(app):
    with app.app_context():
        assert "ix_articles_status_published_at" in query_plan(Article.public().limit(5))
        featured = query_plan(Article.public_featured().limit(5))
        assert "ix_articles_featured_status_published_at" in featured
        assert "USING INDEX" in query_plan(sa.select(Article).where(Article.slug == "x"))
        dashboard = sa.select(Article).order_by(Article.updated_at.desc()).limit(50)
        assert "ix_articles_updated_at" in query_plan(dashboard)


def test_draft_dateline_carries_its_last_save_date_so_rendering_is_stable(app):
    saved = utcnow() - timedelta(days=3)
    with app.app_context():
        draft = Article(body="Text.", dateline="Millbrook", updated_at=saved)
        draft.render()
        assert f"Millbrook – {long_date(saved)} – " in draft.body_html

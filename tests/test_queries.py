"""Queries per page: a page costs the same number of queries however many articles it lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from blog.extensions import db

PAGES = [
    "/",
    "/latest",
    "/featured",
    "/sections/local",
    "/tags/harbour",
    "/authors/writer-1",
    "/articles/story-1",
    "/sidebars/latest",
    "/sidebars/featured",
    "/sidebars/related/1",
    "/feed.xml",
    "/feed.rss",
    "/sections/local/feed.xml",
    "/tags/harbour/feed.rss",
    "/authors/writer-1/feed.xml",
    "/search?q=story",
    "/search/results?q=story",
    "/sitemap.xml",
    "/sitemaps/articles-1.xml",
    "/sitemaps/listings-1.xml",
    "/sitemaps/news.xml",
    "/robots.txt",
]


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)


def queries(app: Flask, url: str) -> list[str]:
    """The statements one reader's request for ``url`` runs."""
    with counted(app) as statements:
        assert app.test_client().get(url).status_code == 200, url
    return statements


@pytest.mark.parametrize("url", PAGES)
def test_a_page_runs_no_more_queries_for_ten_articles_than_for_two(
    app, make_article, make_user, url
):
    def story(n: int) -> None:
        """An article by a writer of its own (one author's loaded row would serve them all)."""
        make_article(
            f"Story {n}",
            slug=f"story-{n}",
            author_id=make_user(f"writer-{n}").id,
            section="Local",
            tags=["harbour"],
            featured=True,
        )

    for n in (1, 2):
        story(n)
    few = queries(app, url)
    for n in range(3, 11):
        story(n)
    many = queries(app, url)
    # Fewer is fine: related posts skip the section once shared tags fill the list.
    assert len(many) <= len(few), "\n".join(many)
    # The front page needs the most: its lead, a page of teasers with their authors and
    # sections, the count, the next publication, and the masthead's sections.
    assert len(many) <= 9, "\n".join(many)

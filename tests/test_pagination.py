"""Listings page through every public article once, and a deep page costs an index walk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from blog.dates import utcnow
from blog.extensions import db

LISTINGS = ["/", "/latest", "/featured", "/sections/local", "/tags/harbour", "/authors/reporter"]


@pytest.fixture
def archive(app, make_article):
    """Twenty-two public stories (one a minute apart), a draft and a scheduled one, 5 a page."""
    app.config["ARTICLES_PER_PAGE"] = 5
    now = utcnow()
    for n in range(22):
        make_article(
            f"Story {n:02}",
            slug=f"story-{n:02}",
            section="Local",
            tags=["harbour"],
            featured=True,
            published_at=now - timedelta(minutes=n + 1),
        )
    make_article("Hidden draft", slug="draft", section="Local", tags=["harbour"], status="draft")
    make_article("Not yet", slug="soon", section="Local", published_at=now + timedelta(days=1))


def titles(page: str) -> list[str]:
    return re.findall(r">(Story \d\d|Hidden draft|Not yet)</a>", page)


@pytest.mark.parametrize("url", LISTINGS)
def test_pages_hold_every_public_article_once_newest_first(app, archive, url):
    client = app.test_client()
    seen: list[str] = []
    for number in range(1, 7):
        response = client.get(f"{url}?page={number}")
        if response.status_code == 404:
            break
        assert response.status_code == 200
        # The front page shows its lead story once more, above the first page.
        seen += titles(response.text)[1:] if url == "/" and number == 1 else titles(response.text)
    assert response.status_code == 404 and number == 6
    expected = [f"Story {n:02}" for n in range(22)]
    assert seen == (expected[1:] if url == "/" else expected)


def explained_plans(app, url: str) -> list[str]:
    """SQLite's plan for each statement the request for ``url`` runs against ``articles``."""
    ran: list[tuple[str, object]] = []

    def seen(_conn, _cursor, statement, parameters, *_args) -> None:
        ran.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        assert app.test_client().get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    plans = []
    with engine.connect() as connection:
        for statement, parameters in ran:
            if "FROM articles" in statement:
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                plans.append("\n".join(row[-1] for row in rows))
    return plans


@pytest.mark.sqlite
@pytest.mark.parametrize("url", ["/latest", "/featured", "/sections/local", "/authors/reporter"])
def test_a_deep_page_walks_an_index_in_order_and_reads_only_its_rows(app, archive, url):
    plans = explained_plans(app, f"{url}?page=4")
    assert plans
    for plan in plans:
        assert "SCAN articles" not in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan or "USING INTEGER PRIMARY KEY" in plan, plan
    assert any("COVERING INDEX" in plan for plan in plans), plans  # the page's ids
    assert any("INTEGER PRIMARY KEY (rowid=?)" in plan for plan in plans), plans  # its rows

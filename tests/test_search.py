"""Reader search: what is found and in which order, what is never found, and safe output."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from blog import create_app, search
from blog.database import MIGRATIONS
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article
from tests.conftest import app_at_revision, csrf_token
from tests.test_editor import form_data
from tests.test_workflow_states import post

# Enough words to pass the publish checks.
FILLER = " ".join(["The town council met again on Tuesday evening."] * 7)
HIT = re.compile(r'class="teaser__title"><a href="/articles/([^"]+)"')


@pytest.fixture(params=["sqlite_app", "postgres_app"])
def app(request: pytest.FixtureRequest) -> Flask:
    """The app on SQLite (FTS5), then on PostgreSQL (tsvector): one behaviour on both."""
    return request.getfixturevalue(request.param)


def found(app, query: str, **args: object) -> list[str]:
    """The slugs a reader's search for ``query`` lists, in order."""
    response = app.test_client().get("/search", query_string={"q": query, **args})
    assert response.status_code == 200, response.text
    return HIT.findall(response.text)


def status(page: str) -> str:
    """The text of the page's result count line."""
    match = re.search(r'id="search-status"[^>]*>(.*?)</p>', page, re.S)
    assert match, "no status line"
    return match.group(1).strip()


def indexed(app, article_id: int) -> tuple[str, str, str] | None:
    """The index row of an article: headline, summary and body text."""
    with app.app_context():
        index = search.backend(db.engine)
        texts = (index.table.c.title, index.table.c.summary, index.table.c.body)
        row = db.session.execute(sa.select(*texts).where(index.key == article_id)).one_or_none()
        return tuple(row) if row else None


def test_a_headline_match_ranks_before_summary_and_body_matches(app, make_article):
    # Made in this order, the body match is the newest and the headline match the oldest.
    make_article("Ferry timetable", slug="in-body", body="The lighthouse keeper waved.")
    make_article("Harbour news", slug="in-summary", summary="Lighthouse repairs begin.")
    make_article("Lighthouse reopens", slug="in-title")
    assert found(app, "lighthouse") == ["in-title", "in-summary", "in-body"]


def test_words_of_the_summary_and_the_body_are_found_whatever_their_case_or_accents(
    app, make_article
):
    make_article("Council", slug="council", summary="The MAYOR spoke.")
    make_article("Bakery", slug="bakery", body="Zoë bakes *sourdough* at dawn.")
    assert found(app, "mayor") == ["council"]
    assert found(app, "Sourdough") == ["bakery"]
    assert found(app, "zoe") == ["bakery"]
    assert found(app, "bakes dawn") == ["bakery"]
    assert found(app, "bakes mayor") == []


def test_the_last_word_matches_as_a_prefix_once_it_has_three_letters(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    assert found(app, "reopens harb") == ["harbour"]
    assert found(app, "ha") == []


def test_drafts_scheduled_and_trashed_articles_are_never_found(app, make_article):
    make_article("Quarry expands", slug="public")
    make_article("Quarry draft", slug="draft", status="draft", published_at=None)
    make_article("Quarry review", slug="review", status="review", published_at=None)
    make_article("Quarry tomorrow", slug="scheduled", published_at=utcnow() + timedelta(days=1))
    make_article(
        "Quarry trashed", slug="trashed", status="draft", published_at=None, deleted_at=utcnow()
    )
    assert found(app, "quarry") == ["public"]
    page = app.test_client().get("/search?q=quarry").text
    assert status(page) == "1 post matches “quarry”."


def test_an_edit_through_the_form_replaces_the_words_found(app, client, auth, make_article):
    article = make_article("Bakery opens", slug="bakery", body="They sell sourdough.")
    assert found(app, "sourdough") == ["bakery"]
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    data = form_data(
        client, url, title="Bakery closes", slug="bakery", body=f"No more baguettes. {FILLER}"
    )
    assert client.post(url, data=data).status_code == 303
    assert found(app, "sourdough") == [] and found(app, "opens") == []
    assert found(app, "baguettes") == ["bakery"] and found(app, "closes") == ["bakery"]


def test_a_new_article_from_the_form_is_found(app, client, auth):
    auth.login("editor")
    assert client.post("/editor/articles/new", data=form_data(client)).status_code == 303
    assert found(app, "town hall") == ["council-approves-budget"]


def test_unpublished_trashed_and_restored_articles_follow_their_state(
    app, client, auth, make_article
):
    article = make_article("Bridge closes", slug="bridge")
    auth.login("admin")
    assert post(client, f"/editor/articles/{article.id}/unpublish").status_code == 303
    assert found(app, "bridge") == []
    assert post(client, f"/editor/articles/{article.id}/delete").status_code == 303
    assert found(app, "bridge") == []
    assert post(client, f"/editor/articles/{article.id}/restore").status_code == 303
    assert found(app, "bridge") == [] and indexed(app, article.id) is not None
    url = f"/editor/articles/{article.id}/edit"
    data = form_data(
        client, url, title="Bridge closes", slug="bridge", body=f"Detours start. {FILLER}"
    )
    assert client.post(url, data=data).status_code == 303
    assert found(app, "bridge detours") == ["bridge"]


def test_an_article_deleted_for_good_leaves_the_index(app, client, auth, make_article):
    article = make_article("Gone", status="draft", published_at=None, deleted_at=utcnow())
    assert indexed(app, article.id) is not None
    auth.login("admin")
    url = f"/editor/articles/{article.id}/purge"
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 303
    assert indexed(app, article.id) is None


def test_imported_and_demo_articles_are_found_but_not_the_demo_draft(app, runner, tmp_path):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert found(app, "zoe bakery") == ["zoes-bakery-opens-mill-street"]
    assert found(app, "fenwick") == []
    records = [
        {
            "title": "Imported gazebo story",
            "body": FILLER + " The *gazebo* was restored.",
            "status": "published",
        }
    ]
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = runner.invoke(args=["import-articles", str(path), "--author", "ada"])
    assert result.exit_code == 0, result.output
    assert found(app, "gazebo restored") == ["imported-gazebo-story"]


def test_rerendering_indexes_the_new_html(app, runner, make_article):
    article = make_article("Ferry", slug="ferry", body="Old wording.")
    with app.app_context():  # the Markdown changed under the stored HTML, as after an upgrade
        db.session.execute(
            sa.update(Article).where(Article.id == article.id).values(body="New wording.")
        )
        db.session.commit()
    assert found(app, "old") == ["ferry"]
    assert runner.invoke(args=["rerender-articles"]).exit_code == 0
    assert found(app, "old") == [] and found(app, "new wording") == ["ferry"]


def test_reindex_search_picks_up_articles_written_around_the_orm(app, runner, make_article):
    author_id = make_article("Orchard", slug="orchard").author_id
    now = utcnow()
    row = {
        "title": "Cider festival",
        "summary": "",
        "dateline": "",
        "body": "",
        "body_html": "<p>Apples and <em>pears</em>.</p>",
        "toc": [],
        "author_id": author_id,
        "featured": False,
        "status": "published",
        "published_at": now - timedelta(hours=1),
        "created_at": now,
        "updated_at": now,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.insert(Article.__table__), [row | {"slug": "cider"}])
    assert found(app, "cider") == []
    result = runner.invoke(args=["reindex-search"])
    assert result.exit_code == 0 and "Indexed 2 article(s)." in result.output
    assert found(app, "cider pears") == ["cider"]
    assert found(app, "orchard") == ["orchard"]


def test_matches_are_marked_and_all_text_is_escaped(app, make_article):
    make_article(
        '<script>alert("title")</script> Harbour \ue000fake\ue001',
        slug="tricky",
        summary="<img src=x onerror=alert(1)> harbour",
        body="Harbour text: &lt;script&gt;alert(1)&lt;/script&gt; and <b>more</b>.",
    )
    response = app.test_client().get("/search", query_string={"q": 'harbour <script> "x'})
    page = response.text
    assert response.status_code == 200
    assert page.count("<script") == 1  # htmx, in the head
    assert "<img src=x" not in page and "<b>" not in page
    assert (
        '<a href="/articles/tricky">&lt;<mark>script</mark>&gt;alert(&#34;title&#34;)'
        "&lt;/<mark>script</mark>&gt; <mark>Harbour</mark> fake</a>"
    ) in page
    assert "&lt;img src=<mark>x</mark> onerror=alert(1)&gt; <mark>harbour</mark>" in page
    assert "<mark>Harbour</mark> text: &lt;<mark>script</mark>&gt;alert(1)" in page
    assert 'value="harbour &lt;script&gt; &#34;x"' in page
    assert status(page) == "1 post matches “harbour &lt;script&gt; &#34;x”."


def test_a_long_body_shows_the_passage_with_the_match_cut_with_ellipses(app, make_article):
    make_article("Ferry", slug="ferry", body=f"{FILLER} The lighthouse keeper waved. {FILLER}")
    page = app.test_client().get("/search", query_string={"q": "lighthouse"}).text
    snippet = re.search(r'class="search-hit__snippet">(.*?)</p>', page).group(1)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>lighthouse</mark> keeper waved." in snippet
    assert len(snippet.split()) <= search.SNIPPET_WORDS + 2


ODD_QUERIES = [
    '"', '""', '"harbour', "harbour*", "* harbour", "*", "(", ")", "(harbour", "NEAR",
    "NEAR(harbour ferry)", "harbour NEAR ferry", "-", "-harbour", "harbour -ferry", ":",
    "title:harbour", "{title summary}: harbour", "harbour OR ferry", "AND", "NOT harbour",
    "^harbour", "+", "'", "\\", "%", "_", "harbour_", "\x00", "🙂", "a\"b'c", "ha rb ou r",
    "\u0301", "\ue000harbour\ue001", "harbour\x00ferry", "0\x00",
]  # fmt: skip


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_queries_with_search_syntax_are_taken_as_text(app, make_article, query):
    make_article("Harbour ferry", slug="harbour")
    for url in ("/search", "/search/results"):
        response = app.test_client().get(url, query_string={"q": query})
        assert response.status_code == 200, (url, response.text)


def test_operators_are_words_not_syntax(app, make_article):
    make_article("Harbour ferry", slug="harbour")
    make_article("Harbour news", slug="news")
    assert found(app, "harbour -ferry") == ["harbour"]
    assert found(app, "harbour OR nothing") == []
    assert found(app, "news:harbour") == []


def test_any_text_is_a_valid_query(app, make_article):
    make_article("Harbour ferry")
    client = app.test_client()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
    def check(text: str) -> None:
        for url in ("/search", "/search/results"):
            assert client.get(url, query_string={"q": text}).status_code == 200, (url, text)

    check()


def test_results_are_paginated_and_a_page_past_the_end_is_404(app, make_article):
    for n in range(12):
        make_article(f"Regatta day {n}", slug=f"regatta-{n}")
    first, second = found(app, "regatta"), found(app, "regatta", page=2)
    assert len(first) == 10 and len(second) == 2
    assert sorted(first + second) == sorted(f"regatta-{n}" for n in range(12))
    page = app.test_client().get("/search?q=regatta").text
    assert status(page) == "12 posts match “regatta”."
    assert 'href="/search?page=2&amp;q=regatta">Next →</a>' in page  # ranked, not by date
    assert app.test_client().get("/search?q=regatta&page=3").status_code == 404
    assert app.test_client().get("/search/results?q=regatta&page=3").status_code == 404
    assert found(app, "regatta", page="x") == first


def test_an_empty_query_shows_the_form_alone(app, make_article):
    make_article("Harbour ferry")
    for url in ("/search", "/search?q=", "/search?q=%20%20"):
        page = app.test_client().get(url).text
        assert 'role="search"' in page and '<input id="q" name="q" type="search" value=""' in page
        assert HIT.findall(page) == [] and status(page) == ""
        assert '<meta name="robots" content="noindex, follow">' in page
    page = app.test_client().get("/search?q=%21%21%21").text
    assert status(page) == "Type a word or a number to search for."


def test_no_match_says_so(app, make_article):
    make_article("Harbour ferry")
    page = app.test_client().get("/search?q=zeppelin").text
    assert status(page) == "No posts match “zeppelin”." and HIT.findall(page) == []


def test_a_query_over_the_limit_gets_a_page_saying_so(client):
    for url in ("/search", "/search/results"):
        response = client.get(url, query_string={"q": "a" * (search.MAX_QUERY + 1)})
        assert response.status_code == 400
        assert "Search for at most 200 characters" in response.text


def test_live_results_are_a_fragment_naming_the_full_page(app, hx, make_article):
    make_article("Harbour ferry", slug="harbour")
    response = hx.get("/search/results?q=harbour")
    assert response.status_code == 200 and "<html" not in response.text
    assert response.headers["HX-Replace-Url"] == "/search?q=harbour"
    assert HIT.findall(response.text) == ["harbour"]
    assert '<p id="search-status" hx-swap-oob="innerHTML">1 post matches “harbour”.</p>' in (
        response.text
    )
    assert hx.get("/search/results?q=").headers["HX-Replace-Url"] == "/search"
    replaced = hx.get("/search/results?q=harbour&page=1").headers["HX-Replace-Url"]
    assert replaced == "/search?q=harbour"


def test_the_search_page_is_the_same_with_or_without_htmx_headers(app, client, hx, make_article):
    make_article("Harbour ferry")
    assert client.get("/search?q=harbour").text == hx.get("/search?q=harbour").text


def test_every_page_links_to_search(client):
    assert '<a href="/search">Search</a>' in client.get("/").text


def test_plain_text_keeps_words_apart_and_whole():
    html = (
        '<p><span class="dateline">Kyiv – </span>A <em>wo</em>rd &amp; <a title="a>b" href="/">'
        "link</a></p><h2>Next</h2><ul><li>one</li><li>two</li></ul>"
    )
    assert search.plain_text(html) == "Kyiv – A word & link Next one two"


def test_match_expression_quotes_every_word():
    assert search.match_expression('say "hi" NEAR(x)') == '"say" """hi""" "NEAR(x)"*'
    assert search.match_expression("a b") == '"a" "b"'
    assert search.match_expression("- * :") is None


def test_the_migration_indexes_articles_written_before_it(tmp_path: Path):
    app = app_at_revision(tmp_path, "81eb448c61c5")
    with app.app_context():
        published = datetime(2025, 2, 24, 8, 30)
        for statement in (
            "INSERT INTO users (id, username, display_name, password_hash, role, active,"
            " created_at, session_token) VALUES (1, 'ada', 'Ada', 'x', 'writer', 1, :t, 't')",
            "INSERT INTO articles (id, title, slug, summary, dateline, body, body_html, toc,"
            " author_id, featured, status, published_at, created_at, updated_at, hero_alt,"
            " hero_caption, hero_credit, version) VALUES (7, 'Old story', 'old-story', 'Dek',"
            " '', 'x', '<p>A <em>harb</em>our</p><p>tale</p>', '[]', 1, 0, 'published', :t, :t,"
            " :t, '', '', '', 1)",
        ):
            db.session.execute(sa.text(statement), {"t": published})
        db.session.commit()
        flask_migrate.upgrade(directory=str(MIGRATIONS))
    assert indexed(app, 7) == ("Old story", "Dek", "A harbour tale")
    with app.test_request_context():
        assert [hit.article.slug for hit in search.search("harbour tale").items] == ["old-story"]
        db.engine.dispose()


def test_a_database_search_cannot_index_is_refused_at_startup(tmp_path, monkeypatch):
    monkeypatch.setattr(SQLiteDialect_pysqlite, "name", "mysql")
    message = r"a mysql database; Dateline needs SQLite or PostgreSQL"
    with pytest.raises(ValueError, match=message):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'site.db'}",
            }
        )


def test_autogenerate_leaves_the_index_to_its_migration(app, runner):
    with app.app_context():
        assert "article_search" in sa.inspect(db.engine).get_table_names()
    # ``db check`` exits with 1 when the models and the migrated database differ.
    assert runner.invoke(args=["db", "check"]).exit_code == 0

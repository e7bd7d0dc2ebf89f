"""Search on PostgreSQL: its migration, its text search configurations, its index table.

The behaviours both databases share run on each in ``tests/test_search.py``.
"""

from __future__ import annotations

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

from blog import search
from blog.database import MIGRATIONS
from blog.extensions import db
from blog.models import Article
from tests.test_search import found

BEFORE_INDEX = "d7f7d71eced6"


@pytest.fixture
def app(postgres_app: Flask) -> Flask:
    """Every test here on PostgreSQL."""
    return postgres_app


def test_the_index_is_a_weighted_tsvector_with_a_gin_index_and_db_check_agrees(app, runner):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        columns = {c["name"]: str(c["type"]) for c in inspector.get_columns("article_search")}
        [index] = inspector.get_indexes("article_search")
    assert columns["document"] == "TSVECTOR"
    assert index["column_names"] == ["document"]
    assert index["dialect_options"]["postgresql_using"] == "gin"
    assert runner.invoke(args=["db", "check"]).exit_code == 0


def test_the_migration_indexes_articles_written_before_it(app, make_article):
    article = make_article("Old story", summary="Dek", body="A *harb*our\n\nat dusk")
    with app.app_context():
        # Other articles, copied from it, so that there is more than one batch to index.
        inspected = sa.inspect(db.engine).get_columns("articles")
        columns = [c["name"] for c in inspected if c["name"] != "id"]
        changed = {"slug": "'copy-' || n", "title": "'Copy'", "body_html": "'<p>Copy</p>'"}
        values = ", ".join(changed.get(name, name) for name in columns)
        copies = sa.text(
            f"INSERT INTO articles ({', '.join(columns)}) SELECT {values}"
            f" FROM articles, generate_series(1, {search.BATCH}) AS n"
        )
        db.session.execute(copies)
        db.session.commit()
        try:
            flask_migrate.downgrade(directory=str(MIGRATIONS), revision=BEFORE_INDEX)
            assert "article_search" not in sa.inspect(db.engine).get_table_names()
        finally:
            flask_migrate.upgrade(directory=str(MIGRATIONS))
        query = sa.text("SELECT title, summary, body FROM article_search WHERE article_id = :id")
        row = db.session.execute(query, {"id": article.id}).one()
        count = db.session.scalar(sa.text("SELECT count(*) FROM article_search"))
    assert tuple(row) == ("Old story", "Dek", "A harbour at dusk")
    assert count == search.BATCH + 1
    assert found(app, "harbour dusk") == [article.slug]


def test_english_sites_find_other_forms_of_a_word(app, make_article):
    make_article("Harbour reopens", slug="harbour", body="Ferries are running again.")
    assert found(app, "reopening") == ["harbour"]
    assert found(app, "ferry runs") == ["harbour"]


def test_ukrainian_sites_match_whole_words_and_prefixes(app, make_article):
    app.config["LANGUAGE"] = "uk"
    make_article("Гавань відкрилася", slug="havan", body="Пороми знову курсують.")
    assert found(app, "гавань") == ["havan"]
    assert found(app, "пороми відкр") == ["havan"]
    assert found(app, "порому") == []  # no Ukrainian stemmer in PostgreSQL


def test_reindexing_after_a_change_of_language_reads_words_the_new_way(app, runner, make_article):
    make_article("Harbour reopens", slug="harbour")
    app.config["LANGUAGE"] = "uk"
    assert found(app, "reopens") == []  # indexed as English: "reopen"
    result = runner.invoke(args=["reindex-search"])
    assert result.exit_code == 0 and "Indexed 1 article(s)." in result.output
    assert found(app, "reopens") == ["harbour"]


def test_words_in_angle_brackets_and_paths_are_found_and_shown_as_typed(app, make_article):
    make_article("Pipes <b>mended</b> drains/culverts", slug="pipes")
    page = app.test_client().get("/search", query_string={"q": "mended culverts"}).text
    assert found(app, "culverts") == ["pipes"]
    assert "Pipes &lt;b&gt;<mark>mended</mark>&lt;/b&gt; drains/<mark>culverts</mark>" in page


def test_a_bulk_update_reindexes_the_rows_it_touches(app, make_article):
    make_article("Ferry timetable", slug="ferry")
    with app.app_context():
        db.session.execute(sa.update(Article).values(title="Bus timetable"))
        db.session.commit()
    assert found(app, "ferry") == [] and found(app, "bus") == ["ferry"]


def test_only_a_reindex_of_everything_reads_articles_through_a_server_side_cursor(
    app, make_article
):
    article = make_article("Ferry timetable")
    server_side: list[bool] = []

    def record(_connection, cursor, *_args: object) -> None:
        server_side.append(isinstance(cursor, psycopg.ServerCursor))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            db.session.get(Article, article.id).title = "Bus timetable"
            db.session.commit()
            assert server_side and not any(server_side)
            search.reindex_all()
            assert any(server_side)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)

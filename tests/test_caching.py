"""The page cache: reader pages rendered once per change, retired by every change they show."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
import sqlalchemy as sa

from blog import caching, create_app
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, ArticleNote, Section, User
from tests.conftest import csrf_token
from tests.test_autosave import typed
from tests.test_editor import form_data
from tests.test_queries import counted

READER_URLS = ["/", "/latest", "/sections/local", "/sidebars/latest", "/articles/harbour"]


def reader_get(app, url: str, **kwargs):
    """A reader's request: a new client, so no cookie."""
    return app.test_client().get(url, **kwargs)


def statements_for(app, url: str) -> list[str]:
    with counted(app) as statements:
        assert reader_get(app, url).status_code == 200, url
    return statements


@pytest.mark.parametrize("url", READER_URLS)
def test_a_reader_page_is_rendered_once_then_served_without_queries(app, make_article, url):
    make_article("Harbour reopens", slug="harbour", section="Local")
    first = reader_get(app, url)
    with counted(app) as statements:
        again = reader_get(app, url)
    assert statements == []
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_a_kept_page_still_answers_304_to_its_etag(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    etag = reader_get(app, "/articles/harbour").headers["ETag"]
    response = reader_get(app, "/articles/harbour", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""


def test_an_edit_through_the_form_shows_at_once_on_every_page(app, client, auth, make_article):
    article = make_article("Before the storm", slug="storm", section="Local")
    for url in ("/", "/latest", "/sections/local", "/sidebars/latest", "/articles/storm"):
        assert "Before the storm" in reader_get(app, url).text
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    response = client.post(url, data=form_data(client, url, title="After the storm", slug="storm"))
    assert response.status_code == 303
    for url in ("/", "/latest", "/sections/local", "/sidebars/latest", "/articles/storm"):
        page = reader_get(app, url).text
        assert "After the storm" in page and "Before the storm" not in page, url


@pytest.mark.parametrize(
    "change",
    [
        "rename_section",
        "rename_author",
        "add_note",
        "bulk_update",
        "unpublish",
        "delete",
    ],
)
def test_every_kind_of_change_retires_kept_pages(app, make_article, change):
    article = make_article("Harbour reopens", slug="harbour", section="Local")
    before = reader_get(app, "/articles/harbour").data
    with app.app_context():
        if change == "rename_section":
            db.session.scalar(sa.select(Section)).name = "Waterfront"
        elif change == "rename_author":
            db.session.get(User, article.author_id).display_name = "Ada Renamed"
        elif change == "add_note":
            db.session.add(ArticleNote(article_id=article.id, kind="correction", text="Fixed."))
        elif change == "bulk_update":
            db.session.execute(
                sa.update(Article).where(Article.id == article.id).values(title="Bulk title")
            )
        elif change == "unpublish":
            db.session.get(Article, article.id).status = "draft"
        else:
            db.session.delete(db.session.get(Article, article.id))
        db.session.commit()
    after = reader_get(app, "/articles/harbour")
    assert after.status_code == 404 or after.data != before


def test_a_change_made_by_another_process_retires_this_ones_pages(app, make_article):
    """Workers keep pages in their own memory; the stamp they read is shared."""
    make_article("Harbour reopens", slug="harbour")
    assert "Harbour reopens" in reader_get(app, "/latest").text
    other = create_app(dict(app.config))  # another worker: its own in-memory cache
    with other.app_context():
        db.session.scalar(sa.select(Article)).title = "Harbour closes"
        db.session.commit()
        db.engine.dispose()
    assert "Harbour closes" in reader_get(app, "/latest").text


def test_a_rolled_back_change_keeps_the_pages(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    reader_get(app, "/latest")
    with app.app_context():
        stamp = caching.content_stamp()
        db.session.scalar(sa.select(Article)).title = "Never saved"
        db.session.flush()
        db.session.rollback()
        assert caching.content_stamp() == stamp
    assert statements_for(app, "/latest") == []


def test_pages_are_retired_when_the_outer_transaction_commits_not_its_savepoints(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    make_article("Market day", slug="market")
    with app.app_context():
        stamp = caching.content_stamp()
        with db.session.begin_nested():  # a savepoint kept: nothing is committed yet
            db.session.scalar(sa.select(Article).where(Article.slug == "harbour")).title = "A"
        assert caching.content_stamp() == stamp
        savepoint = db.session.begin_nested()  # one rolled back: the first change still counts
        db.session.scalar(sa.select(Article).where(Article.slug == "market")).title = "B"
        db.session.flush()
        savepoint.rollback()
        assert caching.content_stamp() == stamp
        db.session.commit()
        assert caching.content_stamp() != stamp


def test_writes_that_readers_never_see_keep_the_pages(app, client, auth, make_article):
    article = make_article("Harbour reopens", slug="harbour")
    auth.login("editor")
    reader_get(app, "/latest")
    with app.app_context():
        stamp = caching.content_stamp()
    token = csrf_token(client, f"/editor/articles/{article.id}/edit")
    response = client.post(
        "/editor/autosave",
        data=typed(article, body="Half a sentence"),
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert "Draft copy kept" in response.text
    with app.app_context():
        assert caching.content_stamp() == stamp


def test_a_scheduled_article_appears_on_time_despite_the_cache(app, make_article, monkeypatch):
    make_article("Already out", slug="out")
    make_article("Embargoed report", slug="embargo", published_at=utcnow() + timedelta(minutes=5))
    front = reader_get(app, "/")
    assert "Embargoed report" not in front.text
    assert "max-age=60" in front.headers["Cache-Control"]
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr("blog.caching.utcnow", lambda: later)
    monkeypatch.setattr("blog.delivery.utcnow", lambda: later)
    monkeypatch.setattr("blog.models.utcnow", lambda: later)
    assert "Embargoed report" in reader_get(app, "/").text


def test_a_kept_page_is_never_kept_by_browsers_past_the_next_publication(
    app, make_article, monkeypatch
):
    make_article("Already out", slug="out")
    make_article("Embargoed report", slug="embargo", published_at=utcnow() + timedelta(minutes=5))
    reader_get(app, "/")
    later = utcnow() + timedelta(minutes=4, seconds=30)
    monkeypatch.setattr("blog.caching.utcnow", lambda: later)
    monkeypatch.setattr("blog.delivery.utcnow", lambda: later)
    with counted(app) as statements:
        kept = reader_get(app, "/")
    assert statements == []
    max_age = int(kept.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert max_age <= 30


def test_signed_in_staff_get_their_own_pages_and_never_fill_the_cache(
    app, client, auth, make_article
):
    make_article("Harbour reopens", slug="harbour")
    make_article("Draft in progress", slug="draft", status="draft")
    auth.login("editor")
    staff_view = client.get("/articles/draft")
    assert staff_view.status_code == 200 and "private" in staff_view.headers["Cache-Control"]
    staff_front = client.get("/")
    assert staff_front.status_code == 200
    assert "private" in staff_front.headers["Cache-Control"]
    assert reader_get(app, "/articles/draft").status_code == 404
    reader = reader_get(app, "/")
    assert reader.headers["Cache-Control"].startswith("public")
    with counted(app) as statements:
        client.get("/")  # staff are never served the readers' kept page
    assert statements


def test_a_request_with_a_session_cookie_is_rendered_fresh(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    reader_get(app, "/latest")
    with_cookie = app.test_client()
    with_cookie.set_cookie("session", "left-over")
    with counted(app) as statements:
        assert with_cookie.get("/latest").status_code == 200
    assert statements


def test_error_pages_and_redirects_are_not_kept(app, make_article):
    reader_get(app, "/articles/nowhere")
    with counted(app) as statements:
        assert reader_get(app, "/articles/nowhere").status_code == 404
    assert statements


def test_the_cache_can_be_turned_off(tmp_path, migrated_database):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{migrated_database}",
            "CACHE_TYPE": "NullCache",
            "CACHE_STAMP_FILE": str(tmp_path / "stamp"),
        }
    )
    reader_get(app, "/latest")
    assert statements_for(app, "/latest")
    with app.app_context():
        db.engine.dispose()


def test_with_redis_the_stamp_and_pages_are_shared_between_servers(app, make_article, redis_url):
    make_article("Harbour reopens", slug="harbour")
    config = dict(app.config, CACHE_REDIS_URL=redis_url)
    config.pop("CACHE_TYPE")
    one, two = create_app(config), create_app(config)
    assert one.config["CACHE_TYPE"] == "RedisCache"
    assert "Harbour reopens" in reader_get(one, "/latest").text
    assert statements_for(two, "/latest") == []  # kept by the first server, served by the second
    with two.app_context():
        db.session.scalar(sa.select(Article)).title = "Harbour closes"
        db.session.commit()
    assert "Harbour closes" in reader_get(one, "/latest").text
    for each in (one, two):
        with each.app_context():
            db.engine.dispose()


def test_readers_and_saves_go_on_while_redis_is_down(app, make_article, caplog):
    make_article("Harbour reopens", slug="harbour")
    config = dict(app.config, CACHE_REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    config.pop("CACHE_TYPE")
    down = create_app(config)
    for _ in range(2):
        assert "Harbour reopens" in reader_get(down, "/articles/harbour").text
    assert statements_for(down, "/articles/harbour")  # rendered each time, none kept
    with down.app_context():
        db.session.scalar(sa.select(Article)).title = "Harbour closes"
        db.session.commit()  # saved, though the kept pages could not be retired
    assert "Harbour closes" in reader_get(down, "/articles/harbour").text
    assert "the page cache could not be reached" in caplog.text
    assert "kept pages may show the old content" in caplog.text
    with down.app_context():
        db.engine.dispose()


def test_a_kept_page_answers_head_and_each_encoding_as_rendered(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    plain = reader_get(app, "/articles/harbour")
    zipped = reader_get(app, "/articles/harbour", headers={"Accept-Encoding": "gzip"})
    with counted(app) as statements:
        again = reader_get(app, "/articles/harbour", headers={"Accept-Encoding": "gzip"})
        head = app.test_client().head("/articles/harbour")
    assert statements == []
    assert zipped.headers["Content-Encoding"] == again.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(again.data) == plain.data
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == plain.headers["ETag"]


def test_pages_are_kept_apart_by_scheme_behind_a_proxy(app, make_article):
    """Feeds carry absolute addresses: an https reader never gets the http rendering."""
    make_article("Harbour reopens", slug="harbour")
    config = dict(app.config, PROXY_FIX=1)
    behind = create_app(config)
    plain = reader_get(behind, "/feed.xml").text
    secure = reader_get(behind, "/feed.xml", headers={"X-Forwarded-Proto": "https"}).text
    assert "http://localhost/articles/harbour" in plain
    assert "https://localhost/articles/harbour" in secure
    with behind.app_context():
        db.engine.dispose()


def test_a_reader_with_other_cookies_still_gets_the_kept_page(app, make_article):
    make_article("Harbour reopens", slug="harbour")
    reader_get(app, "/latest")
    reader = app.test_client()
    reader.set_cookie("theme", "dark")
    with counted(app) as statements:
        assert reader.get("/latest").status_code == 200
    assert statements == []


def test_a_kept_fragment_keeps_its_htmx_headers(app, make_article):
    make_article("Harbour ferry", slug="harbour")
    live = {"HX-Request": "true"}
    first = reader_get(app, "/search/results?q=harbour", headers=live)
    with counted(app) as statements:
        again = reader_get(app, "/search/results?q=harbour", headers=live)
    assert statements == []
    assert again.headers["HX-Replace-Url"] == first.headers["HX-Replace-Url"] == "/search?q=harbour"
    assert again.data == first.data

"""Bad input anywhere gets a 4xx page or the form back with a message, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import html5lib
import pytest
import sqlalchemy as sa

from blog.content import render
from blog.extensions import db
from blog.forms import MAX_BODY_CHARS
from blog.models import Article, User
from blog.sanitize import MAX_NESTING, clean
from tests.conftest import PASSWORD, csrf_token, every_row
from tests.test_editor import form_data, image_file

SECRET = "not for the web"


def assert_error_page(response, code: int, text: str) -> None:
    """``response`` is the site's error page for ``code``, saying ``text``."""
    assert response.status_code == code, response.text[:300]
    assert response.text.startswith("<!doctype html>"), response.text[:300]
    assert '<main id="main"' in response.text and text in response.text


@pytest.fixture
def article(auth, make_article) -> Article:
    """An editor is signed in; one published article exists."""
    auth.login("editor")
    return make_article("Existing story", body="The existing body.")


# --- too large --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/editor/articles/new", "/editor/articles/{id}/edit", "/editor/preview", "/auth/login"],
)
def test_request_over_max_content_length_is_413_and_changes_nothing(app, client, article, url):
    data = form_data(client, body="x" * 10_000)
    app.config["MAX_CONTENT_LENGTH"] = 4_000
    before = every_row(app)
    response = client.post(
        url.format(id=article.id), data=data, headers={"X-CSRFToken": data["csrf_token"]}
    )
    assert_error_page(response, 413, "too large")
    assert every_row(app) == before


def test_upload_over_max_content_length_stores_no_file(app, client, article):
    data = form_data(client, hero_alt="A picture")
    data["hero_image"] = (image_file(size=(400, 400)), "photo.jpg")
    app.config["MAX_CONTENT_LENGTH"] = 500
    before = every_row(app)
    assert_error_page(client.post("/editor/articles/new", data=data), 413, "too large")
    assert every_row(app) == before
    assert not list(Path(app.config["MEDIA_DIR"]).glob("*"))


def test_text_field_over_max_form_memory_size_is_413(app, client, article):
    # The editor's form is multipart. Werkzeug applies this limit to multipart fields only;
    # a URL-encoded request is held to MAX_CONTENT_LENGTH as a whole.
    data = form_data(client, body="x" * 10_000)
    app.config["MAX_FORM_MEMORY_SIZE"] = 4_000
    before = every_row(app)
    response = client.post("/editor/articles/new", data=data, content_type="multipart/form-data")
    assert_error_page(response, 413, "too large")
    assert every_row(app) == before


# --- huge Markdown ----------------------------------------------------------------------------


def long_text(length: int) -> str:
    """``length`` characters of distinct words, so that any cut shows."""
    return "".join(f"word{n} " for n in range(length // 5))[:length]


@pytest.mark.parametrize("url", ["/editor/articles/new", "/editor/articles/{id}/edit"])
def test_body_over_the_limit_comes_back_with_its_length_and_all_its_text(app, client, article, url):
    url = url.format(id=article.id)
    body = long_text(MAX_BODY_CHARS + 1)
    before = every_row(app)
    response = client.post(url, data=form_data(client, url, body=body))
    assert response.status_code == 422
    message = (
        f"The body is {MAX_BODY_CHARS + 1:,} characters long; the limit is {MAX_BODY_CHARS:,}."
    )
    assert 'id="body-error"' in response.text and message in response.text
    assert body in response.text
    assert every_row(app) == before


def test_body_limit_counts_a_line_break_once(app, client, article):
    line = "a" * 99
    body = f"{line}\r\n" * (MAX_BODY_CHARS // 100)  # the limit exactly, after \r\n becomes \n
    response = client.post("/editor/articles/new", data=form_data(client, body=body))
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.scalar(sa.select(Article).order_by(Article.id.desc()))
        assert len(saved.body) == MAX_BODY_CHARS


def test_preview_of_a_body_over_the_limit_shows_its_first_part(client, article, hx):
    token = csrf_token(client, "/editor/articles/new")
    body = long_text(MAX_BODY_CHARS + 50)
    response = hx.post("/editor/preview", data={"body": body}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert body[:MAX_BODY_CHARS].split()[-2] in response.text
    assert body[MAX_BODY_CHARS:].split()[-1] not in response.text


def test_import_of_a_body_over_the_limit_names_the_record(app, runner, make_user, tmp_path):
    make_user("ed", role="editor")
    source = tmp_path / "articles.json"
    source.write_text(json.dumps([{"title": "Huge", "body": "x" * (MAX_BODY_CHARS + 1)}]))
    before = every_row(app)
    result = runner.invoke(args=["import-articles", str(source), "--author", "ed"])
    assert result.exit_code != 0
    assert f"record 0: body: The body is {MAX_BODY_CHARS + 1:,} characters long" in result.output
    assert every_row(app) == before


def depth(html: str) -> int:
    """How deeply the elements of ``html`` nest."""

    def below(element: Any) -> int:
        return max((1 + below(child) for child in element), default=0)

    return below(html5lib.parseFragment(html, namespaceHTMLElements=False))


@pytest.mark.parametrize(
    "source",
    [
        "<b>" * 5_000 + "deep text",
        "<blockquote>" * 5_000 + "deep text" + "</blockquote>" * 5_000,
        "<ul><li>" * 3_000 + "deep text",
        "<table><tr><td>" * 1_000 + "deep text",
    ],
    ids=["bold", "quotes", "lists", "tables"],
)
def test_deeply_nested_markup_keeps_its_text_at_a_bounded_depth(source: str) -> None:
    # The HTML parsers slow down with the square of the depth: it must stay bounded.
    for html in (clean(source), render(source).html):
        assert "deep text" in html
        assert depth(html) <= MAX_NESTING + 1  # render may wrap it all in one paragraph


# --- malformed values -------------------------------------------------------------------------

MALFORMED = {
    "published_at-not-a-date": ({"published_at": "next tuesday"}, "published_at"),
    "published_at-impossible-date": ({"published_at": "2025-02-30T25:61"}, "published_at"),
    "published_at-huge-year": ({"published_at": "99999-01-01T00:00"}, "published_at"),
    "status-outside-the-choices": ({"status": "archived"}, "status"),
    "status-empty": ({"status": ""}, "status"),
    "title-too-long": ({"title": "x" * 201}, "title"),
    "title-missing": ({"title": None}, "title"),
    "tag-too-long": ({"tags": "ok, " + "t" * 61}, "tags"),
    "slug-with-a-path": ({"slug": "../../etc/passwd"}, "slug"),
    "slug-with-spaces": ({"slug": "a b"}, "slug"),
    "forged-earlier-upload": ({"hero_upload": "../secret_key", "hero_alt": "x"}, "hero_image"),
}


@pytest.mark.parametrize(("fields", "field"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_value_brings_the_form_back_marked_and_changes_nothing(
    app, client, article, fields, field
):
    for url in ("/editor/articles/new", f"/editor/articles/{article.id}/edit"):
        data = form_data(client, url, body="Typed text that must not be lost.", **fields)
        before = every_row(app)
        response = client.post(url, data=data)
        assert response.status_code == 422, url
        assert f'id="{field}-error"' in response.text and 'id="form-errors"' in response.text
        assert "Typed text that must not be lost." in response.text
        assert every_row(app) == before


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x0b", "\ufffe"])
def test_control_characters_are_dropped_from_typed_text(app, client, auth, control):
    """Feeds and sitemaps are XML, which cannot carry them; tabs and line breaks stay."""
    auth.login("editor")
    body = form_data(client)["body"]
    data = form_data(
        client,
        title=f"Head{control}line",
        slug=f"a{control}b",
        summary=f"A\tshort{control} dek.",
        body=f"\t{control}{body}\n",
    )
    assert client.post("/editor/articles/new", data=data).status_code == 303
    with app.app_context():
        article = db.session.scalar(sa.select(Article).where(Article.slug == "ab"))
        assert (article.title, article.summary) == ("Headline", "A\tshort dek.")
        assert article.body == f"\t{body}\n"
    for url in ("/feed.xml", "/feed.rss", "/sitemaps/news.xml", "/articles/ab"):
        assert client.get(url).status_code == 200, url


def test_writer_sending_featured_maybe_is_told_only_editors_feature(app, client, auth):
    auth.login("writer")
    before = every_row(app)
    data = form_data(client, status="draft", featured="maybe")
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422 and "Only editors can feature articles." in response.text
    assert every_row(app) == before


MALFORMED_QUERIES = (
    "/?page=abc",
    "/?page=-1",
    "/?page=0",
    "/?page=99999999999999999999999",
    "/latest?page=1e3",
    "/featured?page=%FF",
    "/sidebars/latest?exclude=abc",
    "/sidebars/featured?exclude=99999999999999999999999",
    "/editor/?q=%FF%FE",
    "/editor/slug-check?slug=x&article_id=abc",
    "/editor/slug-check?slug=x&article_id=99999999999999999999999",
    "/editor/slug-check?slug=%FF&title=%C3%28",
    "/editor/rows?q=%00",
)


def test_malformed_query_values_are_ignored_and_the_page_served(app, client, article):
    before = every_row(app)
    for url in MALFORMED_QUERIES:
        assert client.get(url).status_code == 200, url
    assert every_row(app) == before


def test_a_nul_in_an_address_or_a_query_is_no_error_on_postgresql(postgres_app):
    # PostgreSQL can neither store nor compare text holding a NUL; SQLite can.
    client = postgres_app.test_client()
    with postgres_app.app_context():
        editor = User(username="ed", display_name="Ed", role="editor")
        editor.set_password(PASSWORD)
        db.session.add(editor)
        db.session.commit()
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"username": "ed", "password": PASSWORD, "csrf_token": token})
    assert client.get("/editor/rows?q=%00harbour").status_code == 200
    assert_error_page(client.get("/articles/harbour%00"), 404, "We could not find that page.")


def test_page_number_past_the_last_page_is_404(client, article):
    for url in ("/latest?page=2147483647", "/?page=500", "/featured?page=2"):
        assert_error_page(client.get(url), 404, "We could not find that page.")


# --- unknown and malformed ids ----------------------------------------------------------------


UNKNOWN_IN_THE_EDITOR = (
    "/editor/articles/999/edit",
    "/editor/articles/999/delete",
    "/editor/articles/0/edit",
    "/editor/articles/-1/edit",
    "/editor/articles/1.5/edit",
    "/editor/articles/abc/delete",
    "/editor/articles/99999999999999999999/delete",
    "/editor/articles/%FF/edit",
)
UNKNOWN_TO_READERS = (
    "/articles/no-such-story",
    "/authors/nobody",
    "/sections/nothing",
    "/tags/nothing",
    "/media/0123456789abcdef0123456789abcdef.jpg",
    "/sidebars/related/999",
    "/sidebars/related/0",
    "/sidebars/related/abc",
    "/sidebars/related/99999999999999999999",
    "/sitemaps/articles-2.xml",
    "/sitemaps/articles-0.xml",
    "/sitemaps/listings-99999999999999999999.xml",
)


def test_unknown_or_malformed_ids_are_404_and_change_nothing(app, client, article):
    data = form_data(client)
    before = every_row(app)
    for path in UNKNOWN_IN_THE_EDITOR:
        for method in ("GET", "POST"):
            response = client.open(path, method=method, data=data)
            assert_error_page(response, 404, "We could not find that page.")
    for path in UNKNOWN_TO_READERS:
        assert_error_page(client.get(path), 404, "We could not find that page.")
    assert every_row(app) == before


# --- invalid UTF-8 ----------------------------------------------------------------------------


def test_invalid_utf8_in_the_path_is_404(client, article):
    for path in (
        "/articles/%FF",
        "/articles/%C3%28",
        "/articles/ok%ED%A0%80",
        "/tags/%FF",
        "/sections/%FE%FF",
        "/authors/%C0%AF",
        "/media/%FF.jpg",
        "/editor/articles/%FF/edit",
    ):
        assert_error_page(client.get(path), 404, "We could not find that page.")


def test_invalid_utf8_in_a_url_encoded_form_is_kept_percent_encoded(app, client, article):
    token = csrf_token(client, "/editor/articles/new").encode()
    raw = b"csrf_token=" + token + b"&title=Caf%E9+%FF&status=draft&body=%C3%28+body&section="
    response = client.post(
        "/editor/articles/new", data=raw, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.scalar(sa.select(Article).order_by(Article.id.desc()))
        assert (saved.title, saved.body) == ("Caf%E9 %FF", "%C3( body")


def test_invalid_utf8_in_a_multipart_field_is_read_as_replacement_characters(app, client, article):
    token = csrf_token(client, "/editor/articles/new")
    boundary = "x-boundary"
    parts = [("csrf_token", token.encode()), ("title", b"Bad \xff\xfe bytes"), ("status", b"draft")]
    raw = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in parts
    )
    response = client.post(
        "/editor/articles/new",
        data=raw + f"--{boundary}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.scalar(sa.select(Article).order_by(Article.id.desc()))
        assert saved.title == "Bad \ufffd\ufffd bytes"


def test_invalid_utf8_in_sign_in_is_a_failed_sign_in(app, client, make_user):
    make_user("ana", role="editor")
    token = csrf_token(client, "/auth/login").encode()
    before = every_row(app)
    response = client.post(
        "/auth/login",
        data=b"csrf_token=" + token + b"&username=an%FFa&password=%C3%28",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422 and 'id="form-errors"' in response.text
    assert every_row(app) == before


# --- path traversal ---------------------------------------------------------------------------

STORED_IMAGE = "0123456789abcdef0123456789abcdef.jpg"
TRAVERSALS_IN_MEDIA = (
    "..%2fsecret.txt",
    "..%2F..%2Fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "%2e%2e/secret.txt",
    "..%5csecret.txt",
    "%2e%2e%5csecret.txt",
    "....%2f%2fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "C:%5cWindows%5cwin.ini",
    "..",
    "%00",
    "secret.txt%00.jpg",
    f"{STORED_IMAGE}%00",
    f"{STORED_IMAGE}%00.png",
    f"x/..%2f{STORED_IMAGE}",
)


def test_path_traversal_in_media_is_404(app, client):
    media = Path(app.config["MEDIA_DIR"])
    media.mkdir(parents=True)
    (media.parent / "secret.txt").write_text(SECRET)
    (media / STORED_IMAGE).write_bytes(image_file().getvalue())
    with client.get(f"/media/{STORED_IMAGE}") as served:
        assert served.status_code == 200
    for name in TRAVERSALS_IN_MEDIA:
        response = client.get(f"/media/{name}")
        assert_error_page(response, 404, "We could not find that page.")
        assert SECRET not in response.text


def test_path_traversal_in_slugs_is_404(client, article):
    for path in (
        "/articles/..%2f..%2fetc%2fpasswd",
        "/articles/..",
        "/articles/%2e%2e",
        "/articles/%00",
        "/articles/existing-story%00",
        "/articles/..%5c..%5cinstance%5csecret_key",
        "/tags/..%2f",
        "/sections/%2e%2e%2f%2e%2e%2f",
        "/authors/..%5c",
    ):
        assert_error_page(client.get(path), 404, "We could not find that page.")


# --- wrong methods ----------------------------------------------------------------------------

ROUTE_ARGUMENTS = {
    "slug": "existing-story",
    "username": "editor",
    "name": STORED_IMAGE,
    "filename": "css/site.css",
    "article_id": 1,
    "revision_id": 1,
    "redirect_id": 1,
    "user_id": 1,
    "item_id": 1,
    "section_id": 1,
    "token": "x",
    "ending": "xml",
    "part": 1,
}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_every_route_answers_a_wrong_method_with_405_allow_and_a_page(app, client, article):
    adapter = app.url_map.bind("localhost")
    before = every_row(app)
    tried = 0
    for rule in app.url_map.iter_rules():
        path = rule.build({name: ROUTE_ARGUMENTS[name] for name in rule.arguments})[1]
        allowed = set(adapter.allowed_methods(path))
        for method in sorted(METHODS - allowed):
            response = client.open(path, method=method)
            assert_error_page(response, 405, "Method Not Allowed")
            assert set(response.headers["Allow"].split(", ")) == allowed, (method, path)
            tried += 1
    assert tried >= 3 * len(list(app.url_map.iter_rules()))
    assert every_row(app) == before


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/articles/existing-story", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/editor/articles/1/edit", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("GET", "/auth/logout", {"POST", "OPTIONS"}),
        ("PUT", "/media/" + STORED_IMAGE, {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_wrong_method_names_the_allowed_ones(client, article, method, path, allowed):
    response = client.open(path, method=method)
    assert_error_page(response, 405, "Method Not Allowed")
    assert set(response.headers["Allow"].split(", ")) == allowed

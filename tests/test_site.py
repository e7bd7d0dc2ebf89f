"""Site-wide rules: health check, error pages, and the invariants of pages and fragments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request

from blog import create_app
from blog.config import ROOT
from blog.extensions import db
from tests.conftest import POSTGRES_SERVER

TEMPLATES = ROOT / "templates"


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_connections_a_postgresql_restart_closed_are_replaced_not_shown_as_errors(postgres_app):
    client = postgres_app.test_client()
    assert client.get("/healthz").status_code == 200  # the pool now holds a connection
    with postgres_app.app_context():
        database = db.engine.url.database
    killer = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with killer.connect() as connection:
        ended = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        ).scalar()
    killer.dispose()
    assert ended >= 1
    postgres_app.config["PROPAGATE_EXCEPTIONS"] = False  # an error would be a 500 page
    for url in ("/healthz", "/", "/latest", "/sitemap.xml"):
        assert client.get(url).status_code == 200, url


def test_healthz_is_503_when_the_database_is_gone(app, client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("gone"))

    monkeypatch.setattr("blog.site.db.session.execute", broken)
    assert client.get("/healthz").status_code == 503


def test_404_is_a_page_in_the_site_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert '<main id="main"' in response.text and "We could not find that page." in response.text


def test_500_is_a_page_in_the_site_layout(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert '<main id="main"' in response.text and "Something went wrong" in response.text


@pytest.fixture
def page_urls(make_article) -> list[str]:
    article = make_article("Page", featured=True, section="Local", tags=["t"])
    return ["/", "/latest", "/featured", f"/articles/{article.slug}", "/sections/local", "/tags/t",
            "/authors/reporter", "/auth/login"]  # fmt: skip


def assert_same_with_or_without_htmx(client, urls: list[str]) -> None:
    """Each URL answers the same full page whether or not htmx headers come with it."""
    htmx_headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    for url in urls:
        plain, htmx = client.get(url), client.get(url, headers=htmx_headers)
        assert plain.status_code == htmx.status_code == 200
        strip = lambda text: re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", text)  # noqa: E731
        assert strip(plain.text) == strip(htmx.text), url
        assert plain.text.startswith("<!doctype html>")


def test_every_page_is_the_same_with_or_without_htmx_headers(client, page_urls):
    assert_same_with_or_without_htmx(client, page_urls)


def test_every_newsroom_page_is_the_same_with_or_without_htmx_headers(client, auth, page_urls):
    auth.login("editor")
    assert_same_with_or_without_htmx(
        client,
        [
            *page_urls[:4],
            "/editor/",
            "/editor/?q=page",
            "/editor/articles/new",
            "/editor/articles/1/edit",
            "/editor/articles/1/delete",
        ],
    )


def test_fragments_are_never_whole_pages(client, auth, make_article):
    article = make_article("Fragment")
    for url in (
        f"/sidebars/featured?exclude={article.id}",
        "/sidebars/latest",
        f"/sidebars/related/{article.id}",
    ):
        assert "<html" not in client.get(url).text
    auth.login("editor")
    for url in ("/editor/rows?q=x", "/editor/slug-check?slug=a"):
        assert "<html" not in client.get(url).text


def test_the_only_unescaped_output_is_the_article_body():
    uses = [
        (path.relative_to(TEMPLATES).as_posix(), line.strip())
        for path in TEMPLATES.rglob("*.html")
        for line in path.read_text().splitlines()
        if "|safe" in line.replace(" ", "") or "Markup(" in line or "autoescape false" in line
    ]
    assert uses == [
        ("articles/_body.html", '<div class="article-body">{{ article.body_html|safe }}</div>')
    ]


def test_htmx_is_vendored_and_nothing_loads_from_other_sites(client):
    vendored = list((ROOT / "static" / "vendor").glob("htmx-2.*.min.js"))
    assert len(vendored) == 1
    page = client.get("/").text
    assert re.search(rf'src="/static/vendor/{re.escape(vendored[0].name)}\?v=[0-9a-f]{{12}}"', page)
    # The canonical address is absolute by definition, and nothing is loaded from it.
    page = page.replace('<link rel="canonical" href="http://localhost/">', "")
    assert not re.search(r'(src|href)="(https?:)?//', page)
    with client.get(f"/static/vendor/{vendored[0].name}") as script:
        assert script.status_code == 200


def test_htmx_config_forbids_eval_and_inline_styles(client):
    page = client.get("/").text
    assert '"allowEval": false' in page and '"includeIndicatorStyles": false' in page
    assert "<script>" not in page and " style=" not in page


def test_templates_have_no_inline_scripts_or_handlers():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        # JSON-LD is a data block, never run: no exception to the policy.
        assert not re.search(r'<script(?![^>]*\b(src=|type="application/ld\+json"))', text), path
        assert not re.search(r"\son[a-z]+=", text), path
        assert "style=" not in text, path


def test_media_names_outside_the_pattern_are_404(client):
    for name in ("..%2Fsecret_key", "secret_key", "x.jpg", "0123456789abcdef0123456789abcdef.svg"):
        assert client.get(f"/media/{name}").status_code == 404


def test_media_file_missing_is_404(client):
    assert client.get("/media/0123456789abcdef0123456789abcdef.jpg").status_code == 404


def test_no_template_refers_to_a_cdn():
    for path in [*TEMPLATES.rglob("*.html"), *Path(ROOT / "static" / "css").glob("*.css")]:
        assert "cdn" not in path.read_text().lower(), path


def test_favicon_is_served_for_clients_that_ask_the_conventional_path(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"] == "/static/favicon.svg"
    assert re.search(r'rel="icon" href="/static/favicon.svg\?v=[0-9a-f]{12}"', client.get("/").text)


def test_numbers_too_large_for_the_database_are_404_not_500(client, auth, make_article):
    huge = "9" * 25
    make_article("Listed")
    assert client.get(f"/?page={huge}").status_code == 200
    assert client.get(f"/latest?page={2**40}").status_code == 200
    assert "Listed" in client.get(f"/sidebars/latest?exclude={huge}").text
    auth.login("editor")
    assert client.get(f"/editor/articles/{huge}/edit").status_code == 404
    assert client.get(f"/editor/articles/{huge}/delete").status_code == 404


def test_method_not_allowed_page_keeps_the_allow_header(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and '<main id="main"' in response.text


@pytest.mark.parametrize(("hops", "address"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_client_address_comes_from_the_proxy_only_when_configured(tmp_path, hops, address):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'proxy.db'}",
            "PROXY_FIX": hops,
        }
    )
    app.add_url_rule("/who", "who", lambda: f"{request.remote_addr} {request.scheme}")
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    text = app.test_client().get("/who", headers=headers).text
    assert text == f"{address} {'https' if hops else 'http'}"


def test_stale_token_on_an_htmx_request_leaves_the_form_alone(client, auth, hx):
    auth.login("editor")
    response = hx.post("/editor/preview", data={"body": "text"}, headers={"X-CSRFToken": "old"})
    assert response.headers["HX-Retarget"] == "#session-notice"
    assert "Nothing you typed is lost" in response.text and "<html" not in response.text

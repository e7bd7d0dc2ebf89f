"""Delivery: the readers' stylesheet inline; content-hashed static URLs cached for a year;
compression for readers only.
"""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

import brotli
import pytest
from backports import zstd
from flask import Flask

from blog.config import ROOT
from blog.dates import utcnow
from blog.delivery import _fingerprint, _read_stylesheet

ONE_YEAR = "max-age=31536000"


def static_url(page: str, filename: str) -> str:
    match = re.search(rf'"(/static/{re.escape(filename)}\?v=[0-9a-f]{{12}})"', page)
    assert match, f"no fingerprinted URL for {filename}"
    return match.group(1)


def test_static_files_under_their_hash_are_kept_for_a_year(client):
    url = static_url(client.get("/").text, "favicon.svg")
    with client.get(url) as response:
        assert response.status_code == 200
        cache = response.headers["Cache-Control"]
        assert ONE_YEAR in cache and "immutable" in cache and "public" in cache
    for stale in ("/static/favicon.svg", "/static/favicon.svg?v=000000000000"):
        with client.get(stale) as response:
            assert response.status_code == 200
            assert "immutable" not in response.headers.get("Cache-Control", ""), stale


def test_a_changed_file_gets_a_new_address(app, tmp_path):
    (tmp_path / "style.css").write_text("a{color:red}")
    app.static_folder = str(tmp_path)
    with app.test_request_context():
        before = _fingerprint("style.css")
        (tmp_path / "style.css").write_text("a{color:blue}")
        after = _fingerprint("style.css")
        assert re.fullmatch(r"[0-9a-f]{12}", before) and before != after
        assert _fingerprint("missing.css") == "" and _fingerprint("../secret") == ""


def test_the_readers_stylesheet_is_inside_every_page_and_no_longer_linked(client, auth):
    css = (ROOT / "static" / "css" / "site.css").read_text(encoding="utf-8")
    reader = client.get("/").text
    auth.login("editor")
    staff = client.get("/editor/").text
    for page in (reader, staff):
        assert f"<style>{css}</style>" in page and "site.css" not in page
    assert "newsroom.css" not in reader
    static_url(staff, "css/newsroom.css")


def test_a_stylesheet_that_could_end_its_style_element_is_refused(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("a::after { content: '</STYLE><script>' }")
    with pytest.raises(ValueError, match="</style"):
        _read_stylesheet(Flask(__name__, static_folder=str(tmp_path)))


def test_reader_pages_come_compressed_as_the_browser_prefers(client, make_article):
    article = make_article("Harbour reopens")
    plain = client.get(f"/articles/{article.slug}").data
    for encoding, decode in (
        ("zstd", zstd.decompress),
        ("br", brotli.decompress),
        ("gzip", gzip.decompress),
    ):
        response = client.get(
            f"/articles/{article.slug}", headers={"Accept-Encoding": f"{encoding}, identity"}
        )
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert decode(response.data) == plain
        assert len(response.data) < len(plain) / 2


def test_signed_in_pages_are_never_compressed_but_static_files_are(client, auth):
    auth.login("editor")
    page = client.get("/editor/", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in page.headers  # it holds a CSRF token (BREACH)
    css_url = static_url(page.text, "css/newsroom.css")
    with client.get(css_url, headers={"Accept-Encoding": "br, gzip"}) as css:
        assert css.headers["Content-Encoding"] == "br"
    with client.get(css_url, headers={"Accept-Encoding": "gzip"}) as css:
        assert css.headers["Content-Encoding"] == "gzip"


def test_the_sign_in_form_is_never_compressed(client):
    # It holds the session's CSRF token, which stays valid once signed in, next to the
    # address it was asked with (BREACH).
    page = client.get("/auth/login?next=/editor/", headers={"Accept-Encoding": "zstd, br, gzip"})
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert "Content-Encoding" not in page.headers


def test_reader_pages_may_be_kept_briefly_and_are_revalidated_by_etag(client, make_article):
    article = make_article("Harbour reopens")
    for url in (f"/articles/{article.slug}", "/", "/latest", "/sidebars/latest"):
        response = client.get(url)
        cache = response.cache_control
        assert cache.public and cache.max_age == 60 and cache.stale_while_revalidate == 300, url
        assert "Cookie" in response.headers["Vary"] and response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", url


def test_no_cache_keeps_a_page_past_the_next_scheduled_publication(client, make_article):
    make_article("Out now")
    make_article("Out soon", published_at=utcnow() + timedelta(seconds=30))
    cache = client.get("/").cache_control
    assert cache.public and 25 <= cache.max_age <= 30 and cache.stale_while_revalidate == 0


def test_pages_for_the_newsroom_and_errors_are_never_shared(client, auth, make_article):
    article = make_article("Harbour reopens")
    assert client.get("/no-such-page").cache_control.private
    auth.login("editor")
    for url in (f"/articles/{article.slug}", "/", "/editor/"):
        response = client.get(url)
        assert response.cache_control.private and response.cache_control.no_cache, url
        assert not response.cache_control.public and "ETag" not in response.headers, url

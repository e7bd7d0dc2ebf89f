"""Page metadata: descriptions, canonical addresses, OpenGraph and Twitter tags, JSON-LD."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from blog import images, metadata
from blog.dates import utcnow
from blog.models import Article
from tests.test_images import noisy_jpeg

LONG_BODY = " ".join(f"Word{n} harbour news." for n in range(400))


def head(client: FlaskClient, url: str) -> lxml.html.HtmlElement:
    """The parsed ``<head>`` of the page at ``url``, which must answer 200."""
    response = client.get(url)
    assert response.status_code == 200, url
    return lxml.html.document_fromstring(response.text).head


def meta(page: lxml.html.HtmlElement, key: str) -> list[str]:
    """The contents of every ``<meta>`` named ``key`` (by ``property`` or ``name``)."""
    found = page.xpath("meta[@property=$key or @name=$key]/@content", key=key)
    return [str(value) for value in found]


def one(page: lxml.html.HtmlElement, key: str) -> str:
    """The content of the single ``<meta>`` named ``key``."""
    values = meta(page, key)
    assert len(values) == 1, (key, values)
    return values[0]


def canonical(page: lxml.html.HtmlElement) -> str:
    """The page's one canonical address."""
    (href,) = page.xpath("link[@rel='canonical']/@href")
    return str(href)


def structured_data(page: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD block of the page, parsed."""
    return [json.loads(block.text) for block in page.xpath("script[@type='application/ld+json']")]


def hero_article(app: Flask, make_article: Callable[..., Article], **fields: Any) -> Article:
    """A published article with a stored 2000 by 1000 hero image."""
    with app.app_context():
        hero = images.store(io.BytesIO(noisy_jpeg((2000, 1000))))
    return make_article(
        hero_image=hero.name,
        hero_width=2000,
        hero_height=1000,
        hero_alt="The bridge at dawn",
        **fields,
    )


def test_article_without_a_hero_gets_opengraph_article_tags_and_a_summary_card(
    client, make_article
):
    make_article(
        "Harbour reopens",
        slug="harbour",
        summary="Boats are back after the winter.",
        section="Local",
        tags=["port", "boats"],
    )
    page = head(client, "/articles/harbour?utm_source=newsletter")

    assert page.findtext("title") == "Harbour reopens · Dateline"
    url = "http://localhost/articles/harbour"
    assert canonical(page) == url
    assert one(page, "description") == "Boats are back after the winter."
    assert one(page, "og:type") == "article"
    assert one(page, "og:title") == "Harbour reopens"
    assert one(page, "og:description") == "Boats are back after the winter."
    assert one(page, "og:url") == url
    assert one(page, "og:site_name") == "Dateline"
    assert one(page, "og:locale") == "en_US"
    assert one(page, "article:author") == "http://localhost/authors/reporter"
    assert one(page, "article:section") == "Local"
    assert meta(page, "article:tag") == ["boats", "port"]
    assert one(page, "twitter:card") == "summary"
    assert one(page, "twitter:title") == "Harbour reopens"
    assert one(page, "twitter:description") == "Boats are back after the winter."
    for absent in ("og:image", "twitter:image", "twitter:image:alt"):
        assert meta(page, absent) == []


def test_article_with_a_hero_gets_a_large_image_card(app, client, make_article):
    article = hero_article(app, make_article, slug="bridge")
    page = head(client, "/articles/bridge")

    stem = article.hero_image.removesuffix(".jpg")
    image = f"http://localhost/media/{stem}-1600.jpg"
    assert one(page, "twitter:card") == "summary_large_image"
    assert one(page, "og:image") == one(page, "twitter:image") == image
    assert one(page, "twitter:image:alt") == one(page, "og:image:alt") == "The bridge at dawn"
    with client.get(urlsplit(image).path) as response:
        assert response.status_code == 200


def test_news_article_structured_data_field_by_field(app, client, make_article):
    article = hero_article(
        app,
        make_article,
        title="Bridge reopens",
        slug="bridge",
        summary="Traffic flows again.",
        section="Local",
        tags=["roads", "bridges"],
    )
    page = head(client, "/articles/bridge")
    (data,) = structured_data(page)

    url = "http://localhost/articles/bridge"
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Bridge reopens"
    assert data["description"] == "Traffic flows again."
    published = datetime.fromisoformat(data["datePublished"])
    modified = datetime.fromisoformat(data["dateModified"])
    assert published.utcoffset() == modified.utcoffset() == timedelta(0)
    assert published == article.published_at and modified >= published
    assert data["author"] == {
        "@type": "Person",
        "name": "Reporter",
        "url": "http://localhost/authors/reporter",
    }
    stem = article.hero_image.removesuffix(".jpg")
    assert data["image"] == [
        f"http://localhost/media/{stem}-{width}.jpg" for width in (1600, 960, 480)
    ]
    for image in data["image"]:
        with client.get(urlsplit(image).path) as response:
            assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert data["articleSection"] == "Local"
    assert data["keywords"] == ["bridges", "roads"]
    assert data["inLanguage"] == "en"

    publisher = data["publisher"]
    assert publisher["@type"] == "Organization" and publisher["name"] == "Dateline"
    logo = publisher["logo"]
    assert logo["@type"] == "ImageObject" and logo["url"].startswith("http://localhost/static/")
    address = urlsplit(logo["url"])
    with client.get(f"{address.path}?{address.query}") as response:
        assert response.status_code == 200 and response.mimetype == "image/png"
        with Image.open(io.BytesIO(response.data)) as picture:
            assert picture.size == (logo["width"], logo["height"])
    assert min(logo["width"], logo["height"]) >= 112  # Google's smallest logo


def test_structured_data_leaves_out_small_renditions_and_missing_fields(app, client, make_article):
    with app.app_context():
        hero = images.store(io.BytesIO(noisy_jpeg((600, 80))))
    make_article(slug="strip", hero_image=hero.name, hero_width=600, hero_height=80, hero_alt="A")
    (data,) = structured_data(head(client, "/articles/strip"))

    # 480 by 64 has fewer pixels than Google accepts; the widest is kept whatever its size.
    assert data["image"] == [f"http://localhost/media/{hero.name.removesuffix('.jpg')}-600.jpg"]
    assert "articleSection" not in data and "keywords" not in data


def test_headline_is_cut_between_words_to_google_limit(client, make_article):
    title = "Council " + "approves the harbour budget " * 6  # 170 characters
    make_article(title.strip(), slug="long")
    page = head(client, "/articles/long")

    (data,) = structured_data(page)
    assert len(data["headline"]) <= 110
    kept = data["headline"].removesuffix("…")
    assert data["headline"].endswith("…") and title.startswith(kept)
    assert title[len(kept)] == " "  # the last word kept is whole
    assert one(page, "og:title") == title.strip()


def test_hostile_title_and_summary_cannot_leave_their_tags(client, make_article):
    title = "</script><script>alert(1)</script>"
    summary = '"><script>alert(2)</script>&amp;'
    make_article(title, slug="hostile", summary=summary)
    response = client.get("/articles/hostile")
    page = lxml.html.document_fromstring(response.text).head

    # htmx and the JSON-LD block, nothing else.
    assert len(page.xpath("script")) == 2
    assert "<script>alert" not in response.text
    (data,) = structured_data(page)
    assert data["headline"] == title and data["description"] == summary
    assert one(page, "og:title") == one(page, "twitter:title") == title
    assert one(page, "description") == one(page, "og:description") == summary


def test_description_falls_back_to_the_start_of_the_text_cut_between_words(client, make_article):
    make_article(slug="long", body=f"*{LONG_BODY}*")
    make_article(slug="short", body="Only a line.")
    page = head(client, "/articles/long")

    description = one(page, "description")
    assert len(description) <= metadata.DESCRIPTION_LENGTH
    assert description.endswith("…")
    assert LONG_BODY.startswith(description.removesuffix("…"))
    assert LONG_BODY[len(description) - 1] == " "  # the last word kept is whole
    assert one(page, "og:description") == one(page, "twitter:description") == description
    assert one(head(client, "/articles/short"), "description") == "Only a line."


def test_description_reads_only_the_start_of_a_long_body(app, monkeypatch):
    body = "<p>" + "Words of a long story. " * 10_000 + "</p>" + "<p>More.</p>" * 2_000
    read: list[int] = []
    original = metadata.plain_text
    monkeypatch.setattr(
        metadata, "plain_text", lambda html: read.append(len(html)) or original(html)
    )

    text = metadata.opening_text(body, metadata.DESCRIPTION_LENGTH)

    assert text.startswith("Words of a long story.") and len(text) > metadata.DESCRIPTION_LENGTH
    assert sum(read) <= metadata.OPENING_HTML
    assert metadata.opening_text("<p>Short &amp; <em>sweet</em>.</p>", 160) == "Short & sweet."


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short enough", 12, "Short enough"),
        ("One two three", 12, "One two…"),
        ("One two, three", 12, "One two…"),
        ("One two three", 8, "One two…"),
        ("Unbreakableword here", 10, "Unbreakab…"),
        ("  Spaces\n\tfolded  ", 20, "Spaces folded"),
    ],
)
def test_shorten_cuts_between_words_within_the_limit(text, limit, expected):
    assert metadata.shorten(text, limit) == expected
    assert len(metadata.shorten(text, limit)) <= limit


def test_canonical_addresses_drop_query_junk_and_the_first_page(app, client, make_article):
    app.config["ARTICLES_PER_PAGE"] = 1
    for n in range(4):
        make_article(section="Local", featured=True, slug=f"story-{n}")
    cases = {
        "/?utm_source=feed": "http://localhost/",
        "/?page=1&fbclid=x": "http://localhost/",
        "/?page=2&utm_medium=x": "http://localhost/?page=2",
        "/latest?page=1&utm_source=x": "http://localhost/latest",
        "/latest?utm_campaign=x&page=3": "http://localhost/latest?page=3",
        "/featured?ref=x": "http://localhost/featured",
        "/sections/local?page=2&gclid=y": "http://localhost/sections/local?page=2",
        "/authors/reporter?page=01": "http://localhost/authors/reporter",
        "/search?q=story&utm_source=x": "http://localhost/search?q=story",
        "/search?q=&utm_source=x": "http://localhost/search",
    }
    for url, expected in cases.items():
        page = head(client, url)
        assert canonical(page) == expected, url
        assert one(page, "og:url") == expected, url


def test_listing_pages_describe_themselves_as_websites(app, client, make_article):
    make_article("Picked", featured=True, section="Local")
    featured = head(client, "/featured")
    assert one(featured, "description") == "Picked by our editors."
    assert one(featured, "og:type") == "website"
    assert one(featured, "og:title") == "Featured posts"
    assert one(featured, "og:site_name") == "Dateline"
    assert one(featured, "og:locale") == "en_US"
    assert one(head(client, "/latest"), "og:description") == "The latest posts from Dateline."

    app.config["SITE_DESCRIPTION"] = "News from the harbour town."
    for url in ("/", "/sections/local"):
        page = head(client, url)
        assert one(page, "description") == one(page, "og:description")
        assert one(page, "description") == "News from the harbour town.", url


def test_listing_title_names_pages_past_the_first(app, client, make_article):
    app.config["ARTICLES_PER_PAGE"] = 1
    make_article()
    make_article()
    assert head(client, "/latest").findtext("title") == "Latest posts · Dateline"
    assert head(client, "/latest?page=2").findtext("title") == "Latest posts · page 2 · Dateline"


def test_front_page_carries_website_structured_data_on_its_first_page(app, client, make_article):
    app.config["ARTICLES_PER_PAGE"] = 1
    for _ in range(3):
        make_article()
    (data,) = structured_data(head(client, "/"))
    assert data["@type"] == "WebSite"
    assert data["url"] == "http://localhost/" and data["name"] == "Dateline"
    assert data["publisher"]["logo"]["url"].startswith("http://localhost/static/")
    assert structured_data(head(client, "/?page=2")) == []
    assert structured_data(head(client, "/latest")) == []


def test_staff_preview_of_unpublished_articles_is_noindex_without_structured_data(
    client, auth, make_article
):
    make_article("Draft", slug="draft", status="draft", published_at=None)
    make_article("Later", slug="later", published_at=utcnow() + timedelta(days=1))
    make_article("Out", slug="out")
    auth.login("editor")
    for slug in ("draft", "later"):
        page = head(client, f"/articles/{slug}")
        assert one(page, "robots") == "noindex"
        assert structured_data(page) == []
        assert meta(page, "article:published_time") == []
    page = head(client, "/articles/out")
    assert meta(page, "robots") == [] and len(structured_data(page)) == 1


def test_locale_and_language_follow_the_site_language(app, client, make_article):
    app.config["LANGUAGE"] = "uk"
    make_article(slug="kyiv")
    page = head(client, "/articles/kyiv")
    assert one(page, "og:locale") == "uk_UA"
    assert structured_data(page)[0]["inLanguage"] == "uk"


def test_logo_is_measured_once_when_the_app_starts(app, client, make_article, monkeypatch):
    def refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise AssertionError("the logo was opened while serving a page")

    monkeypatch.setattr(metadata.Image, "open", refuse)
    make_article(slug="story")
    (data,) = structured_data(head(client, "/articles/story"))
    assert (data["publisher"]["logo"]["width"], data["publisher"]["logo"]["height"]) == (512, 512)


def test_the_logo_setting_names_a_picture_in_static_measured_at_start(tmp_path: Path) -> None:
    Image.new("RGB", (300, 120)).save(tmp_path / "wordmark.png")
    site = Flask(__name__, static_folder=str(tmp_path))
    site.config["SITE_LOGO"] = "wordmark.png"
    metadata.init_app(site)
    assert site.extensions["site_logo"] == metadata.Logo("wordmark.png", 300, 120)


@pytest.mark.parametrize("logo", ["missing.png", "logo.svg", "logo.bmp", "../outside.png"])
def test_a_logo_that_is_not_a_web_picture_in_static_stops_the_app_with_the_setting_named(
    tmp_path: Path, logo: str
) -> None:
    static = tmp_path / "static"
    static.mkdir()
    Image.new("RGB", (200, 200)).save(static / "logo.bmp")  # a picture, in no web format
    Image.new("RGB", (200, 200)).save(tmp_path / "outside.png")
    (static / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    site = Flask(__name__, static_folder=str(static))
    site.config["SITE_LOGO"] = logo
    with pytest.raises(ValueError, match="SITE_LOGO"):
        metadata.init_app(site)


def test_the_default_logo_is_large_enough_for_search_engines(app: Flask) -> None:
    logo = app.extensions["site_logo"]
    assert logo.filename == "logo.png" and min(logo.width, logo.height) >= 112

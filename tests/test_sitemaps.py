"""Sitemaps and robots.txt, parsed as a crawler would."""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from lxml import etree

from blog import sitemaps
from blog.dates import utcnow
from blog.models import Article
from blog.sitemaps import NEWS, SITEMAP
from tests.test_bad_input import assert_error_page
from tests.test_queries import counted, queries

NAMESPACES = {"s": SITEMAP, "news": NEWS}
W3C_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
PUBLIC_ARTICLES = ["/articles/harbour", "/articles/concert", "/articles/ferry", "/articles/bakery"]
LISTINGS = [
    "/",
    "/sections/culture",
    "/sections/local",
    "/tags/boats",
    "/tags/harbour",
    "/authors/ana",
    "/authors/ben",
]


def parse(client, url: str) -> etree._Element:
    """The XML document at ``url``, checked to be sent as UTF-8 XML."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.content_type == "application/xml; charset=utf-8"
    return etree.fromstring(response.data)


def entries(root: etree._Element) -> dict[str, str | None]:
    """Each ``loc`` of a urlset or sitemap index, with its ``lastmod`` (None when absent)."""
    found: dict[str, str | None] = {}
    for item in root.xpath("s:url | s:sitemap", namespaces=NAMESPACES):
        loc = item.findtext("s:loc", namespaces=NAMESPACES)
        assert loc not in found, f"{loc} listed twice"
        found[loc] = item.findtext("s:lastmod", namespaces=NAMESPACES)
    return found


def path(url: str) -> str:
    """The path of an absolute URL on the test host."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "localhost"), url
    return parts.path


def w3c(moment: datetime) -> str:
    """``moment`` as the sitemaps write it."""
    return moment.replace(microsecond=0).isoformat()


@pytest.fixture
def newsroom(make_article, make_user) -> dict[str, Article]:
    """Two writers' public articles in two sections with tags, and some crawlers must not see,
    each the only article of its section, tag or author.
    """
    ana = make_user("ana", display_name="Ana Ruiz").id
    ben = make_user("ben", display_name="Ben Okafor").id
    carla = make_user("carla").id
    now = utcnow()
    return {
        "harbour": make_article(
            "Harbour reopens",
            slug="harbour",
            author_id=ana,
            section="Local",
            tags=["harbour", "boats"],
            published_at=now - timedelta(hours=5),
            revised_at=now - timedelta(minutes=30),
        ),
        "concert": make_article(
            "Concert season",
            slug="concert",
            author_id=ben,
            section="Culture",
            published_at=now - timedelta(hours=2),
        ),
        "ferry": make_article(
            "Ferry timetable",
            slug="ferry",
            author_id=ben,
            section="Local",
            tags=["harbour"],
            published_at=now - timedelta(hours=3),
        ),
        "bakery": make_article(
            "Bakery opens", slug="bakery", author_id=ana, published_at=now - timedelta(days=4)
        ),
        "draft": make_article("Draft", slug="draft", status="draft", section="Drafts"),
        "review": make_article("In review", slug="review", status="review", tags=["pending"]),
        "scheduled": make_article(
            "Scheduled", slug="scheduled", author_id=carla, published_at=now + timedelta(hours=1)
        ),
        "trashed": make_article(
            "Trashed", slug="trashed", status="draft", section="Gone", deleted_at=now
        ),
    }


def test_sitemap_lists_every_public_article_and_listing_at_absolute_urls(client, newsroom):
    root = parse(client, "/sitemap.xml")
    assert root.tag == f"{{{SITEMAP}}}urlset"
    assert root.nsmap == {None: SITEMAP}
    urls = entries(root)
    assert sorted(path(url) for url in urls) == sorted([*LISTINGS, *PUBLIC_ARTICLES])
    for url in urls:
        assert client.get(path(url)).status_code == 200, url


def test_sitemap_leaves_out_drafts_scheduled_review_and_trash_and_their_listings(client, newsroom):
    sent = client.get("/sitemap.xml").text
    for hidden in ("draft", "review", "scheduled", "trashed", "drafts", "pending", "gone"):
        assert f"/{hidden}<" not in sent
    assert "/authors/carla" not in sent
    assert "/authors/reporter" not in sent


def test_an_articles_lastmod_is_its_last_modification_as_a_w3c_datetime(client, newsroom):
    urls = entries(parse(client, "/sitemap.xml"))
    assert all(W3C_DATETIME.fullmatch(lastmod) for lastmod in urls.values())
    assert urls["http://localhost/articles/harbour"] == w3c(newsroom["harbour"].revised_at)
    assert urls["http://localhost/articles/bakery"] == w3c(newsroom["bakery"].published_at)


def test_a_listings_lastmod_is_its_newest_articles_publication(client, newsroom):
    urls = entries(parse(client, "/sitemap.xml"))
    assert urls["http://localhost/"] == w3c(newsroom["concert"].published_at)
    assert urls["http://localhost/sections/local"] == w3c(newsroom["ferry"].published_at)
    assert urls["http://localhost/tags/boats"] == w3c(newsroom["harbour"].published_at)
    assert urls["http://localhost/authors/ana"] == w3c(newsroom["harbour"].published_at)


def test_an_empty_site_lists_its_front_page_without_a_date(client):
    assert entries(parse(client, "/sitemap.xml")) == {"http://localhost/": None}


def test_past_sitemap_size_the_sitemap_is_an_index_of_parts_holding_each_page_once(
    app, client, newsroom
):
    app.config["SITEMAP_SIZE"] = 3
    root = parse(client, "/sitemap.xml")
    assert root.tag == f"{{{SITEMAP}}}sitemapindex"
    parts = entries(root)
    assert [path(url) for url in parts] == [
        "/sitemaps/articles-1.xml",
        "/sitemaps/articles-2.xml",
        "/sitemaps/listings-1.xml",
        "/sitemaps/listings-2.xml",
        "/sitemaps/listings-3.xml",
    ]
    pages: list[str] = []
    for url, lastmod in parts.items():
        part = parse(client, path(url))
        assert part.tag == f"{{{SITEMAP}}}urlset"
        urls = entries(part)
        assert 1 <= len(urls) <= 3
        assert lastmod == max(urls.values())
        pages += [path(url) for url in urls]
    assert sorted(pages) == sorted([*LISTINGS, *PUBLIC_ARTICLES])


@pytest.mark.parametrize(
    "url",
    [
        "/sitemaps/articles-3.xml",
        "/sitemaps/listings-4.xml",
        "/sitemaps/articles-0.xml",
        "/sitemaps/articles-2147483648.xml",
        "/sitemaps/articles-99999999999999999999.xml",
        "/sitemaps/listings-x.xml",
    ],
)
def test_a_part_out_of_range_is_404(app, client, newsroom, url):
    app.config["SITEMAP_SIZE"] = 3
    assert_error_page(client.get(url), 404, "We could not find that page.")


def test_articles_keep_their_part_as_newer_ones_are_published(app, client, make_article):
    app.config["SITEMAP_SIZE"] = 2
    for n in range(3):
        make_article(slug=f"old-{n}", published_at=utcnow() - timedelta(days=10 - n))
    first = entries(parse(client, "/sitemaps/articles-1.xml"))
    make_article(slug="new", published_at=utcnow())
    assert entries(parse(client, "/sitemaps/articles-1.xml")) == first
    assert "http://localhost/articles/new" in entries(parse(client, "/sitemaps/articles-2.xml"))


def test_the_index_runs_as_many_queries_for_many_articles_as_for_few(app, make_article):
    app.config["SITEMAP_SIZE"] = 1
    for n in range(2):
        make_article(section=f"Section {n}", tags=[f"tag-{n}"])
    few = queries(app, "/sitemap.xml")
    for n in range(2, 10):
        make_article(section=f"Section {n}", tags=[f"tag-{n}"])
    assert len(queries(app, "/sitemap.xml")) == len(few)


def test_news_sitemap_holds_the_last_two_days_newest_first(client, make_article):
    now = utcnow()
    make_article("Three days old", slug="old", published_at=now - timedelta(days=3))
    hour_old = make_article("Fish & <Chips>", slug="fish", published_at=now - timedelta(hours=1))
    make_article("Just in", slug="just-in", published_at=now - timedelta(minutes=5))
    make_article("Draft", slug="draft", status="draft", published_at=now - timedelta(hours=1))
    make_article("Soon", slug="soon", published_at=now + timedelta(minutes=5))
    root = parse(client, "/sitemaps/news.xml")
    assert root.tag == f"{{{SITEMAP}}}urlset"
    assert root.nsmap == {None: SITEMAP, "news": NEWS}
    assert list(entries(root)) == [
        "http://localhost/articles/just-in",
        "http://localhost/articles/fish",
    ]
    fish = root.xpath(
        "s:url[s:loc='http://localhost/articles/fish']/news:news", namespaces=NAMESPACES
    )[0]
    assert fish.findtext("news:publication/news:name", namespaces=NAMESPACES) == "Dateline"
    assert fish.findtext("news:publication/news:language", namespaces=NAMESPACES) == "en"
    assert fish.findtext("news:publication_date", namespaces=NAMESPACES) == w3c(
        hour_old.published_at
    )
    assert fish.findtext("news:title", namespaces=NAMESPACES) == "Fish & <Chips>"
    assert (
        "<news:title>Fish &amp; &lt;Chips&gt;</news:title>" in client.get("/sitemaps/news.xml").text
    )


def test_news_sitemap_names_the_site_in_its_language(app, client, make_article):
    app.config.update(LANGUAGE="uk", SITE_NAME="Вісті & Co")
    make_article("Новини")
    news = parse(client, "/sitemaps/news.xml").find("s:url/news:news", namespaces=NAMESPACES)
    assert news.findtext("news:publication/news:language", namespaces=NAMESPACES) == "uk"
    assert news.findtext("news:publication/news:name", namespaces=NAMESPACES) == "Вісті & Co"
    assert news.findtext("news:title", namespaces=NAMESPACES) == "Новини"


def test_news_sitemap_holds_at_most_news_size_articles(client, make_article, monkeypatch):
    monkeypatch.setattr(sitemaps, "NEWS_SIZE", 2)
    for n in range(3):
        make_article(slug=f"story-{n}", published_at=utcnow() - timedelta(hours=n + 1))
    urls = list(entries(parse(client, "/sitemaps/news.xml")))
    assert urls == ["http://localhost/articles/story-0", "http://localhost/articles/story-1"]


def test_a_headline_with_a_control_character_still_makes_valid_xml(client, make_article):
    make_article("Bell\x07 rings", slug="bell")
    title = parse(client, "/sitemaps/news.xml").findtext(".//news:title", namespaces=NAMESPACES)
    assert title == "Bell rings"
    assert "http://localhost/articles/bell" in entries(parse(client, "/sitemap.xml"))


def test_robots_txt_keeps_crawlers_to_readers_pages_and_names_the_sitemaps(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.text.splitlines() == [
        "User-agent: *",
        "Allow: /",
        "Disallow: /editor/",
        "Disallow: /admin/",
        "Disallow: /auth/",
        "Disallow: /search",
        "",
        "Sitemap: http://localhost/sitemap.xml",
        "Sitemap: http://localhost/sitemaps/news.xml",
    ]


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemaps/news.xml", "/robots.txt"])
def test_sitemaps_are_reader_pages_kept_by_the_page_cache_and_by_caches(app, make_article, url):
    make_article()
    first = app.test_client().get(url)
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    with counted(app) as statements:
        again = app.test_client().get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert statements == []
    assert again.status_code == 304


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemaps/news.xml"])
def test_sitemaps_are_compressed_for_readers(client, make_article, url):
    for n in range(5):
        make_article(f"Story {n}", section="Local")
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == client.get(url).data


def test_a_new_publication_renews_the_kept_sitemaps(client, make_article):
    make_article(slug="first")
    for url in ("/sitemap.xml", "/sitemaps/news.xml"):
        assert "/articles/second<" not in client.get(url).text
    make_article(slug="second")
    for url in ("/sitemap.xml", "/sitemaps/news.xml"):
        assert "/articles/second<" in client.get(url).text

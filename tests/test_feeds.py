"""Feeds: Atom and RSS 2.0 for the site and every listing, parsed as a feed reader would."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
import sqlalchemy as sa
from PIL import Image

from blog import images
from blog.dates import utcnow
from blog.extensions import db
from blog.feeds import FEED_SIZE
from blog.models import Article
from tests.test_editor import form_data, stored

KINDS = [("xml", "atom10", "application/atom+xml"), ("rss", "rss20", "application/rss+xml")]
LISTINGS = ["/", "/sections/local/", "/tags/harbour/", "/authors/ana/"]


def parse(client: Any, url: str) -> feedparser.FeedParserDict:
    """The feed at ``url`` as sent: feedparser neither cleans its HTML nor resolves its URLs."""
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = feedparser.parse(response.data, sanitize_html=False, resolve_relative_uris=False)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def moment(parsed_time: Any) -> datetime:
    """A feedparser time (UTC, whole seconds) as an aware datetime."""
    return datetime(*parsed_time[:6], tzinfo=UTC)


def seconds(value: datetime) -> datetime:
    """``value`` to the whole second, as feeds carry it."""
    return value.replace(microsecond=0)


def content(entry: feedparser.FeedParserDict) -> str:
    """The entry's HTML: RSS carries it as the description when the article has no summary."""
    return entry.content[0].value if "content" in entry else entry.summary


def slugs(parsed: feedparser.FeedParserDict) -> list[str]:
    """The article slugs of the entries, in feed order."""
    return [entry.link.rsplit("/", 1)[1] for entry in parsed.entries]


@pytest.fixture
def newsroom(make_article, make_user) -> dict[str, Article]:
    """Two writers' articles in two sections with tags, and some readers must not see."""
    ana = make_user("ana", display_name="Ana Ruiz").id
    ben = make_user("ben", display_name="Ben Okafor").id
    now = utcnow()
    return {
        "harbour": make_article(
            "Harbour reopens",
            slug="harbour",
            author_id=ana,
            section="Local",
            tags=["harbour", "boats"],
            summary="Boats are back.",
            published_at=now - timedelta(hours=1),
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
            "Bakery opens",
            slug="bakery",
            author_id=ana,
            published_at=now - timedelta(hours=4),
        ),
        "draft": make_article("Draft", slug="draft", status="draft", section="Local"),
        "review": make_article("In review", slug="review", status="review", author_id=ana),
        "scheduled": make_article(
            "Scheduled", slug="scheduled", tags=["harbour"], published_at=now + timedelta(hours=1)
        ),
        "trashed": make_article(
            "Trashed", slug="trashed", status="draft", author_id=ana, deleted_at=now
        ),
    }


@pytest.mark.parametrize("listing", LISTINGS)
@pytest.mark.parametrize(("ending", "version", "content_type"), KINDS)
def test_every_feed_is_valid_in_its_format(
    client, newsroom, listing, ending, version, content_type
):
    response = client.get(f"{listing}feed.{ending}")
    assert response.status_code == 200
    assert response.content_type == f"{content_type}; charset=utf-8"
    parsed = parse(client, f"{listing}feed.{ending}")
    assert parsed.version == version
    assert parsed.entries


@pytest.mark.parametrize(("ending", "version", "content_type"), KINDS)
def test_site_feed_lists_public_articles_newest_first(
    client, newsroom, ending, version, content_type
):
    parsed = parse(client, f"/feed.{ending}")
    assert slugs(parsed) == ["harbour", "concert", "ferry", "bakery"]
    assert parsed.feed.title == "Dateline"
    assert parsed.feed.link == "http://localhost/"
    self_link = next(link for link in parsed.feed.links if link.rel == "self")
    assert self_link.href == f"http://localhost/feed.{ending}" and self_link.type == content_type


@pytest.mark.parametrize("ending", ["xml", "rss"])
def test_an_entry_carries_the_whole_article(client, newsroom, ending):
    article = newsroom["harbour"]
    entry = parse(client, f"/feed.{ending}").entries[0]
    assert entry.title == "Harbour reopens"
    assert entry.link == "http://localhost/articles/harbour"
    assert entry.id == f"tag:localhost,{article.created_at:%Y-%m-%d}:articles/{article.id}"
    assert entry.author == "Ana Ruiz"
    assert entry.summary == "Boats are back."
    assert content(entry) == article.body_html.strip()
    assert [tag.term for tag in entry.tags] == ["Local", "boats", "harbour"]
    assert moment(entry.published_parsed) == seconds(article.published_at)


def test_atom_entries_carry_the_updated_date_and_the_author_page(client, newsroom):
    entry = parse(client, "/feed.xml").entries[0]
    assert moment(entry.updated_parsed) == seconds(newsroom["harbour"].modified_at)
    assert entry.author_detail.href == "http://localhost/authors/ana"


@pytest.mark.parametrize(
    ("listing", "expected", "title"),
    [
        ("/sections/local/", ["harbour", "ferry"], "Dateline · Local"),
        ("/tags/harbour/", ["harbour", "ferry"], "Dateline · Tagged “harbour”"),
        ("/authors/ben/", ["concert", "ferry"], "Dateline · Ben Okafor"),
    ],
)
@pytest.mark.parametrize("ending", ["xml", "rss"])
def test_a_listing_feed_has_only_its_public_articles(
    client, newsroom, listing, expected, title, ending
):
    parsed = parse(client, f"{listing}feed.{ending}")
    assert slugs(parsed) == expected
    assert parsed.feed.title == title
    assert parsed.feed.link == f"http://localhost{listing.rstrip('/')}"


def test_drafts_reviews_scheduled_and_trashed_articles_never_appear(client, newsroom):
    hidden = {"draft", "review", "scheduled", "trashed"}
    for listing in [*LISTINGS, "/authors/reporter/"]:
        for ending in ("xml", "rss"):
            assert not hidden & set(slugs(parse(client, f"{listing}feed.{ending}")))


@pytest.mark.parametrize(
    "url",
    [
        "/sections/nowhere/feed.xml",
        "/tags/nowhere/feed.rss",
        "/authors/nobody/feed.xml",
        "/feed.json",
        "/sections/local/feed.atom",
    ],
)
def test_unknown_listing_or_format_is_the_404_page(client, newsroom, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.content_type == "text/html; charset=utf-8"
    assert "<h1" in response.text


def test_feed_holds_the_stored_sanitized_body_with_absolute_links(app, client, make_article):
    picture = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 90, 160)).save(picture, "PNG")
    picture.seek(0)
    with app.app_context():
        lanterns = images.store(picture)
    article = make_article(
        "Night market",
        slug="night-market",
        body=(
            "Stalls open at six. <script>alert('feed')</script>"
            '<img src="x" onerror="alert(2)" alt="Stalls">\n\n'
            f"![Lanterns](/media/{lanterns.name}) See [the map](/articles/map) "
            "and [below](#h-hours).\n\n## Hours\n\nLate."
        ),
    )
    stem = lanterns.name.removesuffix(".png")
    for ending in ("xml", "rss"):
        html = content(parse(client, f"/feed.{ending}").entries[0])
        assert "script" not in html and "alert" not in html and "onerror" not in html
        # A picture travels as its one image, at an absolute address.
        image = rf'<img src="http://localhost/media/{stem}-\d+\.png"[^>]* alt="Lanterns"'
        assert re.search(image, html)
        assert "<source" not in html and "srcset" not in html and "<picture" not in html
        assert '<a href="http://localhost/articles/map">the map</a>' in html
        assert '<a href="http://localhost/articles/night-market#h-hours">below</a>' in html
        assert re.search(r'<a href="http://localhost/articles/x"[^>]*>Image: Stalls</a>', html)
        assert '<h2 id="h-hours">Hours</h2>' in html
    assert "alert" not in article.body_html


def test_feed_keeps_the_newest_articles_only(client, make_article):
    for n in range(FEED_SIZE + 2):
        make_article(f"Story {n}", slug=f"story-{n}", published_at=utcnow() - timedelta(hours=n))
    parsed = parse(client, "/feed.xml")
    assert slugs(parsed) == [f"story-{n}" for n in range(FEED_SIZE)]


def test_same_data_gives_the_same_bytes(app, client, newsroom):
    # A query string is ignored by the feed but makes the request a new one for any page cache:
    # both responses are rendered, so nothing time-dependent may creep into them.
    for url in ("/feed.xml", "/feed.rss", "/tags/harbour/feed.xml"):
        first = client.get(url)
        second = client.get(f"{url}?again")
        assert first.data == second.data
        assert first.get_etag() == second.get_etag()


def test_updated_moves_when_an_article_is_edited_and_not_otherwise(app, client, auth, newsroom):
    reader = app.test_client()
    before = parse(reader, "/feed.xml")
    newest = max(article.modified_at for article in newsroom.values() if article.is_public)
    assert moment(before.feed.updated_parsed) == seconds(newest)

    auth.login("editor")  # saving a draft is no change readers see
    client.post("/editor/articles/new", data=form_data(client, status="draft"))
    assert reader.get("/feed.xml").data == reader.get("/feed.xml?again").data
    assert parse(reader, "/feed.xml").feed.updated == before.feed.updated

    ferry = newsroom["ferry"]
    url = f"/editor/articles/{ferry.id}/edit"
    data = form_data(client, url, title="Ferry timetable changes", slug="ferry", section="Local")
    assert client.post(url, data=data).status_code == 303
    after = parse(reader, "/feed.xml")
    edited = next(entry for entry in after.entries if entry.link.endswith("/ferry"))
    revised = stored(app, id=ferry.id).revised_at
    assert edited.title == "Ferry timetable changes"
    assert moment(edited.updated_parsed) == seconds(revised)
    assert moment(edited.published_parsed) == seconds(ferry.published_at)
    assert moment(after.feed.updated_parsed) == seconds(revised) > seconds(newest)
    assert slugs(after) == slugs(before)  # still in order of publication


def test_pages_advertise_the_site_feed_and_listings_their_own(client, newsroom):
    site = '<link rel="alternate" type="application/atom+xml" title="Dateline" href="/feed.xml">'
    assert site in client.get("/").text
    assert site in client.get("/articles/harbour").text
    for listing, title in [
        ("/sections/local", "Dateline · Local"),
        ("/tags/harbour", "Dateline · Tagged “harbour”"),
        ("/authors/ana", "Dateline · Ana Ruiz"),
    ]:
        page = client.get(listing).text
        head = page.split("</head>")[0]
        assert site in head
        own = (
            f'<link rel="alternate" type="application/atom+xml" title="{title}" '
            f'href="{listing}/feed.xml">'
        )
        assert own in head
        assert f'<a href="{listing}/feed.xml" type="application/atom+xml">Feed<' in page


def test_an_empty_listing_has_a_valid_feed(client, make_article):
    make_article("Only a draft", status="draft", section="Local")
    for ending, version, _ in KINDS:
        parsed = parse(client, f"/sections/local/feed.{ending}")
        assert parsed.version == version and parsed.entries == []


def test_entry_opens_with_the_hero_image_at_its_absolute_address(client, make_article):
    make_article(
        "Bridge repairs",
        hero_image="0123456789abcdef.jpg",
        hero_width=1200,
        hero_height=800,
        hero_alt="Scaffolding under the old bridge",
        hero_caption="Work starts Monday.",
    )
    for ending in ("xml", "rss"):
        html = content(parse(client, f"/feed.{ending}").entries[0])
        assert html.startswith('<figure class="hero">')
        assert 'src="http://localhost/media/0123456789abcdef-1200.jpg"' in html  # a rendition
        assert "srcset" not in html and "<source" not in html
        assert 'alt="Scaffolding under the old bridge"' in html
        assert "<figcaption>Work starts Monday." in html


def test_a_stored_url_no_parser_reads_is_kept_as_it_was(app, client, make_article):
    # The pipeline drops such URLs now; HTML stored under an older allowlist may still hold one.
    article = make_article("Odd link")
    stale = '<p>See <a href="http://[oops/">this</a> and <a href="/articles/that">that</a>.</p>'
    with app.app_context():
        db.session.execute(
            sa.update(Article).where(Article.id == article.id).values(body_html=stale)
        )
        db.session.commit()
    html = content(parse(client, "/feed.xml").entries[0])
    assert '<a href="http://[oops/">this</a>' in html
    assert '<a href="http://localhost/articles/that">that</a>' in html

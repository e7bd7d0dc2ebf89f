"""Reader pages: front page, article page anatomy, listings, and what readers may not see."""

from __future__ import annotations

import re
from datetime import timedelta

from blog.dates import utcnow


def test_front_page_shows_lead_then_latest(client, make_article):
    make_article("Older story", published_at=utcnow() - timedelta(days=2))
    make_article("Lead story", featured=True, published_at=utcnow() - timedelta(days=1))
    make_article("Newest story")
    page = client.get("/").text
    assert page.index("Lead story") < page.index("Latest posts") < page.index("Newest story")
    assert page.index("Newest story") < page.index("Older story")
    assert page.count("Lead story") == 1


def test_front_page_paginates(app, client, make_article):
    app.config["ARTICLES_PER_PAGE"] = 2
    for n in range(5):
        make_article(f"Story {n}", published_at=utcnow() - timedelta(hours=n + 1))
    first = client.get("/").text
    assert 'rel="next" href="/?page=2"' in first
    second = client.get("/?page=2")
    assert second.status_code == 200
    assert "Story 3" in second.text and 'rel="prev"' in second.text
    assert client.get("/?page=99").status_code == 404


def test_article_page_has_every_part_of_the_reference_page(client, make_article):
    article = make_article(
        "Ukraine faces a hard winter",
        summary="Power cuts are expected.",
        dateline="Kyiv, Ukraine",
        section="World",
        tags=["energy", "winter"],
        hero_image="0123456789abcdef0123456789abcdef.jpg",
        hero_width=1600,
        hero_height=900,
        hero_alt="Power lines in snow",
        hero_caption="Lines near Kyiv.",
        hero_credit="Photo: Jane Doe",
        body="Ukraine is facing a cold season.\n\n## Grid\n\nText.\n\n### Repairs\n\nMore.",
    )
    page = client.get(f"/articles/{article.slug}").text
    assert page.count("<h1") == 1 and "Ukraine faces a hard winter</h1>" in page
    assert '<p class="dek">Power cuts are expected.</p>' in page
    assert 'rel="author" href="/authors/reporter"' in page
    assert re.search(r'<time datetime="[^"]+">\w+ \d{1,2}, \d{4}</time>', page)
    assert 'alt="Power lines in snow"' in page and 'width="1600"' in page and 'height="900"' in page
    assert "Lines near Kyiv." in page and "Photo: Jane Doe" in page
    assert '<nav class="toc"' in page and 'href="#h-grid"' in page and 'href="#h-repairs"' in page
    assert re.search(
        r'<span class="dateline">Kyiv, Ukraine – \w+ \d{1,2}, \d{4} – </span>Ukraine is facing',
        page,
    )
    assert 'href="/sections/world"' in page
    assert 'href="/tags/energy"' in page and 'href="/tags/winter"' in page
    assert (
        'hx-get="/sidebars/featured?exclude=' in page
        and 'hx-get="/sidebars/latest?exclude=' in page
    )
    assert 'href="/featured"' in page and 'href="/latest"' in page


def test_table_of_contents_needs_two_headings(client, make_article):
    article = make_article("One heading", body="Intro.\n\n## Only one\n\nText.")
    assert '<nav class="toc"' not in client.get(f"/articles/{article.slug}").text


def test_updated_shows_only_after_a_later_change(client, make_article):
    published = utcnow() - timedelta(days=2)
    fresh = make_article("Fresh", published_at=published, updated_at=utcnow())
    changed = make_article("Changed", published_at=published, revised_at=utcnow())
    assert "Updated" not in client.get(f"/articles/{fresh.slug}").text
    assert "Updated" in client.get(f"/articles/{changed.slug}").text


def test_drafts_and_future_articles_are_404_for_readers(client, make_article):
    draft = make_article("Draft", status="draft", published_at=None)
    future = make_article("Future", published_at=utcnow() + timedelta(days=1))
    for article in (draft, future):
        response = client.get(f"/articles/{article.slug}")
        assert response.status_code == 404
        assert article.title not in response.text
    assert "Draft" not in client.get("/").text and "Future" not in client.get("/latest").text


def test_staff_preview_drafts_and_scheduled_articles_with_a_banner(client, auth, make_article):
    draft = make_article("Draft", status="draft", published_at=None)
    future = make_article("Future", published_at=utcnow() + timedelta(days=1))
    auth.login("writer")
    page = client.get(f"/articles/{draft.slug}").text
    assert "Not published." in page and "draft" in page
    page = client.get(f"/articles/{future.slug}").text
    assert "Not published." in page and "Scheduled for" in page
    assert '<meta name="robots" content="noindex">' in page


def test_featured_and_latest_listing_pages(client, make_article):
    make_article("Picked", featured=True)
    make_article("Ordinary")
    featured = client.get("/featured").text
    assert "Picked" in featured and "Ordinary" not in featured
    latest = client.get("/latest").text
    assert "Picked" in latest and "Ordinary" in latest


def test_section_tag_and_author_listings(client, make_article):
    make_article("In local", section="Local", tags=["council"])
    make_article("Elsewhere", section="Culture")
    assert "In local" in client.get("/sections/local").text
    assert "Elsewhere" not in client.get("/sections/local").text
    assert "In local" in client.get("/tags/council").text
    assert "In local" in client.get("/authors/reporter").text
    for missing in ("/sections/none", "/tags/none", "/authors/nobody", "/articles/none"):
        assert client.get(missing).status_code == 404


def test_reader_pages_set_no_cookie(client, make_article):
    article = make_article("Cookie-free")
    for url in ("/", f"/articles/{article.slug}", "/latest", "/sidebars/latest"):
        assert "Set-Cookie" not in client.get(url).headers

"""Related posts at the end of an article: filled by htmx on reaching them, a link without JS."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Page, expect

from blog.dates import utcnow
from blog.models import Article
from tests.browser.test_sidebars import ISO_TIME, SHORT_DATE, reveal


def test_scrolling_to_the_end_fills_the_related_box_with_links(
    page: Page, make_article: Callable[..., Article]
) -> None:
    """The box waits for the reader to reach it, then lists tag matches before section ones."""
    now = utcnow()
    make_article("Same desk", section="Local", published_at=now - timedelta(hours=1))
    make_article("Same tag", tags=["harbour"], published_at=now - timedelta(hours=2))
    make_article("Elsewhere", section="Sport")
    body = "\n\n".join(f"Paragraph {n} of a long story." for n in range(80))
    current = make_article("Story being read", section="Local", tags=["harbour"], body=body)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"/articles/{current.slug}")
    box = page.locator("#related")
    expect(box.get_by_role("heading", level=2)).to_have_text("Related")
    expect(box.locator("li")).to_have_count(0)
    assert not any("/sidebars/related/" in url for url in requested)  # not reached yet

    with page.expect_response(re.compile(rf"/sidebars/related/{current.id}$")) as response:
        reveal(page, "related")
    assert response.value.status == 200
    items = page.locator("#related li")
    expect(items).to_have_text([re.compile("^Same tag "), re.compile("^Same desk ")])
    for item in items.all():
        expect(item.get_by_role("link")).to_have_attribute("href", re.compile(r"^/articles/"))
        expect(item.locator("time")).to_have_attribute("datetime", ISO_TIME)
        expect(item.locator("time")).to_have_text(SHORT_DATE)
    expect(page.locator("section#related")).to_have_count(1)
    expect(page.locator("#related[hx-get]")).to_have_count(0)
    expect(box.get_by_role("link", name="More in Local")).to_have_attribute(
        "href", "/sections/local"
    )


def test_without_javascript_the_related_box_links_to_the_section(
    page_without_js: Page, make_article: Callable[..., Article]
) -> None:
    """Without JavaScript the box is a heading and a plain link to the article's section."""
    make_article("Same desk", section="Local")
    current = make_article("Story being read", section="Local")
    page = page_without_js
    page.goto(f"/articles/{current.slug}")
    box = page.locator("#related")
    expect(box.get_by_role("heading", level=2)).to_have_text("Related")
    expect(box.get_by_role("link", name="More in Local")).to_have_attribute(
        "href", "/sections/local"
    )
    expect(box.locator("ol, li")).to_have_count(0)

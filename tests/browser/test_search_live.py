"""Search in a real browser: live results while typing, and the plain form without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from blog.models import Article
from tests.browser.test_accessibility import assert_accessible

BOX = "Words to look for in the posts"


@pytest.fixture
def stories(make_article: Callable[..., Article]) -> None:
    """Two stories about the harbour, one about the council, and a draft about the harbour."""
    make_article("Harbour reopens", summary="Boats are back.")
    make_article("Council meets", body="The harbour budget was agreed.")
    make_article("Ferry timetable", body="Nothing about the port.")
    make_article("Harbour draft", status="draft", published_at=None)


def test_typing_shows_results_live_and_names_the_page(page: Page, stories: None) -> None:
    """Results and their count follow the typing in the same document; the address follows."""
    page.goto("/search")
    page.evaluate("window.sameDocument = true")
    box = page.get_by_label(BOX)
    hits = page.locator("#search-results h2")
    with page.expect_response(re.compile(r"/search/results\?q=harb$")) as response:
        box.press_sequentially("harb")
    assert response.value.headers["hx-replace-url"] == "/search?q=harb"
    expect(hits).to_have_text(["Harbour reopens", "Council meets"])
    expect(page.locator("#search-results mark").first).to_have_text("Harbour")
    expect(page.get_by_role("status")).to_have_text("2 posts match “harb”.")
    expect(page).to_have_url(re.compile(r"/search\?q=harb$"))

    box.press_sequentially("our boats")
    expect(hits).to_have_text(["Harbour reopens"])
    expect(page.get_by_role("status")).to_have_text("1 post matches “harbour boats”.")
    expect(page).to_have_url(re.compile(r"/search\?q=harbour\+boats$"))

    box.fill("zeppelin")
    expect(page.get_by_role("status")).to_have_text("No posts match “zeppelin”.")
    expect(hits).to_have_count(0)
    box.fill("")
    expect(page).to_have_url(re.compile(r"/search$"))
    expect(page.get_by_role("status")).to_have_text("")
    assert page.evaluate("window.sameDocument") is True

    page.goto("/search?q=harbour+boats")
    expect(hits).to_have_text(["Harbour reopens"])


def test_enter_and_reload_land_on_the_full_page(page: Page, stories: None) -> None:
    """Submitting the form or reloading after live results shows the same results as a page."""
    page.goto("/")
    page.get_by_role("link", name="Search").click()
    box = page.get_by_label(BOX)
    box.fill("council")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=council$"))
    expect(page.locator("#search-results h2")).to_have_text(["Council meets"])
    page.reload()
    expect(page.get_by_label(BOX)).to_have_value("council")
    expect(page.locator("#search-results h2")).to_have_text(["Council meets"])


def test_without_javascript_the_form_submits_and_pages(
    page_without_js: Page, make_article: Callable[..., Article]
) -> None:
    """Without JavaScript the search is a plain GET form, and the pager is plain links."""
    for n in range(12):
        make_article(f"Regatta day {n}")
    page = page_without_js
    page.goto("/search")
    page.get_by_label(BOX).fill("regatta")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=regatta$"))
    expect(page.get_by_role("status")).to_have_text("12 posts match “regatta”.")
    expect(page.locator("#search-results h2")).to_have_count(10)
    page.get_by_role("navigation", name="Pages").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/search\?page=2&q=regatta$"))
    expect(page.locator("#search-results h2")).to_have_count(2)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_search_page_passes_axe(
    new_page: Callable[..., Page], stories: None, scheme: str
) -> None:
    page = new_page(color_scheme=scheme)
    page.goto("/search?q=harbour")
    expect(page.locator("#search-results mark").first).to_be_visible()
    assert_accessible(page)

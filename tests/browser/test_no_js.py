"""With JavaScript off, readers get whole pages and the newsroom still works as plain forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from blog import images
from blog.models import Article, User
from tests.browser.conftest import LiveServer


def test_reader_pages_render_fully_without_javascript(
    page_without_js: Page,
    live_server: LiveServer,
    make_article: Callable[..., Article],
    jpeg: Path,
) -> None:
    """The front page, an article and both listings are complete without scripts."""
    with live_server.app.app_context(), jpeg.open("rb") as file:
        hero = images.store(file)
    lead = make_article(
        "Harbour reopens",
        featured=True,
        summary="Ships are back after the storm.",
        dateline="Odesa, Ukraine",
        section="Local",
        tags=["harbour"],
        hero_image=hero.name,
        hero_width=hero.width,
        hero_height=hero.height,
        hero_alt="Cranes over the harbour at dawn",
    )
    make_article("Council votes on budget")
    make_article("Festival returns", featured=True)
    page = page_without_js

    page.goto("/")
    expect(page.locator(".lead").get_by_role("link", name="Harbour reopens")).to_have_attribute(
        "href", f"/articles/{lead.slug}"
    )
    expect(page.locator(".lead").get_by_role("img")).to_have_attribute(
        "alt", "Cranes over the harbour at dawn"
    )
    expect(page.locator(".front-latest .teaser__title")).to_have_text(
        ["Council votes on budget", "Festival returns"]
    )

    page.get_by_role("link", name="Harbour reopens").click()
    expect(page).to_have_url(re.compile(rf"/articles/{lead.slug}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour reopens")
    expect(page.locator(".dek")).to_have_text("Ships are back after the storm.")
    expect(page.locator(".byline").get_by_role("link", name="Reporter")).to_be_visible()
    expect(page.get_by_role("img", name="Cranes over the harbour at dawn")).to_be_visible()
    expect(page.get_by_role("navigation", name="Contents").get_by_role("link")).to_have_text(
        ["First", "Second"]
    )
    expect(page.locator(".article-body p").first).to_have_text(
        re.compile(r"^Odesa, Ukraine – [A-Z][a-z]+ \d{1,2}, \d{4} – Body of article")
    )
    expect(page.locator(".article__footer").get_by_role("link", name="harbour")).to_be_visible()
    expect(page.locator("#sidebar-latest").get_by_role("link")).to_have_text(["All latest posts"])

    page.goto("/latest")
    expect(page.get_by_role("heading", level=1)).to_have_text("Latest posts")
    expect(page.locator(".teaser__title")).to_have_text(
        ["Harbour reopens", "Council votes on budget", "Festival returns"]
    )

    page.goto("/featured")
    expect(page.get_by_role("heading", level=1)).to_have_text("Featured posts")
    expect(page.locator(".teaser__title")).to_have_text(["Harbour reopens", "Festival returns"])


def test_editor_creates_and_publishes_without_javascript(
    new_page: Callable[..., Page], sign_in: Callable[..., User]
) -> None:
    """Signing in, writing and publishing all work as plain form posts."""
    editor = new_page(java_script_enabled=False)
    sign_in(editor)
    editor.get_by_role("link", name="New article").click()
    editor.get_by_label("Headline", exact=True).fill("Bridge closes for repairs")
    editor.get_by_label("Summary", exact=True).fill("Traffic goes round by the ring road.")
    editor.get_by_label("Body", exact=True).fill(
        "The bridge shuts on Friday for six weeks while crews replace the worn deck and the "
        "railings on both sides.\n\n## Detours\n\nDrivers go round by the ring road, buses stop "
        "at the market instead of the quay, and a ferry carries people on foot and on bicycles "
        "across the river every twenty minutes."
    )
    editor.get_by_label("Status", exact=True).select_option("published")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_url(re.compile(r"/editor/articles/\d+/edit$"))
    expect(editor.get_by_role("status")).to_have_text("Saved “Bridge closes for repairs”.")
    expect(editor.locator("#preview h2")).to_have_text("Detours")

    reader = new_page(java_script_enabled=False)
    reader.goto("/articles/bridge-closes-for-repairs")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Bridge closes for repairs")
    expect(reader.locator(".dek")).to_have_text("Traffic goes round by the ring road.")
    expect(reader.locator(".article-body h2")).to_have_text("Detours")
    expect(reader.get_by_text("Not published")).to_have_count(0)


def test_editor_shows_slug_errors_on_save_without_javascript(
    page_without_js: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """Without the live slug check, a taken slug is reported when the form is saved."""
    make_article("City budget passes", slug="city-budget")
    page = page_without_js
    sign_in(page)
    page.goto("/editor/articles/new")
    page.get_by_label("Headline", exact=True).fill("City budget revised")
    slug = page.get_by_label("Slug", exact=True)
    slug.fill("city-budget")
    page.get_by_role("button", name="Save").click()
    expect(slug).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#slug-field .field__error")).to_have_text(
        "Another article already uses this slug."
    )
    expect(page.get_by_label("Headline", exact=True)).to_have_value("City budget revised")


def test_dashboard_filter_works_as_a_plain_form_without_javascript(
    page_without_js: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """The filter box submits as a GET form and the dashboard shows the matching rows."""
    for title in ("Harbour reopens", "Council votes on budget", "Harbour festival returns"):
        make_article(title)
    page = page_without_js
    sign_in(page)
    rows = page.locator("#article-rows tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Filter articles").fill("harbour")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/editor/\?q=harbour$"))
    expect(rows).to_have_count(2)
    expect(rows).to_contain_text(["Harbour festival returns", "Harbour reopens"])
    expect(page.get_by_label("Filter articles")).to_have_value("harbour")

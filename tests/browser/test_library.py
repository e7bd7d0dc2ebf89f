"""The media library in a real browser: live search, "More", describing in place, copying."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect

from blog import images
from blog.extensions import db
from blog.library import PAGE_SIZE
from blog.models import Article, MediaItem, User
from tests.browser.test_accessibility import assert_accessible

LIBRARY = "/editor/media"
BOX = "Find images"


def fill_library(app: Flask, alts: list[str]) -> None:
    """Store one small picture per alt text, each newer than the one before."""
    with app.test_request_context():
        for n, alt in enumerate(alts):
            file = io.BytesIO()
            Image.new("RGB", (60, 40), (n * 8 % 256, 90, 160)).save(file, "PNG")
            file.seek(0)
            stored = images.store(file)
            moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
            db.session.add(
                MediaItem(
                    name=stored.name,
                    width=stored.width,
                    height=stored.height,
                    alt=alt,
                    created_at=moment,
                )
            )
        db.session.commit()


def card_alts(page: Page) -> list[str]:
    """The alt texts of the cards shown, in order."""
    return page.locator("#media-grid .media-card__alt").all_text_contents()


@pytest.fixture
def harbour(app: Flask) -> None:
    """Two pictures of the harbour among three others."""
    fill_library(app, ["Ferry", "Harbour wall", "Council", "Boats in the harbour", "Market"])


def test_typing_finds_images_live_and_names_the_page(
    page: Page, sign_in: Callable[..., User], harbour: None
) -> None:
    """The grid and the count follow the typing in the same document; the address follows."""
    sign_in(page, "writer")
    page.get_by_role("link", name="Media").click()
    expect(page).to_have_url(re.compile(r"/editor/media$"))
    page.evaluate("window.sameDocument = true")
    expect(page.locator("#media-grid > .media-card")).to_have_count(5)

    with page.expect_response(re.compile(r"/editor/media/grid\?q=harb$")) as response:
        page.get_by_label(BOX).press_sequentially("harb")
    assert response.value.headers["hx-replace-url"] == f"{LIBRARY}?q=harb"
    expect(page.locator("#media-grid > .media-card")).to_have_count(2)
    assert card_alts(page) == ["Boats in the harbour", "Harbour wall"]
    expect(page.locator("#media-status")).to_have_text("2 images match “harb”.")
    expect(page).to_have_url(re.compile(r"/editor/media\?q=harb$"))

    page.get_by_label(BOX).fill("")
    expect(page.locator("#media-grid > .media-card")).to_have_count(5)
    expect(page).to_have_url(re.compile(r"/editor/media$"))
    assert page.evaluate("window.sameDocument") is True

    page.goto(f"{LIBRARY}?q=ferry")
    expect(page.get_by_label(BOX)).to_have_value("ferry")
    expect(page.locator("#media-grid > .media-card")).to_have_count(1)


def test_more_appends_the_next_page_and_moves_the_focus_to_it(
    page: Page, sign_in: Callable[..., User], app: Flask
) -> None:
    """ "More images" adds the next cards below, keeps the address and focuses the first new one."""
    fill_library(app, [f"Picture {n}" for n in range(PAGE_SIZE + 3)])
    sign_in(page, "writer")
    page.goto(LIBRARY)
    cards = page.locator("#media-grid > .media-card")
    expect(cards).to_have_count(PAGE_SIZE)

    page.get_by_role("link", name="More images").click()

    expect(cards).to_have_count(PAGE_SIZE + 3)
    expect(page.get_by_role("link", name="More images")).to_have_count(0)
    expect(cards.nth(PAGE_SIZE)).to_be_focused()
    expect(cards.last).to_contain_text("Picture 0")
    expect(page).to_have_url(re.compile(r"/editor/media$"))


def test_a_description_is_changed_in_place(
    page: Page, sign_in: Callable[..., User], harbour: None
) -> None:
    """Edit opens the form in the card with the alt text focused; Save shows the card again."""
    sign_in(page, "writer")
    page.goto(LIBRARY)
    card_id = page.locator(".media-card").filter(has_text="Harbour wall").get_attribute("id")
    card = page.locator(f"#{card_id}")
    card.get_by_role("link", name="Edit the description of “Harbour wall”").click()
    alt = card.get_by_label("Alt text")
    expect(alt).to_be_focused()
    expect(alt).to_have_value("Harbour wall")

    alt.fill("")
    card.get_by_role("button", name="Save").click()
    expect(card.locator(".field__error")).to_have_text(
        "Describe the image for people who cannot see it."
    )
    # The form comes back with the alt text focused once htmx has settled it; typing elsewhere
    # before that would see the focus move mid-word.
    expect(alt).to_be_focused()
    alt.fill("The old harbour wall")
    card.get_by_label("Caption").fill("Built in 1880")
    card.get_by_role("button", name="Save").click()

    expect(card.get_by_role("status")).to_have_text("Saved.")
    expect(card.locator(".media-card__alt")).to_have_text("The old harbour wall")
    expect(card).to_contain_text("Built in 1880")
    expect(card).to_be_focused()
    expect(card.get_by_label("Markdown for the body")).to_have_value(
        re.compile(r"^!\[The old harbour wall\]\(/media/[0-9a-f]{32}\.png\)$")
    )
    assert page.url.endswith(LIBRARY)

    card.get_by_role("link", name=re.compile("^Edit")).click()
    card.get_by_label("Alt text").fill("Not kept")
    card.get_by_role("link", name="Cancel").click()
    expect(card.locator(".media-card__alt")).to_have_text("The old harbour wall")
    expect(card).to_be_focused()
    expect(page.locator(".media-card--editing")).to_have_count(0)


def test_copy_puts_the_markdown_on_the_clipboard(
    new_page: Callable[..., Page], sign_in: Callable[..., User], harbour: None
) -> None:
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    sign_in(page, "writer")
    page.goto(LIBRARY)
    card = page.locator(".media-card").filter(has_text="Ferry")
    snippet = card.get_by_label("Markdown for the body").input_value()

    card.get_by_role("button", name="Copy the Markdown of “Ferry”").click()

    expect(card.get_by_role("button", name=re.compile("^Copied"))).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    assert re.fullmatch(r"!\[Ferry\]\(/media/[0-9a-f]{32}\.png\)", snippet)


def test_an_image_is_uploaded_and_described(
    page: Page, sign_in: Callable[..., User], jpeg: Path
) -> None:
    sign_in(page, "writer")
    page.goto(LIBRARY)
    page.get_by_label("Image", exact=True).set_input_files(jpeg)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#alt-error")).to_have_text(
        "Describe the image for people who cannot see it."
    )
    expect(page.get_by_text("Uploaded; it is kept while you fix the form.")).to_be_visible()
    page.get_by_label("Alt text").fill("A grey gradient")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").first).to_have_text("Added “A grey gradient” to the library.")
    expect(page.locator("#media-grid .media-card__alt")).to_have_text(["A grey gradient"])


def test_without_javascript_the_library_pages_searches_and_edits(
    page_without_js: Page, sign_in: Callable[..., User], app: Flask
) -> None:
    """Search is a plain form, "More images" and "Newer images" are pages, Edit is a page."""
    fill_library(app, [f"Harbour {n}" for n in range(PAGE_SIZE + 2)] + ["Ferry"])
    page = page_without_js
    sign_in(page, "editor")
    page.goto(LIBRARY)
    expect(page.get_by_role("button", name=re.compile("^Copy"))).to_have_count(0)

    page.get_by_label(BOX).fill("harbour")
    page.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(r"/editor/media\?q=harbour$"))
    expect(page.locator("#media-status")).to_have_text(f"{PAGE_SIZE + 2} images match “harbour”.")
    page.get_by_role("link", name="More images").click()
    expect(page).to_have_url(re.compile(r"/editor/media\?q=harbour&page=2$"))
    expect(page.locator("#media-grid > .media-card")).to_have_count(2)
    page.get_by_role("link", name="← Newer images").click()
    expect(page.locator("#media-grid > .media-card")).to_have_count(PAGE_SIZE)

    page.get_by_role("link", name="Edit the description of “Harbour 25”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Describe the image")
    page.get_by_label("Alt text").fill("The harbour at night")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/editor/media#media-\d+$"))
    expect(page.get_by_text("Saved the description of “The harbour at night”.")).to_be_visible()

    page.get_by_role("link", name="Delete… “Ferry”").click()
    page.get_by_role("button", name="Delete the image").click()
    expect(page.get_by_text("Deleted “Ferry” and its files.")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_library_passes_axe(
    new_page: Callable[..., Page], sign_in: Callable[..., User], harbour: None, scheme: str
) -> None:
    page = new_page(color_scheme=scheme)
    sign_in(page, "editor")
    page.goto(LIBRARY)
    expect(page.locator("#media-grid > .media-card")).to_have_count(5)
    assert_accessible(page)
    page.locator(".media-card").first.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.locator(".media-card--editing")).to_have_count(1)
    assert_accessible(page)


def test_the_article_form_finds_a_hero_in_the_library_as_you_type(
    app: Flask, page: Page, sign_in: Callable[..., User], harbour: None
) -> None:
    """Typing in the hero picker narrows its choices; the chosen image becomes the hero."""
    sign_in(page)
    page.goto("/editor/articles/new")
    page.get_by_text("Or choose one from the media library").click()
    choices = page.locator("#hero-choices input[name=hero_from_library]")
    expect(choices).to_have_count(5)
    page.get_by_label("Find by alt text or caption").fill("harbour")
    expect(choices).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/editor/articles/new$"))  # nothing was submitted
    page.get_by_label("Boats in the harbour").check()
    page.get_by_label("Headline", exact=True).fill("Boats return to the harbour")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/editor/articles/\d+/edit$"))
    with app.app_context():
        chosen = db.session.scalar(db.select(MediaItem).filter_by(alt="Boats in the harbour"))
        article = db.session.scalar(
            db.select(Article).filter_by(title="Boats return to the harbour")
        )
        assert (article.hero_image, article.hero_alt) == (chosen.name, "Boats in the harbour")

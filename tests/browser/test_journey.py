"""The whole journey: an editor writes and publishes an article, a reader sees all of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from blog.dates import long_date
from blog.models import Article, User
from tests.browser.conftest import LiveServer, expect_loaded

TITLE = "Harbour reopens after the storm"
SLUG = "harbour-reopens-after-the-storm"
SUMMARY = "Ships are back in port a week after the surge closed it."
BODY = (
    "Fishing boats returned to the harbour on Monday.\n\n"
    "## What changed\n\nThe sea wall was raised by a metre along the east quay.\n\n"
    "Two cranes lost in the surge were replaced, and the fuel dock was rebuilt.\n\n"
    "The harbour master says the channel was dredged again on Saturday.\n\n"
    "## What comes next\n\nRepairs go on until spring.\n"
)
ALT = "Cranes over the harbour at dawn"
CAPTION = "The east quay, a week after the storm."
CREDIT = "Photo: Olena Kovalenko"


def fill_article(page: Page, jpeg: Path) -> None:
    """Fill every field of the article form, waiting for the preview of the body."""
    page.get_by_label("Headline", exact=True).fill(TITLE)
    page.get_by_label("Summary", exact=True).fill(SUMMARY)
    page.get_by_label("Dateline", exact=True).fill("Lviv, Ukraine")
    page.get_by_label("Body", exact=True).fill(BODY)
    expect(page.locator("#preview h2")).to_have_text(["What changed", "What comes next"])
    page.get_by_label("Section", exact=True).fill("Local")
    page.get_by_label("Tags", exact=True).fill("harbour, weather")
    page.get_by_label("Hero image", exact=True).set_input_files(jpeg)
    page.get_by_label("Alt text", exact=True).fill(ALT)
    page.get_by_label("Caption", exact=True).fill(CAPTION)
    page.get_by_label("Credit", exact=True).fill(CREDIT)
    page.get_by_label("Status", exact=True).select_option("published")


def test_published_article_shows_every_part_to_a_reader(
    new_page: Callable[..., Page],
    sign_in: Callable[..., User],
    live_server: LiveServer,
    jpeg: Path,
) -> None:
    """An article written in the editor appears to an anonymous reader in full."""
    editor = new_page()
    sign_in(editor, username="maria")
    editor.get_by_role("link", name="New article").click()
    expect(editor).to_have_url(re.compile(r"/editor/articles/new$"))
    fill_article(editor, jpeg)
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_url(re.compile(r"/editor/articles/\d+/edit$"))
    expect(editor.get_by_role("status")).to_have_text(f"Saved “{TITLE}”.")
    with live_server.app.app_context():
        article = Article.by_slug(SLUG)
        assert article is not None
        published = long_date(article.published_at)

    reader = new_page(viewport={"width": 390, "height": 640})
    reader.goto(f"/articles/{SLUG}")
    expect(reader.get_by_role("heading", level=1)).to_have_count(1)
    expect(reader.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(reader.locator(".dek")).to_have_text(SUMMARY)
    byline = reader.locator(".byline")
    expect(byline.get_by_role("link", name="Maria")).to_have_attribute("href", "/authors/maria")
    expect(byline.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(byline.locator("time")).to_have_text(published)

    hero = reader.locator("figure img")
    expect(hero).to_have_attribute("alt", ALT)
    expect(hero).to_have_attribute("width", "640")
    expect(hero).to_have_attribute("height", "360")
    expect_loaded(hero)
    expect(reader.locator("figure figcaption")).to_have_text(f"{CAPTION} {CREDIT}")

    toc = reader.get_by_role("navigation", name="Contents").get_by_role("link")
    expect(toc).to_have_text(["What changed", "What comes next"])
    expect(toc.first).to_have_attribute("href", "#h-what-changed")
    expect(toc.last).to_have_attribute("href", "#h-what-comes-next")
    heading = reader.locator("#h-what-comes-next")
    expect(heading).to_have_text("What comes next")
    expect(heading).not_to_be_in_viewport()
    toc.last.click()
    expect(reader).to_have_url(re.compile(r"#h-what-comes-next$"))
    expect(heading).to_be_in_viewport()
    expect(reader.locator(".article-body h2")).to_have_text(["What changed", "What comes next"])

    expect(reader.locator(".article-body p").first).to_have_text(
        f"Lviv, Ukraine – {published} – Fishing boats returned to the harbour on Monday."
    )
    expect(reader.locator(".article__footer a[href='/sections/local']")).to_have_text("Local")
    tags = reader.locator(".article__footer a[rel=tag]")
    expect(tags).to_have_text(["harbour", "weather"])
    expect(tags.first).to_have_attribute("href", "/tags/harbour")
    expect(tags.last).to_have_attribute("href", "/tags/weather")

    reader.goto("/")
    expect(reader.get_by_role("link", name=TITLE)).to_have_attribute("href", f"/articles/{SLUG}")


def test_form_with_errors_keeps_everything_typed_and_marks_the_field(
    page: Page, sign_in: Callable[..., User], jpeg: Path
) -> None:
    """Saving without a headline answers 422 with the text kept and the field marked."""
    sign_in(page)
    page.goto("/editor/articles/new")
    fill_article(page, jpeg)
    page.get_by_label("Headline", exact=True).fill("")
    with page.expect_response(
        lambda response: (
            response.request.method == "POST" and "/editor/articles/new" in response.url
        )
    ) as response:
        page.get_by_role("button", name="Save").click()
    assert response.value.status == 422

    title = page.get_by_label("Headline", exact=True)
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_attribute("aria-describedby", re.compile(r"\btitle-error\b"))
    expect(page.locator("#title-field .field__error")).to_have_text("This field is required.")
    expect(page.get_by_role("alert")).to_contain_text("Headline")
    expect(page.get_by_label("Body", exact=True)).to_have_value(BODY)
    expect(page.get_by_label("Summary", exact=True)).to_have_value(SUMMARY)
    expect(page.get_by_label("Dateline", exact=True)).to_have_value("Lviv, Ukraine")
    expect(page.get_by_label("Tags", exact=True)).to_have_value("harbour, weather")
    expect(page.get_by_label("Alt text", exact=True)).to_have_value(ALT)
    expect(page.get_by_label("Status", exact=True)).to_have_value("published")
    expect(page.locator(".hero-current")).to_contain_text("it is kept while you fix the form")
    expect(page.locator("#preview h2")).to_have_text(["What changed", "What comes next"])

    title.fill(TITLE)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/editor/articles/\d+/edit$"))
    page.goto(f"/articles/{SLUG}")
    expect_loaded(page.locator("figure img"))
    expect(page.locator(".article-body h2")).to_have_text(["What changed", "What comes next"])

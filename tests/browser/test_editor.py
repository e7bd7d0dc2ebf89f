"""The editor's live parts: Markdown preview, slug check, and the dashboard filter."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Dialog, Page, expect

from blog.models import Article, User


def test_typing_markdown_updates_the_preview(page: Page, sign_in: Callable[..., User]) -> None:
    """Markdown typed in the body shows up rendered in the preview pane."""
    sign_in(page)
    page.goto("/editor/articles/new")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("The preview appears here as you type.")

    with page.expect_response("**/editor/preview") as response:
        page.get_by_label("Body", exact=True).press_sequentially(
            "## Heading\n\nSome **bold** words."
        )
    assert response.value.status == 200
    expect(preview.locator("h2")).to_have_text("Heading")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview.locator("p")).to_have_text("Some bold words.")


def test_preview_shows_no_script_and_runs_nothing(page: Page, sign_in: Callable[..., User]) -> None:
    """A script, an event handler and a javascript: link typed in the body stay inert."""
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page)
    page.goto("/editor/articles/new")
    page.get_by_label("Body", exact=True).fill(
        "## Safe heading\n\n"
        '<script>alert("script")</script>\n\n'
        '<img src="/probe.png" alt="probe" onerror="alert(\'onerror\')">\n\n'
        "<a href=\"javascript:alert('link')\">a link</a>\n"
    )

    preview = page.locator("#preview")
    expect(preview.locator("h2")).to_have_text("Safe heading")
    # An image from outside the library never loads: it is a link, its handler gone.
    expect(preview.get_by_role("link", name="Image: probe")).to_have_attribute("href", "/probe.png")
    expect(preview.locator("img")).to_have_count(0)
    expect(preview.locator("script")).to_have_count(0)
    expect(preview.locator("[onerror]")).to_have_count(0)
    expect(preview).not_to_contain_text("alert")
    link = preview.get_by_text("a link")
    expect(link).not_to_have_attribute("href", re.compile("javascript", re.IGNORECASE))
    link.click()
    expect(page).to_have_url(re.compile(r"/editor/articles/new$"))
    assert dialogs == []


def test_slug_check_says_taken_with_a_suggestion(
    page: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """Leaving the slug field with a used slug says so inline and suggests a free one."""
    make_article("City budget passes", slug="city-budget")
    sign_in(page)
    page.goto("/editor/articles/new")
    slug = page.get_by_label("Slug", exact=True)
    slug.fill("city-budget")
    slug.blur()
    status = page.locator("#slug-status")
    expect(status).to_have_text(
        "“city-budget” is taken by “City budget passes”. Try “city-budget-2”."
    )
    expect(status.locator(".slug-status--bad")).to_be_visible()


def test_slug_check_says_a_free_slug_is_free(page: Page, sign_in: Callable[..., User]) -> None:
    """Leaving the slug field with an unused slug says the address is free."""
    sign_in(page)
    page.goto("/editor/articles/new")
    slug = page.get_by_label("Slug", exact=True)
    slug.fill("harbour-reopens")
    slug.blur()
    status = page.locator("#slug-status")
    expect(status).to_have_text("/articles/harbour-reopens is free.")
    expect(status.locator(".slug-status--bad")).to_have_count(0)


def test_slug_check_suggests_the_slug_from_the_headline(
    page: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """With the slug left empty, the check names the address the headline will give."""
    make_article("Storm hits the coast", slug="storm-hits-the-coast")
    sign_in(page)
    page.goto("/editor/articles/new")
    page.get_by_label("Headline", exact=True).fill("Storm hits the coast")
    slug = page.get_by_label("Slug", exact=True)
    slug.focus()
    slug.blur()
    expect(page.locator("#slug-status")).to_have_text(
        "Left empty, the address will be /articles/storm-hits-the-coast-2."
    )

    page.get_by_label("Headline", exact=True).fill("Ferry timetable changes")
    page.get_by_label("Headline", exact=True).blur()
    expect(page.locator("#slug-status")).to_have_text(
        "Left empty, the address will be /articles/ferry-timetable-changes."
    )


def test_dashboard_filter_narrows_rows_as_you_type_and_keeps_the_url(
    page: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """Typing in the filter narrows the rows and names the filtered page, which reloads alike."""
    for title in ("Harbour reopens", "Council votes on budget", "Harbour festival returns"):
        make_article(title)
    sign_in(page)
    rows = page.locator("#article-rows tr")
    expect(rows).to_have_count(3)

    with page.expect_response(re.compile(r"/editor/rows\?q=harbour&")) as response:
        page.get_by_label("Filter articles").press_sequentially("harbour")
    assert response.value.headers["hx-replace-url"] == "/editor/?q=harbour"
    expect(rows).to_have_count(2)
    expect(rows).to_contain_text(["Harbour festival returns", "Harbour reopens"])
    expect(page.locator("#rows-status")).to_have_text("2 articles match “harbour”.")
    expect(page).to_have_url(re.compile(r"/editor/\?q=harbour$"))

    page.reload()
    expect(page.get_by_label("Filter articles")).to_have_value("harbour")
    expect(rows).to_have_count(2)
    expect(rows).to_contain_text(["Harbour festival returns", "Harbour reopens"])

    page.get_by_label("Filter articles").fill("no such story")
    expect(rows).to_have_text(["No article matches “no such story”."])
    expect(page).to_have_url(re.compile(r"/editor/\?q=no\+such\+story$"))


def test_signed_out_while_typing_keeps_the_text_and_says_how_to_carry_on(
    page: Page, sign_in: Callable[..., User]
) -> None:
    """An ended session shows a notice with a sign-in link; the form keeps every word."""
    sign_in(page)
    page.goto("/editor/articles/new")
    page.get_by_label("Headline").fill("Late story")
    page.context.clear_cookies()
    body = page.get_by_label("Body")
    body.fill("Words typed after the session ended.")
    notice = page.locator("#session-notice")
    expect(notice).to_contain_text("You were signed out")
    expect(notice.get_by_role("link")).to_have_attribute("target", "_blank")
    expect(page).to_have_url(re.compile(r"/editor/articles/new$"))
    expect(body).to_have_value("Words typed after the session ended.")
    expect(page.get_by_label("Headline")).to_have_value("Late story")

"""The dashboard's state filter and counts, the trash and unpublishing, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from blog.models import Article, User


def test_choosing_a_state_updates_rows_counts_and_the_address(
    page: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """Picking a state narrows the rows live, marks it in the counts and names the page."""
    make_article("Harbour reopens")
    make_article("Council votes", section="Local")
    make_article("Draft about the ferry", status="draft", published_at=None, section="Local")
    sign_in(page)
    rows = page.locator("#article-rows tr")
    counts = page.get_by_role("navigation", name="Articles by state")
    expect(rows).to_have_count(3)
    expect(counts.get_by_role("link", name="Drafts 1")).to_be_visible()

    with page.expect_response(re.compile(r"/editor/rows\?")) as response:
        page.get_by_label("State", exact=True).select_option("draft")
    assert response.value.headers["hx-replace-url"] == "/editor/?state=draft"
    expect(rows).to_have_text([re.compile("Draft about the ferry")])
    expect(page.locator("#rows-status")).to_have_text(
        "1 most recently changed article. Showing: Drafts."
    )
    expect(page).to_have_url(re.compile(r"/editor/\?state=draft$"))
    expect(counts.locator("[aria-current=page]")).to_have_text("Drafts 1")

    page.get_by_label("State", exact=True).select_option("")
    page.get_by_label("Section", exact=True).select_option("local")
    expect(page).to_have_url(re.compile(r"/editor/\?section=local$"))
    expect(rows).to_have_count(2)
    expect(counts.get_by_role("link", name="Published 1")).to_be_visible()

    page.reload()
    expect(page.get_by_label("Section", exact=True)).to_have_value("local")
    expect(rows).to_have_count(2)


def test_state_filter_works_as_a_plain_form_without_javascript(
    page_without_js: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """Without JavaScript the filters submit as a GET form, to an address without empty fields."""
    make_article("Harbour reopens")
    make_article("Draft about the ferry", status="draft", published_at=None)
    page = page_without_js
    sign_in(page)
    page.get_by_label("State", exact=True).select_option("draft")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/editor/\?state=draft$"))
    expect(page.locator("#article-rows tr")).to_have_text([re.compile("Draft about the ferry")])
    page.get_by_role("navigation", name="Articles by state").get_by_role("link", name="All").click()
    expect(page.locator("#article-rows tr")).to_have_count(2)


def test_trash_then_restore_from_the_browser(
    page: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """An article moved to the trash leaves the list, shows in the trash, and comes back."""
    article = make_article("Bridge closes for repairs")
    make_article("Another story")
    sign_in(page)
    page.goto(f"/editor/articles/{article.id}/edit")
    page.get_by_role("link", name="Move to trash…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Move “Bridge closes for repairs” to the trash?"
    )
    page.get_by_role("button", name="Move to trash").click()
    expect(page).to_have_url(re.compile(r"/editor/$"))
    expect(page.locator(".flash")).to_have_text("Moved “Bridge closes for repairs” to the trash.")
    expect(page.locator("#article-rows tr")).to_have_text([re.compile("Another story")])

    page.get_by_role("link", name="Trash 1").click()
    expect(page).to_have_url(re.compile(r"/editor/\?state=trash$"))
    row = page.locator("#article-rows tr")
    expect(row).to_have_text([re.compile(r"Bridge closes for repairs[\s\S]*in the trash")])
    row.get_by_role("button", name="Restore “Bridge closes for repairs”").click()
    expect(page).to_have_url(re.compile(rf"/editor/articles/{article.id}/edit$"))
    expect(page.locator(".flash")).to_have_text(
        "Restored “Bridge closes for repairs” from the trash. It is a draft."
    )
    expect(page.get_by_label("Status", exact=True)).to_have_value("draft")


def test_editor_unpublishes_from_the_form(
    page: Page, sign_in: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """The Unpublish button, outside the article form's own fields, makes the article a draft."""
    article = make_article("Council votes")
    sign_in(page)
    page.goto(f"/editor/articles/{article.id}/edit")
    page.get_by_role("button", name="Unpublish").click()
    expect(page).to_have_url(re.compile(rf"/editor/articles/{article.id}/edit$"))
    expect(page.locator(".flash")).to_have_text(
        "Unpublished “Council votes”: it is a draft that readers cannot see."
    )
    expect(page.get_by_role("button", name="Unpublish")).to_have_count(0)
    expect(page.get_by_role("link", name="View (not published)")).to_be_visible()

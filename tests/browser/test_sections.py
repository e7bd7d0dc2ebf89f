"""Ordering the site's sections in a real browser: in place with htmx, and with JavaScript off."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect

from blog.extensions import db
from blog.models import Section, User
from tests.browser.test_accessibility import assert_accessible


def add_sections(app: Flask, *names: str) -> None:
    """Sections named ``names``, in this order."""
    with app.app_context():
        for name in names:
            db.session.add(Section.named(name))
            db.session.commit()


def names(page: Page) -> list[str]:
    """The sections as the sections page lists them."""
    return page.locator("#sections-list .sections-list__name > a").all_inner_texts()


def masthead(page: Page) -> list[str]:
    """The links of the site's navigation."""
    return page.get_by_role("navigation", name="Site").get_by_role("link").all_inner_texts()


def test_moving_a_section_with_htmx_keeps_the_page_and_the_focus(
    app: Flask, page: Page, sign_in: Callable[..., User]
) -> None:
    add_sections(app, "Sport", "Culture", "Local")
    sign_in(page, role="editor")
    page.get_by_role("link", name="Sections", exact=True).click()
    expect(page.get_by_role("heading", name="Sections")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    page.get_by_role("button", name="Move up Local").click()
    expect(page.locator("#sections-status")).to_have_text("Local is now 2 of 3.")
    assert names(page) == ["Sport", "Local", "Culture"]
    expect(page.get_by_role("button", name="Move up Local")).to_be_focused()

    page.keyboard.press("Enter")  # the focus stayed: the same button moves it again
    expect(page.locator("#sections-status")).to_have_text("Local is now 1 of 3.")
    assert names(page) == ["Local", "Sport", "Culture"]
    expect(page.get_by_role("button", name="Move up Local")).to_be_disabled()
    expect(page.get_by_role("button", name="Move down Local")).to_be_focused()

    toggle = page.get_by_role("button", name="Show in navigation Sport")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_be_focused()
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page)

    page.goto("/latest")
    assert masthead(page)[:3] == ["Local", "Culture", "Latest"]


def test_moving_a_section_without_javascript_reloads_the_page_in_order(
    app: Flask, page_without_js: Page, sign_in: Callable[..., User]
) -> None:
    add_sections(app, "Sport", "Culture", "Local")
    page = page_without_js
    sign_in(page, role="admin")
    page.goto("/editor/sections")
    page.get_by_role("button", name="Move down Sport").click()
    expect(page).to_have_url(re.compile(r"/editor/sections#section-1$"))
    expect(page.get_by_role("status").first).to_contain_text("Sport is now 2 of 3.")
    assert names(page) == ["Culture", "Sport", "Local"]
    page.get_by_role("button", name="Show in navigation Culture").click()
    expect(page.get_by_role("button", name="Show in navigation Culture")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert masthead(page)[:3] == ["Sport", "Local", "Latest"]

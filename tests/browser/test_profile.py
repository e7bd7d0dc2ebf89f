"""The profile page in a real browser: accessible empty and with errors, the text kept."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from blog.models import User
from tests.browser.test_accessibility import assert_accessible


def test_the_profile_page_passes_axe_empty_and_with_errors(
    page: Page, sign_in: Callable[..., User]
) -> None:
    sign_in(page, role="writer")
    page.get_by_role("link", name="Profile", exact=True).click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_label("Bio").fill("Covers the harbour.")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.get_by_label("Bio")).to_have_value("Covers the harbour.")
    assert_accessible(page)

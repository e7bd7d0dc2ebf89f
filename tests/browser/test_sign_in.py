"""Signing out everywhere in a real browser, with JavaScript off on the device that does it."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from blog.models import User
from tests.conftest import PASSWORD


def test_sign_out_everywhere_signs_out_the_other_browser_too(
    page: Page, page_without_js: Page, sign_in: Callable[..., User]
) -> None:
    """The masthead button works without JavaScript and ends the session in another browser."""
    user = sign_in(page)
    page_without_js.goto("/auth/login")
    page_without_js.get_by_label("Username").fill(user.username)
    page_without_js.get_by_label("Password").fill(PASSWORD)
    page_without_js.get_by_role("button", name="Sign in").click()
    expect(page_without_js).to_have_url(re.compile(r"/editor/$"))
    page_without_js.get_by_role("button", name="Sign out everywhere").click()
    expect(page_without_js).to_have_url(re.compile(r"/$"))
    expect(page_without_js.get_by_role("status")).to_contain_text("signed out on every device")
    expect(page_without_js.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/editor/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=/editor/$"))

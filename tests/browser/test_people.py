"""Adding a person in a real browser, and that person choosing a password in another one."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from blog.models import User
from tests.browser.test_accessibility import assert_accessible

NEW_PASSWORD = "lantern orchard velvet quarry"


def test_admin_adds_a_writer_who_sets_a_password_and_lands_signed_in(
    page: Page, new_page: Callable[..., Page], sign_in: Callable[..., User]
) -> None:
    """The link shown once to the admin works in the new person's own browser, even without JS."""
    sign_in(page, role="admin")
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Username").fill("wendy")
    page.get_by_label("Name", exact=True).fill("Wendy Writer")
    page.get_by_label("Role").select_option("writer")
    page.get_by_role("button", name="Add and make a set-password link").click()
    expect(page.get_by_role("heading", name="Wendy Writer is added")).to_be_visible()
    link = page.get_by_label("Set-password link for wendy").input_value()
    assert re.match(r"http://127\.0\.0\.1:\d+/auth/set-password/\S+$", link)

    wendy = new_page(java_script_enabled=False)
    wendy.goto(link)
    expect(wendy.get_by_role("heading", name="Choose a password")).to_be_visible()
    wendy.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    wendy.get_by_label("New password again").fill(NEW_PASSWORD)
    wendy.get_by_role("button", name="Set password and sign in").click()
    expect(wendy).to_have_url(re.compile(r"/editor/$"))
    expect(wendy.get_by_role("status").first).to_contain_text("Welcome, Wendy Writer")
    expect(wendy.get_by_role("heading", name="Newsroom")).to_be_visible()
    expect(wendy.get_by_role("link", name="People", exact=True)).to_have_count(0)

    assert wendy.goto(link).status == 410
    expect(wendy.get_by_role("heading", name="Link expired")).to_be_visible()

    page.get_by_role("link", name="People", exact=True).click()
    row = page.get_by_role("row").filter(has_text="wendy")
    expect(row).to_contain_text("Wendy Writer")
    expect(row.get_by_label("Role of wendy")).to_have_value("writer")


def test_people_pages_pass_axe(page: Page, sign_in: Callable[..., User], make_user) -> None:
    """The people pages, a refusal, a form with errors, the link and the audit log."""
    make_user("wendy", role="writer", display_name="Wendy Writer")
    make_user("dan", role="editor", active=False)
    sign_in(page, role="admin")
    page.goto("/admin/people")
    assert_accessible(page)
    page.get_by_role("row").filter(has_text="Wendy Writer").get_by_role(
        "button", name="Reset the password of wendy"
    ).click()
    link = page.get_by_label("Set-password link for wendy").input_value()
    assert_accessible(page)
    page.goto("/admin/people/new")
    page.get_by_role("button", name="Add and make a set-password link").click()
    expect(page.locator("#form-errors")).to_be_visible()
    assert_accessible(page)
    page.goto("/admin/audit")
    expect(page.get_by_role("row")).to_have_count(3)  # the heading, the reset, the sign-in
    assert_accessible(page)
    page.goto(link)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("#form-errors")).to_be_visible()
    assert_accessible(page)


def test_newsroom_tables_fit_a_phone_and_scroll_on_their_own(
    new_page: Callable[..., Page], sign_in: Callable[..., User], make_user
) -> None:
    page = new_page(viewport={"width": 390, "height": 800})
    sign_in(page, role="admin")
    for name in ("ana", "ben", "chioma"):
        make_user(name)
    for url in ("/admin/people", "/admin/audit", "/editor/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url

"""The "Before publishing" panel: live while typing, and enforced when the form is saved."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from blog.checks import SHORT_BODY_WORDS
from blog.extensions import db
from blog.models import Article, AuditEvent, Revision, User
from tests.browser.conftest import LiveServer

BODY = "The ferry runs again from Monday. " + " ".join(["Passengers"] * SHORT_BODY_WORDS)
REASON = "Agreed with the desk: the time follows in an update."


def start_article(page: Page, body: str) -> None:
    """Open a new article and fill it in, with ``body``, to be published."""
    page.goto("/editor/articles/new")
    page.get_by_label("Headline", exact=True).fill("Ferry returns")
    page.get_by_label("Summary", exact=True).fill("The crossing is open again.")
    page.get_by_label("Body", exact=True).fill(body)
    page.get_by_label("Status", exact=True).select_option("published")


def test_problems_appear_and_go_as_one_types(page: Page, sign_in: Callable[..., User]) -> None:
    """A TK typed into the body shows up in the panel, and leaves when it is fixed."""
    sign_in(page)
    start_article(page, BODY)
    checks = page.locator("#checks")
    expect(checks).to_have_text("No problems found: ready to publish.")

    body = page.get_by_label("Body", exact=True)
    body.press("End")
    body.press_sequentially(" Crossing time TK.")
    expect(checks).to_contain_text("Body: Placeholder left: “TK”.")
    expect(checks).to_contain_text("These stop publishing until fixed, unless you give a reason")
    checks.get_by_role("link", name="Body").click()
    expect(body).to_be_focused()

    body.press("End")
    for _ in " TK.":
        body.press("Backspace")
    body.press_sequentially(" 40 minutes.")
    expect(checks).to_have_text("No problems found: ready to publish.")


def test_publishing_with_a_blocking_problem_is_refused_until_overridden(
    page: Page, sign_in: Callable[..., User], live_server: LiveServer
) -> None:
    """Saving with a placeholder comes back with the text; an editor's reason lets it out."""
    sign_in(page)
    start_article(page, f"{BODY} Departures every [how often?].")
    checks = page.locator("#checks")
    expect(checks).to_contain_text("Placeholder left: “[how often?]”.")

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/editor/articles/new$"))
    expect(page.locator("#form-errors")).to_contain_text("Not published")
    expect(page.locator("#body-error")).to_contain_text("“[how often?]”")
    expect(page.get_by_label("Body", exact=True)).to_have_value(
        f"{BODY} Departures every [how often?]."
    )
    expect(checks).to_contain_text("Placeholder left: “[how often?]”.")

    page.get_by_label("Reason to publish anyway", exact=True).fill(REASON)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/editor/articles/\d+/edit$"))
    expect(page.locator(".flash")).to_contain_text("Saved “Ferry returns”.")
    with live_server.app.app_context():
        article = db.session.scalar(sa.select(Article))
        assert article.status == "published"
        assert db.session.scalar(sa.select(Revision.note)) == REASON
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="publish"))
        assert REASON in event.detail

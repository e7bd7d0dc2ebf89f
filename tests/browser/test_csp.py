"""The Content-Security-Policy in Chromium: a violation is caught, and the site commits none."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from blog.models import Article, User
from tests.browser.conftest import LiveServer, console_errors, expect_loaded
from tests.browser.test_journey import SLUG, TITLE, fill_article
from tests.browser.test_sidebars import reveal

PROBE_PAGE = (
    '<!doctype html><html lang="en"><head><title>Probe</title></head><body>'
    '<p id="styled" style="color: rgb(255, 0, 0)">Styled inline</p>'
    '<script>document.title = "Script ran"</script>'
    "</body></html>"
)

# Playwright's init scripts are exempt from the page's policy, so this listener can run on
# pages that allow no inline script; it hands each violation to Python and keeps a count.
REPORT_VIOLATIONS = """
window.cspViolations = 0;
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations += 1;
  window.reportViolation(`${event.effectiveDirective} refused ${event.blockedURI}`);
});
"""


@pytest.fixture
def app(app: Flask) -> Flask:
    """The test app plus a page with an inline script and an inline style, which CSP forbids."""

    def probe() -> str:
        """A page breaking the policy twice."""
        return PROBE_PAGE

    app.add_url_rule("/csp-probe", "csp_probe", probe)
    return app


def collect_violations(context: BrowserContext) -> list[str]:
    """Gather every CSP violation reported by any page of ``context`` from now on."""
    violations: list[str] = []

    def report(violation: str) -> None:
        """Keep one violation, as the page described it."""
        violations.append(violation)

    context.expose_function("reportViolation", report)
    context.add_init_script(REPORT_VIOLATIONS)
    return violations


def test_inline_script_and_style_are_blocked_and_reported_as_console_errors(
    browser: Browser, live_server: LiveServer
) -> None:
    """What the browser fixture fails on: CSP refusals arrive as console errors."""
    # A context of our own: the ``page`` fixture would rightly fail this test.
    context = browser.new_context(base_url=live_server.url)
    errors = console_errors(context)
    violations = collect_violations(context)
    page = context.new_page()
    try:
        page.goto("/csp-probe")
        page.wait_for_function("window.cspViolations === 2")
        expect(page).to_have_title("Probe")
        expect(page.locator("#styled")).not_to_have_css("color", "rgb(255, 0, 0)")
    finally:
        context.close()
    assert sorted(violations) == ["script-src-elem refused inline", "style-src-attr refused inline"]
    refusals = [text for text in errors if "Content Security Policy" in text]
    assert len(refusals) == 2, errors
    assert any("inline script" in text for text in refusals)
    assert any("inline style" in text for text in refusals)


def test_reading_and_writing_an_article_break_no_policy_rule(
    page: Page,
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    jpeg: Path,
) -> None:
    """Sidebars, dashboard filter, slug check, live preview, saving and the hero image, clean."""
    violations = collect_violations(page.context)
    current = make_article("Story being read", featured=True)
    make_article("Featured story", featured=True)
    make_article("Harbour festival returns")

    response = page.goto(f"/articles/{current.slug}")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    reveal(page, "sidebar-featured")
    expect(page.locator("#sidebar-featured li")).to_have_count(1)
    reveal(page, "sidebar-latest")
    expect(page.locator("#sidebar-latest li")).to_have_count(2)

    sign_in(page)
    page.get_by_label("Filter articles").press_sequentially("harbour")
    expect(page.locator("#article-rows tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/editor/\?q=harbour$"))

    page.goto("/editor/articles/new")
    fill_article(page, jpeg)  # waits for the live preview of the body
    slug = page.get_by_label("Slug", exact=True)
    slug.fill(current.slug)
    slug.blur()
    expect(page.locator("#slug-status")).to_contain_text("is taken by “Story being read”")
    slug.fill(SLUG)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(f"Saved “{TITLE}”.")

    page.goto(f"/articles/{SLUG}")
    expect_loaded(page.locator("figure img"))
    reveal(page, "sidebar-latest")
    expect(page.locator("#sidebar-latest li")).to_have_count(3)
    page.evaluate("window.cspViolations")  # a round trip, so every report has arrived
    assert violations == []

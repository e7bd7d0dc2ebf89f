"""Accessibility: axe-core finds no WCAG 2.1 A/AA violation on the main pages, light or dark."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from blog.dates import utcnow
from blog.extensions import db
from blog.models import ArticleNote, SlugRedirect
from tests.conftest import body_for

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

axe = Axe()


def assert_accessible(page: Page) -> None:
    """Run axe on what the page shows now; list every violation on failure."""
    results = axe.run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture(params=["light", "dark"])
def scheme_page(request: pytest.FixtureRequest, new_page: Callable[..., Page]) -> Page:
    """A page in the light or the dark colour scheme."""
    return new_page(color_scheme=request.param)


def test_reader_pages_pass_axe(scheme_page: Page, make_article) -> None:
    article = make_article(
        "Bridge reopens",
        summary="Traffic returns.",
        dateline="Millbrook",
        featured=True,
        section="Local",
        tags=["transport"],
    )
    make_article("Second story", featured=True)
    scheme_page.goto(f"/articles/{article.slug}")
    expect(scheme_page.locator("#sidebar-latest li")).to_have_count(1)
    expect(scheme_page.locator("#sidebar-featured li")).to_have_count(1)
    assert_accessible(scheme_page)
    for url in ("/", "/latest", "/sections/local", "/no-such-page"):
        scheme_page.goto(url)
        assert_accessible(scheme_page)


def test_newsroom_pages_pass_axe(scheme_page: Page, sign_in, make_article) -> None:
    scheme_page.goto("/auth/login")
    assert_accessible(scheme_page)
    article = make_article("Draft story", status="draft", published_at=None)
    sign_in(scheme_page)
    assert_accessible(scheme_page)
    scheme_page.goto(f"/articles/{article.slug}")
    assert_accessible(scheme_page)
    scheme_page.goto("/editor/articles/new")
    scheme_page.get_by_label("Body").fill("## A heading\n\nSome **text**.")
    expect(scheme_page.locator("#preview h2")).to_have_count(1)
    scheme_page.get_by_role("button", name="Save").click()
    expect(scheme_page.locator("#form-errors")).to_be_visible()
    assert_accessible(scheme_page)


def test_workflow_pages_pass_axe(scheme_page: Page, sign_in, make_article, app) -> None:
    article = make_article(
        "Bridge reopens",
        summary="Traffic returns.",
        dateline="Millbrook",
        body=body_for("Bridge reopens"),
    )
    make_article("Old draft", status="draft", published_at=None, deleted_at=utcnow())
    with app.app_context():
        db.session.add(ArticleNote(article_id=article.id, kind="correction", text="Fixed a name."))
        db.session.add(SlugRedirect(old_slug="bridge-old", article_id=article.id))
        db.session.commit()
    scheme_page.goto(f"/articles/{article.slug}")
    expect(scheme_page.locator(".notes")).to_be_visible()
    assert_accessible(scheme_page)
    sign_in(scheme_page, role="admin")
    scheme_page.goto("/editor/?state=trash")
    expect(scheme_page.get_by_role("button", name="Restore")).to_be_visible()
    assert_accessible(scheme_page)
    scheme_page.goto(f"/editor/articles/{article.id}/edit")
    expect(scheme_page.locator("#redirects")).to_be_visible()
    scheme_page.get_by_label("Headline").fill("Bridge reopens to traffic")
    scheme_page.get_by_role("button", name="Save").click()
    expect(scheme_page.get_by_text("Saved “Bridge reopens to traffic”.")).to_be_visible()
    assert_accessible(scheme_page)
    scheme_page.get_by_label("Summary").fill("Traffic returns on Monday.")
    scheme_page.get_by_role("button", name="Save").click()
    expect(scheme_page.get_by_text("Saved “Bridge reopens to traffic”.")).to_be_visible()
    scheme_page.get_by_role("link", name="History").click()
    scheme_page.get_by_role("button", name="Compare").click()
    expect(scheme_page.locator("ins").first).to_be_visible()
    assert_accessible(scheme_page)

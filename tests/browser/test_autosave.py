"""Autosave in a real browser: a closed tab loses nothing, and readers see only saved text."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Route, expect

from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, Autosave, User
from tests.browser.conftest import LiveServer, console_errors
from tests.browser.test_accessibility import assert_accessible

# Long enough to pass the publish checks.
SAVED_BODY = " ".join(["The harbour reopened on Monday, with ferries and fishing boats back."] * 6)
TYPED_BODY = SAVED_BODY + " Repairs to the storm wall took a week."


def copies(live_server: LiveServer) -> list[Autosave]:
    """Every autosaved copy in the database."""
    with live_server.app.app_context():
        rows = list(db.session.scalars(sa.select(Autosave)))
        db.session.expunge_all()
        return rows


def test_text_typed_before_a_closed_tab_is_offered_back(
    new_page: Callable[..., Page],
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    live_server: LiveServer,
) -> None:
    """Typing keeps a copy after a pause; a new tab offers it back; readers see the old text."""
    article = make_article("Harbour reopens", slug="harbour", body=SAVED_BODY)
    page = new_page()
    sign_in(page)
    edit_url = f"/editor/articles/{article.id}/edit"
    page.goto(edit_url)
    expect(page.get_by_role("heading", name="Unsaved text")).to_have_count(0)

    with page.expect_response("**/editor/autosave") as response:
        page.get_by_label("Body", exact=True).fill(TYPED_BODY)
    assert response.value.status == 200
    expect(page.locator("#autosave-status")).to_contain_text(
        re.compile(r"Draft copy kept at \d\d:\d\d")
    )
    page.close()  # the tab crashes or is closed before anyone saves

    again = page.context.new_page()
    again.goto(edit_url)
    offer = again.get_by_role("region", name="Unsaved text")
    expect(offer).to_contain_text("You have unsaved text from")
    expect(again.get_by_label("Body", exact=True)).to_have_value(SAVED_BODY)

    reader = new_page()
    reader.goto("/articles/harbour")
    expect(reader.locator(".article-body")).to_contain_text(SAVED_BODY)
    expect(reader.locator(".article-body")).not_to_contain_text("storm wall")

    offer.get_by_role("link", name="Restore it").click()
    expect(again).to_have_url(re.compile(r"\?restore=autosave$"))
    expect(again.get_by_label("Body", exact=True)).to_have_value(TYPED_BODY)
    expect(again.get_by_role("status").filter(has_text="is back in the form")).to_be_visible()
    reader.reload()
    expect(reader.locator(".article-body")).not_to_contain_text("storm wall")

    again.get_by_role("button", name="Save").click()
    expect(again).to_have_url(re.compile(rf"{edit_url}$"))
    reader.reload()
    expect(reader.locator(".article-body")).to_contain_text("storm wall")
    assert copies(live_server) == []


@pytest.fixture
def typed(
    new_page: Callable[..., Page],
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
) -> tuple[Page, Article]:
    """An editor's form with new text in its body, typed too quickly for a copy yet."""
    article = make_article("Harbour reopens", slug="harbour", body=SAVED_BODY)
    page = new_page()
    sign_in(page)
    page.goto(f"/editor/articles/{article.id}/edit")
    page.get_by_label("Body", exact=True).fill(TYPED_BODY)
    return page, article


@pytest.mark.parametrize("leave", ["close", "navigate"])
def test_text_typed_just_before_the_page_goes_away_is_kept(
    leave: str, typed: tuple[Page, Article], live_server: LiveServer
) -> None:
    """No pause needed: what was typed is sent as the tab closes or another page opens."""
    page, article = typed
    if leave == "close":
        page.close()
    else:
        page.goto("/editor/")
    for _ in range(100):  # the beacon arrives on its own time
        if copies(live_server):
            break
        time.sleep(0.05)
    [copy] = copies(live_server)
    assert copy.article_id == article.id and copy.fields["body"] == TYPED_BODY


def test_saving_sends_no_copy_as_the_page_goes(
    typed: tuple[Page, Article], live_server: LiveServer
) -> None:
    page, _article = typed
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved “Harbour reopens”.")).to_be_visible()
    page.goto("/editor/")
    page.wait_for_timeout(300)
    assert copies(live_server) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_discarding_the_offer_removes_the_copy(
    new_page: Callable[..., Page],
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    live_server: LiveServer,
    scheme: str,
) -> None:
    """A new article's copy is offered on the new form only; Discard it leaves no copy."""
    article = make_article("Harbour reopens", body=SAVED_BODY)
    page = new_page(color_scheme=scheme)
    sign_in(page)
    page.goto("/editor/articles/new")
    with page.expect_response("**/editor/autosave"):
        page.get_by_label("Headline").fill("Ferry timetable changes")
    expect(page.locator("#autosave-status")).to_contain_text("Draft copy kept")
    assert_accessible(page)
    page.goto(f"/editor/articles/{article.id}/edit")
    expect(page.get_by_role("region", name="Unsaved text")).to_have_count(0)

    page.goto("/editor/articles/new")
    offer = page.get_by_role("region", name="Unsaved text")
    expect(offer).to_be_visible()
    assert_accessible(page)
    offer.get_by_role("button", name="Discard it").click()
    expect(page.get_by_text("The unsaved text is discarded.")).to_be_visible()
    expect(page.get_by_role("region", name="Unsaved text")).to_have_count(0)
    expect(page.get_by_label("Headline")).to_have_value("")
    assert copies(live_server) == []


def test_without_javascript_the_offer_works_and_the_form_saves(
    page_without_js: Page,
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    live_server: LiveServer,
) -> None:
    """No autosave runs without scripts, but a kept copy is offered, restored and saved."""
    page = page_without_js
    editor = sign_in(page)
    article = make_article("Harbour reopens", slug="harbour", body=SAVED_BODY)
    with live_server.app.app_context():
        fields = {"title": "Harbour reopens", "slug": "harbour", "body": TYPED_BODY}
        fields |= {"status": "published", "published_at": ""}
        db.session.add(
            Autosave(user_id=editor.id, article_id=article.id, base_version=1, fields=fields)
        )
        db.session.commit()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"/editor/articles/{article.id}/edit")
    page.get_by_role("region", name="Unsaved text").get_by_role("link", name="Restore it").click()
    body = page.get_by_label("Body", exact=True)
    expect(body).to_have_value(TYPED_BODY)
    body.fill(TYPED_BODY + " Ferries run again.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Saved “Harbour reopens”.")).to_be_visible()
    assert not any(url.endswith("/editor/autosave") for url in requests)
    assert copies(live_server) == []
    page.goto("/articles/harbour")
    expect(page.locator(".article-body")).to_contain_text("Ferries run again.")


def test_text_typed_after_an_editor_published_stays_on_screen(
    new_page: Callable[..., Page],
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    live_server: LiveServer,
) -> None:
    """The status line says no copy is kept any more; Save shows every word typed, to copy."""
    page = new_page()
    writer = sign_in(page, role="writer")
    article = make_article(
        "Harbour reopens",
        slug="harbour",
        body=SAVED_BODY,
        author_id=writer.id,
        status="draft",
        published_at=None,
    )
    page.goto(f"/editor/articles/{article.id}/edit")
    status = page.locator("#autosave-status")
    body = page.get_by_label("Body", exact=True)
    with page.expect_response("**/editor/autosave"):
        body.fill(TYPED_BODY)
    expect(status).to_contain_text("Draft copy kept")

    with live_server.app.app_context():  # an editor publishes it meanwhile
        published = db.session.get(Article, article.id)
        published.status, published.published_at = "published", utcnow()
        db.session.commit()
    typed = TYPED_BODY + " The last ferry leaves at ten."
    with page.expect_response("**/editor/autosave") as response:
        body.fill(typed)
    assert response.value.status == 200
    expect(status).to_contain_text(
        "No draft copy kept. An editor published this article; only editors can change it now."
    )
    expect(page.locator("#checks")).to_contain_text("Not checked any more")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="You cannot edit “Harbour reopens”")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Your changes were not saved")).to_be_visible()
    expect(page.get_by_label("Body", exact=True)).to_have_value(typed)
    assert_accessible(page)
    page.get_by_role("link", name="Read the article").click()
    expect(page.locator(".article-body")).to_contain_text(SAVED_BODY)
    expect(page.locator(".article-body")).not_to_contain_text("last ferry")


def test_status_line_says_saving_and_when_a_copy_could_not_be_sent(
    browser: Browser,
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    live_server: LiveServer,
) -> None:
    """While a copy is on its way the line says "Saving…"; a failed try says none was kept."""
    # A failed request logs console errors on purpose, so this page is not one of new_page's:
    # it checks its own errors below.
    context = browser.new_context(base_url=live_server.url)
    errors = console_errors(context)
    held: list[Route] = []
    try:
        page = context.new_page()
        sign_in(page)
        article = make_article("Harbour reopens", body=SAVED_BODY)
        page.goto(f"/editor/articles/{article.id}/edit")
        status = page.locator("#autosave-status")
        body = page.get_by_label("Body", exact=True)
        with page.expect_response("**/editor/autosave"):
            body.fill(TYPED_BODY)
        expect(status).to_have_text(re.compile(r"^Draft copy kept at"), use_inner_text=True)

        page.route("**/editor/autosave", lambda route: held.append(route))
        body.fill(TYPED_BODY + " Ferries run again.")
        expect(status).to_have_text("Saving…", use_inner_text=True)
        for _ in range(100):  # the request is held once the route has it
            if held:
                break
            page.wait_for_timeout(50)
        held[0].abort()  # the connection drops
        expect(status).to_have_text(
            re.compile(r"^No draft copy kept: the site could not be reached\."),
            use_inner_text=True,
        )

        page.unroute("**/editor/autosave")
        with page.expect_response("**/editor/autosave"):
            body.fill(TYPED_BODY + " Ferries run again, every hour.")
        expect(status).to_have_text(re.compile(r"^Draft copy kept at"), use_inner_text=True)
    finally:
        context.close()
    # The dropped request, as the browser and htmx log it; nothing else.
    expected = ("Failed to load resource: net::ERR_FAILED", "htmx:afterRequest", "htmx:sendError")
    assert [text for text in errors if not text.startswith(expected)] == []


def test_two_new_article_tabs_keep_their_own_copies(
    new_page: Callable[..., Page], sign_in: Callable[..., User]
) -> None:
    """Saving one new article leaves the other tab's copy, which the new form then offers."""
    page = new_page()
    sign_in(page)
    other = page.context.new_page()
    for tab, headline in ((page, "Ferry timetable changes"), (other, "Storm wall repaired")):
        tab.goto("/editor/articles/new")
        with tab.expect_response("**/editor/autosave"):
            tab.get_by_label("Headline").fill(headline)
        expect(tab.locator("#autosave-status")).to_contain_text("Draft copy kept")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_text("Saved “Storm wall repaired”.")).to_be_visible()
    page.close()  # the first tab is lost before anyone saves it

    other.goto("/editor/articles/new")
    offer = other.get_by_role("region", name="Unsaved text")
    expect(offer).to_contain_text("You have unsaved text from")
    expect(offer).to_contain_text("“Ferry timetable changes”")
    expect(offer).not_to_contain_text("Storm wall")
    assert_accessible(other)
    offer.get_by_role("link", name="Restore it").click()
    expect(other.get_by_label("Headline")).to_have_value("Ferry timetable changes")

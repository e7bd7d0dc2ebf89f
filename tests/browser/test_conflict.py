"""Two editors in two browsers change one article: the later save gets the conflict page."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from blog.extensions import db
from blog.models import Article, User
from tests.browser.conftest import LiveServer

BODY = "The storm reached the coast at dawn.\n\n" + "Crews worked through the night. " * 12


def test_second_save_shows_both_versions_and_the_merge_saves(
    new_page: Callable[..., Page],
    sign_in: Callable[..., User],
    make_article: Callable[..., Article],
    live_server: LiveServer,
) -> None:
    """Ana saves first; Ben's save shows both versions side by side; Ben merges and saves."""
    article = make_article("Storm hits the coast", summary="Wind and rain.", body=BODY)
    ana, ben = new_page(), new_page()
    sign_in(ana, username="ana")
    sign_in(ben, username="ben")
    edit_url = f"/editor/articles/{article.id}/edit"
    ana.goto(edit_url)
    ben.goto(edit_url)

    ana.get_by_label("Headline").fill("Storm hits the north coast")
    ana.get_by_role("button", name="Save", exact=True).click()
    expect(ana.get_by_role("status").filter(has_text="Saved")).to_contain_text(
        "Saved “Storm hits the north coast”."
    )

    ben.get_by_label("Body", exact=True).fill("Ben's new lead.\n\n" + BODY)
    with ben.expect_response(
        lambda r: r.url.endswith(edit_url) and r.request.method == "POST"
    ) as response:
        ben.get_by_role("button", name="Save", exact=True).click()
    assert response.value.status == 409
    conflict = ben.locator(".conflict")
    expect(conflict.get_by_role("heading")).to_have_text(
        "Saved by someone else while you were editing"
    )
    expect(conflict).to_contain_text("Ana saved version 2")
    table = conflict.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Field", "Saved (version 2)", "Yours (not saved)"]
    )
    headline = table.get_by_role("row").filter(has=ben.get_by_role("rowheader", name="Headline"))
    expect(headline.get_by_role("cell").nth(0)).to_have_text("Storm hits the north coast")
    expect(headline.get_by_role("cell").nth(1)).to_have_text("Storm hits the coast")
    expect(headline.locator("del")).to_have_text("north ")
    body = table.get_by_role("row").filter(has=ben.get_by_role("rowheader", name="Body"))
    expect(body.locator("ins")).to_contain_text("Ben's new lead.")
    expect(ben.get_by_label("Body", exact=True)).to_have_value("Ben's new lead.\n\n" + BODY)

    ben.get_by_label("Headline").fill("Storm hits the north coast")
    ben.get_by_role("button", name="Save", exact=True).click()
    expect(ben.get_by_role("status").filter(has_text="Saved")).to_contain_text(
        "Saved “Storm hits the north coast”."
    )
    expect(ben.locator(".conflict")).to_have_count(0)

    with live_server.app.app_context():
        saved = db.session.get(Article, article.id)
        assert (saved.title, saved.body, saved.version) == (
            "Storm hits the north coast",
            "Ben's new lead.\n\n" + BODY,
            3,
        )

"""The article page's sidebars: lazy htmx fragments, and plain links without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from blog import images
from blog.models import Article
from tests.browser.conftest import LiveServer

SHORT_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def reveal(page: Page, element_id: str) -> None:
    """Scroll an element into view, as a reader would, which fires htmx's ``revealed``."""
    # By id in one step: the element may be swapped for its filled twin at any moment.
    page.evaluate("id => document.getElementById(id).scrollIntoView()", element_id)


def test_sidebars_start_as_links_and_fill_through_htmx(
    page: Page, make_article: Callable[..., Article]
) -> None:
    """Both sidebars arrive as a plain link, then htmx swaps in five dated, linked items."""
    make_article("Plain newest story")
    current = make_article("Story being read", featured=True)
    for n in range(6):
        make_article(f"Featured story {n}", featured=True)
    held: list[Route] = []
    released = False

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r"/sidebars/"), hold)
    page.goto(f"/articles/{current.slug}")
    for kind, title in (("featured", "Featured posts"), ("latest", "Latest posts")):
        sidebar = page.locator(f"#sidebar-{kind}")
        expect(sidebar.get_by_role("heading", level=2)).to_have_text(title)
        expect(sidebar.get_by_role("link", name=f"All {title.lower()}")).to_have_attribute(
            "href", f"/{kind}"
        )
        expect(sidebar.locator("li")).to_have_count(0)

    with (
        page.expect_response(re.compile(rf"/sidebars/featured\?exclude={current.id}$")) as featured,
        page.expect_response(re.compile(rf"/sidebars/latest\?exclude={current.id}$")) as latest,
    ):
        reveal(page, "sidebar-featured")
        reveal(page, "sidebar-latest")
        released = True
        for route in held:
            route.continue_()
    assert featured.value.status == latest.value.status == 200

    for kind in ("featured", "latest"):
        items = page.locator(f"#sidebar-{kind} li")
        expect(items).to_have_count(5)
        for item in items.all():
            expect(item.get_by_role("link")).to_have_attribute("href", re.compile(r"^/articles/"))
            expect(item.locator("time")).to_have_attribute("datetime", ISO_TIME)
            expect(item.locator("time")).to_have_text(SHORT_DATE)
        expect(page.locator(f"aside#sidebar-{kind}")).to_have_count(1)
        expect(page.locator(f"#sidebar-{kind}[hx-get]")).to_have_count(0)
    expect(page.locator("#sidebar-featured li")).to_have_text(
        [re.compile(f"^Featured story {n} ") for n in range(5)]
    )
    expect(page.locator("#sidebar-latest li").first).to_contain_text("Plain newest story")


def test_sidebars_leave_out_the_article_being_read(
    page: Page, make_article: Callable[..., Article]
) -> None:
    """The article on screen is listed in neither sidebar, though it is the newest of them."""
    stories = [make_article(f"Featured story {n}", featured=True) for n in range(6)]
    current = stories[0]
    page.goto(f"/articles/{current.slug}")
    for kind in ("featured", "latest"):
        reveal(page, f"sidebar-{kind}")
        sidebar = page.locator(f"#sidebar-{kind}")
        expect(sidebar.locator("li")).to_have_count(5)
        expect(sidebar).not_to_contain_text(current.title)
        expect(sidebar.locator(f'a[href="/articles/{current.slug}"]')).to_have_count(0)


def test_article_page_without_javascript_has_links_instead_of_sidebars(
    page_without_js: Page,
    live_server: LiveServer,
    make_article: Callable[..., Article],
    jpeg: Path,
) -> None:
    """Without JavaScript the sidebars are plain links, and the article itself is complete."""
    with live_server.app.app_context(), jpeg.open("rb") as file:
        hero = images.store(file)
    for n in range(3):
        make_article(f"Other story {n}", featured=True)
    article = make_article(
        "Harbour reopens",
        summary="Ships are back after the storm.",
        body="The harbour reopened on Monday.\n\n## Damage\n\nSome.\n\n## Repairs\n\nMore.",
        hero_image=hero.name,
        hero_width=hero.width,
        hero_height=hero.height,
        hero_alt="Cranes over the harbour at dawn",
    )
    page = page_without_js
    page.goto(f"/articles/{article.slug}")

    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour reopens")
    expect(page.locator(".dek")).to_have_text("Ships are back after the storm.")
    expect(page.locator(".byline").get_by_role("link", name="Reporter")).to_have_attribute(
        "href", "/authors/reporter"
    )
    hero_image = page.get_by_role("img", name="Cranes over the harbour at dawn")
    expect(hero_image).to_have_attribute("width", str(hero.width))
    expect(hero_image).to_have_attribute("height", str(hero.height))
    expect(page.locator(".article-body")).to_contain_text("The harbour reopened on Monday.")
    expect(page.locator(".article-body h2")).to_have_text(["Damage", "Repairs"])

    for kind, title in (("featured", "Featured posts"), ("latest", "Latest posts")):
        sidebar = page.locator(f"#sidebar-{kind}")
        expect(sidebar.get_by_role("heading", level=2)).to_have_text(title)
        expect(sidebar.get_by_role("link", name=f"All {title.lower()}")).to_have_attribute(
            "href", f"/{kind}"
        )
        expect(sidebar.locator("ol, li")).to_have_count(0)

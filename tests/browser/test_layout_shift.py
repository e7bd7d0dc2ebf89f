"""Nothing on the article page moves while it loads: not the hero image, not the sidebars."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from blog import images
from blog.models import Article
from tests.browser.conftest import TIMEOUT_MS, LiveServer

VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}

# Every layout shift from the start of the page, with the elements that moved.
OBSERVE_SHIFTS = """
window.layoutShifts = [];
window.recordShifts = entries => {
  for (const entry of entries) {
    window.layoutShifts.push({
      value: entry.value,
      moved: entry.sources.map(source => source.node
        ? `${source.node.nodeName}#${source.node.id}.${source.node.className}` : "?"),
    });
  }
};
window.shiftObserver = new PerformanceObserver(list => recordShifts(list.getEntries()));
window.shiftObserver.observe({type: "layout-shift", buffered: true});
"""

# The shifts so far, once two more frames have been laid out and painted.
SHIFTS_SO_FAR = """
() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => {
  recordShifts(shiftObserver.takeRecords());
  resolve(layoutShifts);
})))
"""


class Held:
    """Responses kept back until the test lets them through, one kind at a time."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def __call__(self, route: Route) -> None:
        """Hold ``route``."""
        self.routes.append(route)

    def release(self, page: Page, part: str) -> None:
        """Wait until a request whose URL contains ``part`` is held, then let it through."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not any(part in route.request.url for route in self.routes):
            assert time.monotonic() < deadline, f"no request for {part} was made"
            page.wait_for_timeout(20)  # lets Playwright hand the route over
        for route in [route for route in self.routes if part in route.request.url]:
            self.routes.remove(route)
            route.continue_()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_article_page_does_not_shift_as_hero_and_sidebars_load(
    device: str,
    new_page: Callable[..., Page],
    live_server: LiveServer,
    make_article: Callable[..., Article],
    jpeg: Path,
) -> None:
    """Layout shift stays 0 while the hero arrives late and htmx fills sidebars and related."""
    with live_server.app.app_context(), jpeg.open("rb") as file:
        hero = images.store(file)
    for n in range(6):
        # Headlines of three lines and more are cut to two, so the room kept for them suffices.
        make_article(
            f"Featured story {n}, " + "with a headline that runs on " * 6,
            featured=True,
            tags=["harbour"],
        )
    for n in range(6):
        make_article(f"Latest story {n}")
    article = make_article(
        "Harbour reopens",
        summary="Ships are back after the storm.",
        body="The harbour reopened on Monday.\n\n## Damage\n\nSome.\n\n## Repairs\n\nMore.",
        hero_image=hero.name,
        hero_width=hero.width,
        hero_height=hero.height,
        hero_alt="Cranes over the harbour at dawn",
        tags=["harbour"],
    )
    options: dict[str, Any] = VIEWPORTS[device]
    page = new_page(**options)
    page.add_init_script(OBSERVE_SHIFTS)
    held = Held()
    page.route(re.compile(r"/(media|sidebars)/"), held)

    page.goto(f"/articles/{article.slug}", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour reopens")
    page.evaluate(SHIFTS_SO_FAR)  # the page has painted without its image and sidebars
    held.release(page, "/media/")
    # The rendition the browser chose has arrived (its naturalWidth depends on the screen).
    picture = page.get_by_role("img", name="Cranes over the harbour at dawn")
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") > 0
    # One sidebar after the other, so that the second is on screen while the first fills.
    # The related posts at the end of the article last, with four of the long headlines.
    for box, part, items in (
        ("sidebar-featured", "/sidebars/featured", 5),
        ("sidebar-latest", "/sidebars/latest", 5),
        ("related", "/sidebars/related/", 4),
    ):
        # By id in one step: the element may be swapped for its filled twin at any moment.
        page.evaluate(f"document.getElementById('{box}').scrollIntoView()")
        held.release(page, part)
        expect(page.locator(f"#{box} li")).to_have_count(items)
        expect(page.locator(f"#{box}[hx-get]")).to_have_count(0)

    shifts = page.evaluate(SHIFTS_SO_FAR)
    assert sum(shift["value"] for shift in shifts) == 0, shifts

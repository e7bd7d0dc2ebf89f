"""Page weight: a first visit in Chromium (requests before images, bytes, layout shift), and
each resource's size with no encoding, gzip and Brotli.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Request, sync_playwright

from bench.results import Encoded, Transfer, Visit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
VIEWPORT = {"width": 412, "height": 823}  # a common phone
TIMEOUT_MS = 15_000
SETTLE_MS = 500  # after the last request, for any late shift
# A pause at each screen: htmx looks for newly revealed parts every 200 ms while the page
# scrolls, so a faster reader would pass a short one (the related posts) unseen.
SCROLL_PAUSE_MS = 250
# Installed before the page's own code: sums every layout shift not caused by input.
SHIFT_OBSERVER = """
window.__layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__layoutShift += entry.value;
  }
}).observe({type: "layout-shift", buffered: true});
"""
# Scrolls a screen at a time, as a reader does, so every lazy part is revealed on the way.
SCROLL_STEP = "() => { window.scrollBy(0, window.innerHeight); return window.scrollY; }"
# A lazy sidebar loses its hx-get when its filled state replaces it.
FILLED = "() => !document.querySelector('[hx-get^=\"/sidebars/\"]')"


def first_visits(base: str, pages: list[tuple[str, str]]) -> tuple[list[Visit], str]:
    """Visit each ``(name, path)`` with an empty cache; the visits and Chromium's version."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return [_visit(browser, base, name, path) for name, path in pages], browser.version
        finally:
            browser.close()


def _visit(browser: Browser, base: str, name: str, path: str) -> Visit:
    """Load the page, scroll to its end, wait for the lazy parts; what was fetched, and CLS."""
    context = browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.add_init_script(SHIFT_OBSERVER)
        finished: list[Request] = []
        # A function of Python's own: Playwright tags its handlers, which builtins refuse.
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(base + path, wait_until="load")
        previous = -1
        while (position := page.evaluate(SCROLL_STEP)) != previous:
            previous = position
            page.wait_for_timeout(SCROLL_PAUSE_MS)
        page.wait_for_function(FILLED)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(SETTLE_MS)
        shift = float(page.evaluate("window.__layoutShift"))
        transfers = [_transfer(request) for request in finished if not _is_image(request)]
        return Visit(name, path, transfers, shift)
    finally:
        context.close()


def _is_image(request: Request) -> bool:
    """Whether the request fetched an image (the icon included)."""
    response = request.response()
    content_type = response.header_value("content-type") if response else ""
    return request.resource_type == "image" or (content_type or "").startswith("image/")


def _transfer(request: Request) -> Transfer:
    """A finished request's path, kind, decoded and encoded body sizes, and encoding."""
    response = request.response()
    if response is None:
        raise RuntimeError(f"no response to {request.url}")
    parts = urlsplit(request.url)
    return Transfer(
        path=parts.path + (f"?{parts.query}" if parts.query else ""),
        kind=request.resource_type,
        raw=len(response.body()),
        transferred=request.sizes()["responseBodySize"],
        encoding=response.header_value("content-encoding") or "none",
    )


def encoded_sizes(base: str, name: str, path: str) -> Encoded:
    """The body of ``path`` as sent with no encoding, with gzip and with Brotli."""
    sizes = {}
    for encoding in ("identity", "gzip", "br"):
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(request, timeout=30) as response:
            sent = response.headers.get("Content-Encoding", "identity")
            if sent != encoding:
                raise RuntimeError(f"{path} came as {sent} when {encoding} was asked for")
            sizes[encoding] = len(response.read())
    return Encoded(name, path, sizes["identity"], sizes["gzip"], sizes["br"])

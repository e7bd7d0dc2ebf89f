"""Browser vocabulary: a live server on the test app, Chromium through Playwright, sign-in."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from blog.models import User
from tests.conftest import PASSWORD

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
LOAD_FAILED = "Failed to load resource"

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser``."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@dataclass(frozen=True)
class LiveServer:
    """The test app served over HTTP, for the browser."""

    url: str
    app: Flask


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test ``app`` on a free local port for the duration of a test."""
    server = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    # Closing the server waits for the requests still being answered, so that none holds a
    # database connection when the test's app lets its connections go.
    server.daemon_threads = False
    # A short poll interval makes shutdown quick: it is waited for after every test.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the whole run."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, shared by every test (each gets its own context)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts; fail the test if any of them reported an error.

    Console errors catch broken scripts, CSP violations, failed loads and htmx's error
    events; page errors catch uncaught exceptions; a 5xx page is always an error. A 4xx
    page a test navigates to (a 404, a form with errors) is the test's own business.
    """
    contexts: list[BrowserContext] = []
    console: list[tuple[str, str]] = []
    errors: list[str] = []
    navigations: set[str] = set()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.append((message.text, message.location.get("url", "")))

    def on_response(response: Response) -> None:
        if response.request.is_navigation_request():
            navigations.add(response.url)
            if response.status >= 500:
                errors.append(f"{response.status} from {response.url}")

    def open_page(**options: Any) -> Page:
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", on_console)
        context.on("weberror", lambda error: errors.append(f"page error: {error.error}"))
        context.on("response", on_response)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    for text, url in console:
        if text.startswith(LOAD_FAILED) and url in navigations:
            continue
        errors.append(f"console error: {text} ({url})")
    if errors:
        pytest.fail("The browser reported errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in a new browser context with JavaScript on."""
    return new_page()


@pytest.fixture
def page_without_js(new_page: Callable[..., Page]) -> Page:
    """A page in a new browser context with JavaScript off, as some readers browse."""
    return new_page(java_script_enabled=False)


@pytest.fixture
def jpeg(tmp_path: Path) -> Path:
    """A small, real JPEG file on disk, 640 by 360 pixels."""
    path = tmp_path / "harbour.jpg"
    image = Image.linear_gradient("L").resize((640, 360)).convert("RGB")
    image.save(path, "JPEG", quality=85)
    return path


@pytest.fixture
def sign_in(make_user: Callable[..., User]) -> Callable[..., User]:
    """Create a newsroom member and sign them in through the real form on ``page``."""

    def sign_in(page: Page, role: str = "editor", username: str | None = None) -> User:
        user = make_user(username or role, role=role)
        page.goto("/auth/login")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/editor/$"))
        return user

    return sign_in


def console_errors(context: BrowserContext) -> list[str]:
    """The console errors and page errors of ``context``'s pages, as they come."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(f"page error: {error.error}"))
    return errors


def expect_loaded(image: Locator) -> None:
    """``image`` has arrived and decoded: some rendition from its ``srcset``, whichever fits."""
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    assert re.search(r"/media/[0-9a-f]{32}-\d+\.\w+$", image.evaluate("img => img.currentSrc"))

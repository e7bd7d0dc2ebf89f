"""Durability: the real app under gunicorn, killed in a burst of saves, and under mixed load."""

from __future__ import annotations

import http.client
import itertools
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import Cookie, CookieJar
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from blog.config import ROOT
from blog.extensions import db
from blog.models import Article, User
from tests.conftest import Auth, body_for, csrf_token

pytestmark = pytest.mark.server

WRITERS = 4
READERS = 4
KILL_AFTER = 30  # acknowledged saves before the server is killed
LOAD_SECONDS = 3
LONG_TRANSACTION = 0.1  # seconds a concurrent import holds the write lock
BOOT_SECONDS = 20
BURST_SECONDS = 20
# What a request in flight sees when the server dies under it.
DISCONNECTED = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, named like the test client's."""

    status_code: int
    headers: Message
    text: str


class _HandBackRedirects(urllib.request.HTTPRedirectHandler):
    """Give redirects to the caller, as the Flask test client does."""

    def redirect_request(self, *_args: Any) -> None:
        """Follow nothing."""
        return None


class WebClient:
    """A small HTTP client with a cookie jar, shaped like the test client for the helpers."""

    def __init__(self, base: str, cookies: Iterable[Cookie] = ()) -> None:
        self.base = base
        self.jar = CookieJar()
        for cookie in cookies:
            self.jar.set_cookie(cookie)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _HandBackRedirects()
        )

    def fork(self) -> WebClient:
        """Another client in the same session, with a jar of its own from now on."""
        return WebClient(self.base, list(self.jar))

    def get(self, path: str) -> Reply:
        """GET ``path``."""
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, str]) -> Reply:
        """POST ``data`` to ``path`` as a form."""
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> Reply:
        """Send ``request``; an error status is an answer like any other."""
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            return Reply(response.getcode(), response.headers, response.read().decode())


@dataclass(frozen=True)
class Server:
    """gunicorn serving ``app:app`` in a process group of its own."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the master and every worker at once."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def serve(app: Flask, tmp_path: Path) -> Iterator[Callable[[int], Server]]:
    """Start gunicorn with ``workers`` workers on the test app's database and media."""
    started: list[Server] = []

    def serve(workers: int) -> Server:
        log = tmp_path / "gunicorn.log"
        env = {name: value for name, value in os.environ.items() if not name.startswith("FLASK_")}
        for name in ("SQLALCHEMY_DATABASE_URI", "MEDIA_DIR", "SECRET_KEY", "CACHE_STAMP_FILE"):
            env[f"FLASK_{name}"] = app.config[name]
        command = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0"]
        command += ["--workers", str(workers), "--no-control-socket", "app:app"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
            )
        server = Server(_listening_url(log, process), process, log)
        started.append(server)
        assert WebClient(server.url).get("/healthz").status_code == 200
        return server

    yield serve
    for server in started:
        server.kill()


def _listening_url(log: Path, process: subprocess.Popen[bytes]) -> str:
    """The address gunicorn reports once it has bound its port."""
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if found := re.search(r"Listening at: (http://\S+)", log.read_text()):
            return found.group(1)
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")


def signed_in(server: Server, make_user: Callable[..., User]) -> tuple[WebClient, str]:
    """A client signed in as an editor through the real form, and its CSRF token."""
    client = WebClient(server.url)
    Auth(client, make_user).login("editor")
    return client, csrf_token(client, "/editor/articles/new")


def article_form(token: str, title: str, **fields: str) -> dict[str, str]:
    """The editor form's fields for a published article with a long body."""
    return {
        "csrf_token": token,
        "title": title,
        "body": body_for(title),
        "status": "published",
        **fields,
    }


@pytest.mark.sqlite
def test_every_acknowledged_save_survives_sigkill_in_a_burst(app, serve, make_user):
    server = serve(workers=2)
    editor, token = signed_in(server, make_user)
    acknowledged: list[str] = []
    enough = threading.Event()

    def write(writer: int) -> None:
        """Save new articles until the server dies, noting each one answered with success."""
        client = editor.fork()
        for n in itertools.count():
            title = f"Writer {writer} save {n:04}"
            try:
                reply = client.post("/editor/articles/new", article_form(token, title))
            except DISCONNECTED:
                return
            assert reply.status_code == 303, reply.text
            acknowledged.append(title)
            if len(acknowledged) >= KILL_AFTER:
                enough.set()
            try:
                client.get(reply.headers["Location"])  # as a browser would; it shows the flash
            except DISCONNECTED:
                return

    with ThreadPoolExecutor(WRITERS) as pool:
        writers = [pool.submit(write, n) for n in range(WRITERS)]
        reached = enough.wait(timeout=BURST_SECONDS)
        server.kill()
        for writer in writers:
            writer.result()
    assert reached, server.log.read_text()

    with app.app_context():
        db.engine.dispose()
        with closing(sqlite3.connect(db.engine.url.database)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        stored = dict(db.session.execute(sa.select(Article.title, Article.body)).all())
    assert [title for title in acknowledged if title not in stored] == []
    assert all(body == body_for(title) for title, body in stored.items())


def test_many_writers_and_readers_at_once_never_see_a_server_error(
    app, serve, make_user, make_article
):
    shared = make_article("Shared story")
    server = serve(workers=3)
    editor, token = signed_in(server, make_user)
    deadline = time.monotonic() + LOAD_SECONDS
    edit = f"/editor/articles/{shared.id}/edit"
    pages = ["/", "/latest", "/featured", f"/articles/{shared.slug}", "/sidebars/latest"]
    pages += ["/sidebars/featured", "/healthz", "/editor/", edit]

    def write(writer: int) -> list[tuple[str, Reply]]:
        """Add articles and change the one everybody edits, following each redirect."""
        client, replies = editor.fork(), []
        for n in itertools.count():
            if time.monotonic() > deadline:
                return replies
            title = f"Writer {writer} save {n:04}"
            for path, form in (
                ("/editor/articles/new", article_form(token, title)),
                (edit, article_form(token, shared.title, slug=shared.slug)),
            ):
                reply = client.post(path, form)
                replies.append((f"POST {path}", reply))
                if reply.status_code == 303:
                    location = reply.headers["Location"]
                    replies.append((f"GET {location}", client.get(location)))

    def read(reader: int) -> list[tuple[str, Reply]]:
        """Read pages and fragments in turn, half of the readers signed in."""
        client = editor.fork() if reader % 2 else WebClient(server.url)
        replies = []
        for path in itertools.cycle(pages if reader % 2 else pages[:-2]):
            if time.monotonic() > deadline:
                return replies
            replies.append((f"GET {path}", client.get(path)))

    def hold_the_lock() -> int:
        """Change the shared article in long transactions, as a big import would meanwhile."""
        with app.app_context():
            for n in itertools.count():
                if time.monotonic() > deadline:
                    return n
                db.session.get(Article, shared.id).summary = f"Import {n}"
                db.session.flush()  # takes SQLite's write lock until the commit
                time.sleep(LONG_TRANSACTION)
                db.session.commit()

    with ThreadPoolExecutor(WRITERS + READERS + 1) as pool:
        jobs = [pool.submit(write, n) for n in range(WRITERS)]
        jobs += [pool.submit(read, n) for n in range(READERS)]
        holder = pool.submit(hold_the_lock)
        replies = [reply for job in jobs for reply in job.result()]
        assert holder.result() > 0

    # Workers log an error before they answer, so the log is complete by now.
    log = server.log.read_text()
    # Saves answer 303 and pages 200: anything else, a 5xx above all, is a failure. A save of
    # the shared article overtaken by another one is refused as a conflict (409), not lost.
    expected = {"POST /editor/articles/new": {303}, f"POST {edit}": {303, 409}}
    wrong = [
        f"{what}: {reply.status_code}"
        for what, reply in replies
        if reply.status_code not in expected.get(what, {200})
    ]
    assert wrong == [], log
    assert not [what for what, reply in replies if "database is locked" in reply.text]
    assert "database is locked" not in log and "Traceback" not in log, log
    saves = sum(what.startswith("POST") for what, _ in replies)
    assert saves >= 2 * WRITERS and len(replies) - saves >= 2 * READERS

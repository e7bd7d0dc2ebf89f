"""The page cache: a reader page rendered once per change of the content it shows.

A reader page (one Flask marks as the same for every reader, see ``delivery``) is kept byte for
byte as it went out: its headers, its body compressed as that reader asked. The next reader who
asks the same way gets it from a WSGI layer in front of Flask, which does no other work: no
routing, no session, no queries. So an article page costs about what a static file costs.

Every key holds the content stamp, a token that changes with each commit touching what reader
pages show (articles, sections, tags, people, notes, redirects). A change retires every page
at once, in every worker and on every server, without knowing which pages it touched; retired
entries are never read again and age out. The stamp lives where all app processes see it: in
the cache when the cache is shared (Redis), otherwise in a small file in the instance folder,
since the default in-memory cache is one per worker.

Redis is a cache, not a dependency: while it cannot be reached, readers get pages rendered
afresh (none kept) and saves go through; a change made meanwhile cannot retire the pages
kept before, which then age out within ``CACHE_DEFAULT_TIMEOUT``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask_caching.backends.simplecache import SimpleCache
from sqlalchemy import orm
from werkzeug.http import parse_cookie, parse_etags

from blog.config import REDIS_TIMEOUTS
from blog.dates import utcnow
from blog.extensions import cache
from blog.models import Article, ArticleNote, LegacyPath, Section, SlugRedirect, Tag, User

# What reader pages show: a commit that writes one of these retires every cached page.
CONTENT_MODELS = (Article, ArticleNote, LegacyPath, Section, SlugRedirect, Tag, User)
CONTENT_TABLES = frozenset(model.__table__ for model in CONTENT_MODELS) | {
    Article.tags.property.secondary
}
STAMP_KEY = "content-stamp"
KEEP = "dateline.keep_page"  # set in the WSGI environ by ``keep``: this response may be kept
_CHANGED = "dateline.pages_changed"
# Headers a kept page is sent again without: made afresh for each reader.
_FRESH = frozenset({"cache-control", "date", "set-cookie"})
# Headers a 304 answer leaves out: they describe the body it does not carry.
_BODY_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class KeptPage:
    """A reader page as it went out, and until when it stays right without any commit."""

    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    next_publication: datetime | None  # a scheduled article goes public then


def init_app(app: Flask, cache_control: Callable[[datetime | None], str]) -> None:
    """Set up Flask-Caching (in memory, or Redis when ``CACHE_REDIS_URL`` is set) and put the
    page cache in front of the app; ``cache_control`` makes a kept page's Cache-Control.
    """
    if app.config.get("CACHE_REDIS_URL"):
        app.config.setdefault("CACHE_TYPE", "RedisCache")
        app.config.setdefault("CACHE_OPTIONS", dict(REDIS_TIMEOUTS))
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    app.config.setdefault("CACHE_THRESHOLD", 1000)  # entries per worker, in memory
    app.config.setdefault("CACHE_KEY_PREFIX", "dateline:")
    app.config.setdefault("CACHE_NO_NULL_WARNING", True)  # NullCache turns page caching off
    app.config.setdefault("CACHE_STAMP_FILE", str(Path(app.instance_path) / "content-stamp"))
    cache.init_app(app)
    pages = PageCache(app, cache_control)
    app.extensions["dateline.pages"] = pages
    app.wsgi_app = pages  # type: ignore[method-assign]


def keep(environ: dict[str, Any], next_publication: datetime | None) -> None:
    """Let the page cache keep the response to this request, a reader page; it does when the
    request came without a session.
    """
    environ[KEEP] = next_publication


def content_stamp() -> str:
    """The token of the content as it is now."""
    return _pages().stamp()


def content_changed() -> None:
    """Retire every kept page."""
    _pages().retire()


def _pages() -> PageCache:
    return current_app.extensions["dateline.pages"]


class PageCache:
    """WSGI middleware: answers readers from kept pages, and keeps what Flask marks."""

    def __init__(self, app: Flask, cache_control: Callable[[datetime | None], str]) -> None:
        self.wsgi_app = app.wsgi_app
        self.store = app.extensions["cache"][cache]
        self.cache_control = cache_control
        self.static_prefix = f"{app.static_url_path}/"
        self.session_cookies = {
            app.config["SESSION_COOKIE_NAME"],
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        }
        self.stamp_file = (
            Path(app.config["CACHE_STAMP_FILE"]) if isinstance(self.store, SimpleCache) else None
        )
        self.keeps_for = app.config["CACHE_DEFAULT_TIMEOUT"]
        self.logger = app.logger

    def stamp(self) -> str:
        """The current content stamp ("" until the first change is recorded)."""
        if self.stamp_file is None:
            return self.store.get(STAMP_KEY) or ""
        try:
            with open(self.stamp_file, "rb") as file:
                return file.read().decode()
        except FileNotFoundError:
            return ""

    def retire(self) -> None:
        """A new stamp, written in one step: readers see the old token or the new one."""
        token = uuid.uuid4().hex
        if self.stamp_file is None:
            try:
                self.store.set(STAMP_KEY, token, timeout=0)
            except redis.RedisError as error:
                self.logger.error(
                    "Content changed, but the page cache could not be reached (%s): kept pages"
                    " may show the old content for up to %s s.",
                    error,
                    self.keeps_for,
                )
            return
        self.stamp_file.parent.mkdir(parents=True, exist_ok=True)
        fresh = self.stamp_file.with_name(f"{self.stamp_file.name}.{token}")
        fresh.write_text(token)
        os.replace(fresh, self.stamp_file)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer from a kept page, or let Flask answer and keep the page when it says so."""
        if not self._for_reader(environ):
            return self.wsgi_app(environ, start_response)
        # The key is taken before rendering: a page rendered while content changed is kept
        # under the stamp it started from, which the change has already retired.
        try:
            key = self._key(environ)
            page: KeptPage | None = self.store.get(key)
        except redis.RedisError as error:
            self._unreachable(error)
            return self.wsgi_app(environ, start_response)
        if page is not None and not (page.next_publication and page.next_publication <= utcnow()):
            return self._replay(page, environ, start_response)
        sent: list[Any] = []

        def remember(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, *exc_info)

        body = self.wsgi_app(environ, remember)
        if KEEP not in environ or environ["REQUEST_METHOD"] != "GET" or sent[0][:3] != "200":
            return body
        try:
            data = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        headers = [(name, value) for name, value in sent[1] if name.lower() not in _FRESH]
        etag = next((value for name, value in headers if name.lower() == "etag"), "")
        try:
            self.store.set(key, KeptPage(headers, data, etag, environ[KEEP]))
        except redis.RedisError as error:
            self._unreachable(error)
        return [data]

    def _unreachable(self, error: redis.RedisError) -> None:
        """Say in the log that this request went without the shared cache."""
        self.logger.warning("The page cache could not be reached (%s); pages are rendered.", error)

    def _for_reader(self, environ: dict[str, Any]) -> bool:
        """A GET or HEAD without a session: the only requests a kept page may answer."""
        if environ["REQUEST_METHOD"] not in {"GET", "HEAD"}:
            return False
        if environ.get("PATH_INFO", "").startswith(self.static_prefix):
            return False
        cookies = environ.get("HTTP_COOKIE")
        return not cookies or self.session_cookies.isdisjoint(parse_cookie(cookies))

    def _key(self, environ: dict[str, Any]) -> str:
        """The page's key: the content stamp, the full URL, and how the reader takes it."""
        return "page:{}:{}://{}{}{}?{}:{}".format(
            self.stamp(),
            environ["wsgi.url_scheme"],
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_ENCODING", ""),
        )

    def _replay(
        self, page: KeptPage, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Send ``page`` again: 304 when the reader holds it already, no body for HEAD."""
        headers = [*page.headers, ("Cache-Control", self.cache_control(page.next_publication))]
        held = environ.get("HTTP_IF_NONE_MATCH")
        if held and page.etag and parse_etags(held).contains(page.etag.strip('"')):
            start_response(
                "304 Not Modified",
                [(name, value) for name, value in headers if name.lower() not in _BODY_HEADERS],
            )
            return []
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [page.body]


@sa.event.listens_for(orm.Session, "after_flush")
def _note_flushed_content(session: orm.Session, _context: Any) -> None:
    """Remember that this transaction wrote content that reader pages show."""
    written = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(item, CONTENT_MODELS) for item in written):
        session.info[_CHANGED] = True


@sa.event.listens_for(orm.Session, "do_orm_execute")
def _note_bulk_content(state: orm.ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE/INSERT statements through the session count too."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table in CONTENT_TABLES:
        state.session.info[_CHANGED] = True


@sa.event.listens_for(orm.Session, "after_commit")
def _retire_pages(session: orm.Session) -> None:
    """After a commit that changed content, no kept page is served again.

    A savepoint's commit and rollback fire these events too; only the outermost counts.
    """
    if session.in_nested_transaction():
        return
    if session.info.pop(_CHANGED, False) and has_app_context():
        content_changed()


@sa.event.listens_for(orm.Session, "after_rollback")
def _forget_rolled_back(session: orm.Session) -> None:
    """Nothing changed after all (a savepoint's rollback leaves the transaction's changes)."""
    if not session.in_nested_transaction():
        session.info.pop(_CHANGED, None)

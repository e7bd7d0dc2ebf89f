"""The page cache: reader pages rendered once per change of the content they show.

A rendered page is kept under a key that holds the content stamp, a token that changes with
every commit touching what reader pages show (articles, sections, tags, people, notes,
redirects). So a change retires every page at once, in every worker and on every server,
without knowing which pages it touched; retired entries are never read again and age out.

The stamp lives where every app process sees it: in the cache itself when the cache is shared
(Redis), otherwise in a small file in the instance folder, read on each request (a few
microseconds), since the default in-memory cache is one per worker.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, has_app_context, request
from flask_caching.backends.simplecache import SimpleCache
from sqlalchemy import orm

from blog.dates import utcnow
from blog.extensions import cache
from blog.models import Article, ArticleNote, Section, SlugRedirect, Tag, User

# What reader pages show: a commit that writes one of these retires every cached page.
CONTENT_MODELS = (Article, ArticleNote, Section, SlugRedirect, Tag, User)
CONTENT_TABLES = frozenset(model.__table__ for model in CONTENT_MODELS) | {
    Article.tags.property.secondary
}
STAMP_KEY = "content-stamp"
_CHANGED = "dateline.pages_changed"


@dataclass(frozen=True)
class CachedPage:
    """A reader page as rendered: what to send again, and until when it stays right."""

    body: bytes
    headers: list[tuple[str, str]]
    etag: str
    next_publication: datetime | None  # the page may change then without any commit


def init_app(app: Flask) -> None:
    """Set up Flask-Caching (in memory, or Redis when ``CACHE_REDIS_URL`` is set)."""
    if app.config.get("CACHE_REDIS_URL"):
        app.config.setdefault("CACHE_TYPE", "RedisCache")
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    app.config.setdefault("CACHE_THRESHOLD", 1000)  # pages per worker in memory
    app.config.setdefault("CACHE_KEY_PREFIX", "dateline:")
    app.config.setdefault("CACHE_NO_NULL_WARNING", True)  # NullCache turns page caching off
    app.config.setdefault("CACHE_STAMP_FILE", str(Path(app.instance_path) / "content-stamp"))
    cache.init_app(app)


def _stamp_in_file() -> bool:
    """Whether the cache is one per process, so the stamp must live outside it."""
    return isinstance(cache.cache, SimpleCache)


def content_stamp() -> str:
    """The token of the content as it is now ("" before the first change is recorded)."""
    if not _stamp_in_file():
        return cache.get(STAMP_KEY) or ""
    try:
        with open(current_app.config["CACHE_STAMP_FILE"], "rb") as file:
            return file.read().decode()
    except FileNotFoundError:
        return ""


def content_changed() -> None:
    """Retire every cached page: a new stamp, written in one step."""
    token = uuid.uuid4().hex
    if not _stamp_in_file():
        cache.set(STAMP_KEY, token, timeout=0)
        return
    path = Path(current_app.config["CACHE_STAMP_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f"{path.name}.{token}")
    fresh.write_text(token)
    os.replace(fresh, path)  # readers see the old token or the new one, never half of one


def _key() -> str:
    """The cache key of this request's page under the current content."""
    return f"page:{content_stamp()}:{request.full_path}"


def cached_page() -> CachedPage | None:
    """The kept rendering of this request's page, while it is still right."""
    page: CachedPage | None = cache.get(_key())
    if page is None or (page.next_publication and page.next_publication <= utcnow()):
        return None
    return page


def keep_page(response: Response, next_publication: datetime | None) -> None:
    """Keep ``response`` (a reader page with its ETag) for the next readers of this URL."""
    etag, _ = response.get_etag()
    headers = [
        (name, value)
        for name, value in response.headers.items()
        if name not in {"Cache-Control", "Content-Length", "ETag", "Set-Cookie"}
    ]
    page = CachedPage(response.get_data(), headers, etag or "", next_publication)
    cache.set(_key(), page)


def replay(page: CachedPage) -> Response:
    """A response carrying ``page`` again."""
    response = Response(page.body, headers=page.headers)
    response.set_etag(page.etag)
    return response


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
    """After a commit that changed content, no cached page is served again."""
    if session.info.pop(_CHANGED, False) and has_app_context():
        content_changed()


@sa.event.listens_for(orm.Session, "after_rollback")
def _forget_rolled_back(session: orm.Session) -> None:
    """Nothing changed after all."""
    session.info.pop(_CHANGED, None)

"""How responses travel: reader pages rendered once per change (the page cache) that caches
may keep briefly (never past a scheduled publication) and revalidate by ETag; the readers'
stylesheet inside every page; static files under content-hashed URLs, kept for a year;
compressed text for readers.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from flask_compress import Compress
from flask_login import current_user
from markupsafe import Markup
from werkzeug.security import safe_join

from blog import caching
from blog.dates import utcnow
from blog.extensions import db
from blog.media import ONE_YEAR
from blog.models import Article

# How long a browser or a reverse proxy may keep a reader page, and serve it stale while it
# asks again: a change shows within a minute, and a burst of readers costs one render a minute.
PAGE_MAX_AGE = 60
PAGE_STALE = 300
# The blueprints of pages that are the same for every reader.
READER_PAGES = {"articles", "sidebars", "search", "feeds", "sitemaps"}
# The readers' stylesheet goes inside every page's <style> rather than behind a link: it is
# smaller than the first round trip carries, so a first visit saves a render-blocking request
# and costs no extra byte. The file stays the one to edit; the newsroom's is linked as usual.
READER_STYLESHEET = "css/site.css"

_compress = Compress()


def init_app(app: Flask) -> None:
    """Keep reader pages, inline the readers' stylesheet, fingerprint static URLs, mark what
    caches may keep, compress.
    """
    caching.init_app(app, page_cache_control)
    app.extensions["reader_stylesheet"] = _read_stylesheet(app)
    app.add_template_global(Markup(reader_stylesheet(app)), "reader_stylesheet")
    app.config.setdefault("COMPRESS_REGISTER", False)  # ``_compressed`` decides per response
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    _compress.init_app(app)
    app.url_defaults(_fingerprinted)
    app.after_request(_cache_static)
    app.after_request(_compressed)
    app.after_request(_cache_pages)  # runs before compression: the ETag is of the page itself


def reader_stylesheet(app: Flask) -> str:
    """The readers' stylesheet as every page of ``app`` carries it, read when the app started."""
    return app.extensions["reader_stylesheet"]


def _read_stylesheet(app: Flask) -> str:
    """The readers' stylesheet; refused if it holds ``</style``, which would end it early."""
    css = (Path(str(app.static_folder)) / READER_STYLESHEET).read_text(encoding="utf-8")
    if "</style" in css.lower():
        raise ValueError(f"static/{READER_STYLESHEET} must not contain '</style'")
    return css


def _fingerprinted(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for("static", filename=…)`` carries ``?v=`` with the file's content hash."""
    if endpoint == "static" and "filename" in values:
        fingerprint = _fingerprint(values["filename"])
        if fingerprint:
            values.setdefault("v", fingerprint)


def _fingerprint(filename: str) -> str:
    """The first 12 hex digits of the static file's SHA-256; empty when there is no such file."""
    path = safe_join(str(current_app.static_folder), filename)
    if path is None or not Path(path).is_file():
        return ""
    return _hash(path, Path(path).stat().st_mtime_ns)


@lru_cache(maxsize=256)
def _hash(path: str, _mtime_ns: int) -> str:
    """The hash of ``path`` as it was at ``_mtime_ns`` (a changed file is hashed again)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _cache_static(response: Response) -> Response:
    """A static file asked for under its current hash never changes: keep it for a year."""
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args["v"] == _fingerprint(filename):
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
    return response


def _compressed(response: Response) -> Response:
    """Compress static files and what readers get; never a signed-in member's pages, nor
    a visitor's page that holds a CSRF token (the sign-in form).

    A compressed page that holds a secret (a CSRF token) next to text an attacker can make it
    reflect leaks the secret through its size (BREACH); readers' pages hold none.
    """
    if request.endpoint == "static" and response.status_code == 200:
        # Read whole (they are small), so the file is closed with the response and compressed
        # in one piece, rather than streamed past its close.
        response.direct_passthrough = False
        response.make_sequence()
    # Flask-WTF keeps the token it printed in ``g`` under the field's name.
    token_printed = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g
    if request.endpoint == "static" or not (current_user.is_authenticated or token_printed):
        return _compress.after_request(response)
    return response


def _cache_pages(response: Response) -> Response:
    """Let caches keep reader pages briefly, revalidated by ETag (304); nothing else is shared.

    The page cache may keep it too (it does when no session came with the request). Readers
    carry no cookie; ``Vary: Cookie`` keeps a signed-in member's pages apart.
    """
    if request.endpoint in {"static", "media.file"} or "Cache-Control" in response.headers:
        return response
    public = (
        request.blueprint in READER_PAGES
        and request.method in {"GET", "HEAD"}
        and response.status_code == 200
        and not current_user.is_authenticated
    )
    if not public:
        response.cache_control.private = True
        response.cache_control.no_cache = True
        return response
    next_publication = _next_publication()
    response.headers["Cache-Control"] = page_cache_control(next_publication)
    response.vary.add("Cookie")
    response.add_etag()
    if "Set-Cookie" not in response.headers:
        caching.keep(request.environ, next_publication)
    return response.make_conditional(request)


def page_cache_control(next_publication: datetime | None) -> str:
    """Caches may keep a reader page a minute, and serve it stale a while as they ask again.

    A scheduled article must appear on time, so a page is never kept, nor served stale, past
    the next scheduled publication.
    """
    until_next = 24 * 3600
    if next_publication is not None:
        until_next = max(0, int((next_publication - utcnow()).total_seconds()))
    max_age = min(PAGE_MAX_AGE, until_next)
    stale = max(0, min(PAGE_STALE, until_next - max_age))
    return f"public, max-age={max_age}, stale-while-revalidate={stale}"


def _next_publication() -> datetime | None:
    """When the next scheduled article goes public, if one is due."""
    return db.session.scalar(
        sa.select(sa.func.min(Article.published_at)).where(
            Article.status == "published", Article.published_at > utcnow()
        )
    )

"""How responses travel: reader pages that caches may keep briefly (never past a scheduled
publication) and revalidate by ETag; static files under content-hashed URLs, kept for a year;
compressed text for readers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from flask_compress import Compress
from flask_login import current_user
from werkzeug.security import safe_join

from blog.dates import utcnow
from blog.extensions import db
from blog.media import ONE_YEAR
from blog.models import Article

# How long a browser or a reverse proxy may keep a reader page, and serve it stale while it
# asks again: a change shows within a minute, and a burst of readers costs one render a minute.
PAGE_MAX_AGE = 60
PAGE_STALE = 300
# The blueprints of pages that are the same for every reader.
READER_PAGES = {"articles", "sidebars"}

_compress = Compress()


def init_app(app: Flask) -> None:
    """Fingerprint static URLs, mark what caches may keep, compress (zstd, br or gzip)."""
    app.config.setdefault("COMPRESS_REGISTER", False)  # ``_compressed`` decides per response
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    _compress.init_app(app)
    app.url_defaults(_fingerprinted)
    app.after_request(_cache_static)
    app.after_request(_compressed)
    app.after_request(_cache_pages)  # runs before compression: the ETag is of the page itself


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
    """Compress static files and what readers get; never a signed-in member's pages.

    A compressed page that holds a secret (a CSRF token) next to text an attacker can make it
    reflect leaks the secret through its size (BREACH); readers' pages hold none.
    """
    if request.endpoint == "static" and response.status_code == 200:
        # Read whole (they are small), so the file is closed with the response and compressed
        # in one piece, rather than streamed past its close.
        response.direct_passthrough = False
        response.make_sequence()
    if request.endpoint == "static" or not current_user.is_authenticated:
        return _compress.after_request(response)
    return response


def _cache_pages(response: Response) -> Response:
    """Let caches keep reader pages briefly, revalidated by ETag (304); nothing else is shared.

    A scheduled article must appear on time, so a page is never kept, nor served stale, past
    the next scheduled publication. Readers carry no cookie; ``Vary: Cookie`` keeps a signed-in
    member's pages apart.
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
    until_next = _seconds_to_next_publication()
    response.cache_control.public = True
    response.cache_control.max_age = min(PAGE_MAX_AGE, until_next)
    response.cache_control.stale_while_revalidate = max(
        0, min(PAGE_STALE, until_next - response.cache_control.max_age)
    )
    response.vary.add("Cookie")
    response.add_etag()
    return response.make_conditional(request)


def _seconds_to_next_publication() -> int:
    """Whole seconds until the next scheduled article goes public (a day when none is due)."""
    next_at = db.session.scalar(
        sa.select(sa.func.min(Article.published_at)).where(
            Article.status == "published", Article.published_at > utcnow()
        )
    )
    if next_at is None:
        return 24 * 3600
    return max(0, int((next_at - utcnow()).total_seconds()))

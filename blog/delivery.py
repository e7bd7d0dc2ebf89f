"""How responses travel: static files under content-hashed URLs, kept by browsers for a year,
and compressed text for readers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request
from flask_compress import Compress
from flask_login import current_user
from werkzeug.security import safe_join

from blog.media import ONE_YEAR

_compress = Compress()


def init_app(app: Flask) -> None:
    """Fingerprint static URLs and compress what is worth it (Flask-Compress: zstd, br, gzip)."""
    app.config.setdefault("COMPRESS_REGISTER", False)  # ``_compressed`` decides per response
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    _compress.init_app(app)
    app.url_defaults(_fingerprinted)
    app.after_request(_cache_static)
    app.after_request(_compressed)


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

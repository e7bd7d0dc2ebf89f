"""Uploaded images at ``/media/<name>``."""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

from blog import images

bp = Blueprint("media", __name__, url_prefix="/media")

ONE_YEAR = 365 * 24 * 3600


@bp.get("/<name>")
def file(name: str) -> ResponseReturnValue:
    """Serve an upload; its name is its content hash, so it may be cached for good."""
    if not images.NAME.match(name):
        abort(404)
    response = send_from_directory(images.media_dir(), name, max_age=ONE_YEAR)
    response.cache_control.immutable = True
    return response

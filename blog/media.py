"""Uploaded images and their renditions at ``/media/<name>``."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

from blog import images
from blog.storage import current_media

bp = Blueprint("media", __name__, url_prefix="/media")

ONE_YEAR = 365 * 24 * 3600


@bp.get("/<name>")
def file(name: str) -> ResponseReturnValue:
    """Serve an upload or a rendition; its name holds its content hash, so it is kept for good."""
    if not images.FILE_NAME.match(name):
        abort(404)
    return current_media().response(name, ONE_YEAR)

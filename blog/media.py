"""Uploaded images and their renditions at ``/media/<name>``."""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

from blog import images

bp = Blueprint("media", __name__, url_prefix="/media")

ONE_YEAR = 365 * 24 * 3600


@bp.get("/<name>")
def file(name: str) -> ResponseReturnValue:
    """Serve an upload or a rendition; its name holds its content hash, so it is kept for good."""
    if not images.FILE_NAME.match(name):
        abort(404)
    extension = name.rsplit(".", 1)[1]
    response = send_from_directory(
        images.media_dir(), name, mimetype=images.MIMETYPES[extension], max_age=ONE_YEAR
    )
    response.cache_control.immutable = True
    return response

"""Uploaded images: checked with Pillow, stored under a content-hash name, served from MEDIA_DIR."""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|gif)$")


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message says why, for the person."""


@dataclass(frozen=True)
class StoredImage:
    """A stored upload: its file name under MEDIA_DIR and its pixel size."""

    name: str
    width: int
    height: int


def media_dir() -> Path:
    """The folder uploads live in."""
    return Path(current_app.config["MEDIA_DIR"])


def store(stream: BinaryIO) -> StoredImage:
    """Check that ``stream`` holds a JPEG, PNG, WebP or GIF image and store it."""
    data = stream.read()
    if not data:
        raise ImageRejected("The file is empty.")
    width, height, kind = _inspect(data)
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{FORMATS[kind]}"
    path = media_dir() / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)
    return StoredImage(name, width, height)


def stored(name: str) -> StoredImage | None:
    """An earlier upload by name, if the name is one of ours and the file is there."""
    if not NAME.match(name):
        return None
    try:
        with Image.open(media_dir() / name) as image:
            return StoredImage(name, image.width, image.height)
    except (OSError, UnidentifiedImageError):
        return None


def _inspect(data: bytes) -> tuple[int, int, str]:
    """Return width, height and format, or raise ImageRejected."""
    limit = current_app.config["MAX_IMAGE_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                kind, width, height = image.format, image.width, image.height
                if kind not in FORMATS:
                    raise ImageRejected("Upload a JPEG, PNG, WebP or GIF image.")
                if width * height > limit:
                    raise ImageRejected(f"The image is too large: at most {limit:,} pixels.")
                image.load()  # decodes every byte: catches truncated and corrupt files
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(f"The image is too large: at most {limit:,} pixels.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageRejected("This file is not a readable JPEG, PNG, WebP or GIF image.") from error
    return width, height, kind

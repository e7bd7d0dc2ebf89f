"""Uploaded images: checked with Pillow, stored under a content-hash name, served from MEDIA_DIR."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, UnidentifiedImageError

# MPO is the JPEG variant many phone cameras write.
FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# EXIF orientations that turn the picture a quarter: browsers show it with sides swapped.
QUARTER_TURNS = {5, 6, 7, 8}
ORIENTATION = 0x0112
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
    folder = media_dir()
    if not (folder / name).exists():
        folder.mkdir(parents=True, exist_ok=True)
        # A private temporary file, then an atomic rename: two identical uploads at once
        # each write their own file and either rename wins with the same bytes.
        fd, partial = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(partial, 0o644)
        os.replace(partial, folder / name)
    return StoredImage(name, width, height)


def stored(name: str) -> StoredImage | None:
    """An earlier upload by name, if the name is one of ours and the file is there."""
    if not NAME.match(name):
        return None
    try:
        with Image.open(media_dir() / name) as image:
            return StoredImage(name, *_shown_size(image))
    except (OSError, UnidentifiedImageError):
        return None


def _shown_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as a browser shows the image, after its EXIF orientation."""
    if image.getexif().get(ORIENTATION) in QUARTER_TURNS:
        return image.height, image.width
    return image.width, image.height


def _inspect(data: bytes) -> tuple[int, int, str]:
    """Return width, height and format, or raise ImageRejected."""
    limit = current_app.config["MAX_IMAGE_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                kind, (width, height) = image.format, _shown_size(image)
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

"""Uploaded images: checked and cleaned with Pillow, stored with their renditions (blog.storage).

An upload is decoded, turned as its EXIF orientation says and encoded again, which leaves
every piece of metadata behind (EXIF with GPS and serial numbers, XMP, IPTC, comments) but
the ICC colour profile. The cleaned file is named after its content hash. Renditions 480,
960 and 1600 pixels wide (never wider than the original) in WebP and in the original's format
are made at the same time; their names derive from the original's, so markup needs no lookup.
Animated GIF, WebP and PNG images stay animated, renditions included.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, BinaryIO

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from flask_babel import format_decimal, format_number
from flask_babel import gettext as _
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from blog import storage

# MPO is the JPEG variant many phone cameras write; only its first picture is kept.
FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
ENCODERS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
MIMETYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
WIDTHS = (480, 960, 1600)
# The kept original is the source of any later rendition, so it loses less than they do.
ORIGINAL_OPTIONS: dict[str, dict[str, Any]] = {
    "jpg": {"quality": 90, "optimize": True},
    "png": {},
    "webp": {"quality": 90},
    "gif": {},
}
RENDITION_OPTIONS: dict[str, dict[str, Any]] = {
    "jpg": {"quality": 82, "optimize": True, "progressive": True},
    "png": {},
    "webp": {"quality": 80},
    "gif": {},
}
# EXIF orientations that turn the picture a quarter: browsers show it with sides swapped.
QUARTER_TURNS = {5, 6, 7, 8}
ORIENTATION = 0x0112
# An original; the only names a form may refer to.
NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|gif)\Z")
# An original or a rendition (its width after the hash); the only names /media serves.
FILE_NAME = re.compile(r"^[0-9a-f]{32}(-[1-9][0-9]{0,4})?\.(jpg|png|webp|gif)\Z")


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message says why, for the person."""


@dataclass(frozen=True)
class StoredImage:
    """A stored upload: its file name in the media storage and its pixel size as shown."""

    name: str
    width: int
    height: int


@dataclass(frozen=True)
class Rendition:
    """A smaller copy of a stored image, in WebP or in the original's format."""

    name: str
    width: int
    height: int
    mimetype: str


@dataclass
class _Picture:
    """Decoded, upright frames without metadata, and what it takes to encode them again."""

    extension: str
    frames: list[Image.Image]
    durations: list[int] = field(default_factory=list)
    loop: int | None = None
    icc_profile: bytes | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].size


def init_app(app: Flask) -> None:
    """Add the template helpers of ``macros/images.html`` and ``make-renditions``."""
    app.add_template_global(picture_sources)
    app.add_template_filter(srcset)
    app.cli.add_command(make_renditions_command)


def store(stream: BinaryIO) -> StoredImage:
    """Store the JPEG, PNG, WebP or GIF image in ``stream``, cleaned, with its renditions."""
    limit = current_app.config["IMAGE_MAX_BYTES"]
    data = stream.read(limit + 1)
    if not data:
        raise ImageRejected(_("The file is empty."))
    if len(data) > limit:
        if limit >= 2**20:
            most = _("%(size)s MB", size=format_decimal(limit / 2**20))
        else:
            most = _("%(size)s bytes", size=format_number(limit))
        raise ImageRejected(_("The file is larger than %(most)s; upload a smaller one.", most=most))
    picture = _decode(data)
    original = _encode(picture, picture.extension, ORIGINAL_OPTIONS)
    name = f"{hashlib.sha256(original).hexdigest()[:32]}.{picture.extension}"
    image = StoredImage(name, *picture.size)
    media = storage.current_media()
    if not media.exists(name):
        # The original comes last: once it is there, so are its renditions.
        _make_renditions(picture, image, media)
        media.write(name, original)
    return image


def stored(name: str) -> StoredImage | None:
    """An earlier upload by name, if the name is one of ours and the file is there."""
    if not NAME.match(name):
        return None
    try:
        with storage.current_media().open(name) as file, Image.open(file) as image:
            return StoredImage(name, *_shown_size(image))
    except (OSError, UnidentifiedImageError):
        return None


def renditions(image: StoredImage) -> list[Rendition]:
    """The renditions of ``image``, WebP first, each kind narrowest first."""
    stem, extension = image.name.rsplit(".", 1)
    kinds = ["webp"] if extension == "webp" else ["webp", extension]
    widths = sorted({min(width, image.width) for width in WIDTHS})
    return [
        Rendition(
            f"{stem}-{width}.{kind}",
            width,
            max(1, round(image.height * width / image.width)),
            MIMETYPES[kind],
        )
        for kind in kinds
        for width in widths
    ]


@dataclass(frozen=True)
class PictureSources:
    """What a ``<picture>`` of an image lists: WebP renditions in its ``<source>`` (none when
    the image is itself WebP), the others in its ``<img>``, each narrowest first.
    """

    webp: list[Rendition]
    img: list[Rendition]


def picture_sources(name: str, width: int, height: int) -> PictureSources:
    """The renditions of the stored image ``name`` (``width`` by ``height``) for a picture."""
    made = renditions(StoredImage(name, width, height))
    webp = [item for item in made if item.mimetype == MIMETYPES["webp"]]
    others = [item for item in made if item.mimetype != MIMETYPES["webp"]]
    return PictureSources(webp, others) if others else PictureSources([], webp)


def srcset(items: list[Rendition]) -> str:
    """A ``srcset`` value listing ``items`` by width."""
    return ", ".join(f"{url_for('media.file', name=item.name)} {item.width}w" for item in items)


def make_missing_renditions() -> Iterator[tuple[str, int | str]]:
    """Make the renditions that stored originals lack; yield each name with a count or a problem.

    Originals are never rewritten: their names are their hashes, and pages link to them.
    """
    media = storage.current_media()
    present = media.names()
    for name in present:
        if not NAME.match(name):
            continue
        try:
            with media.open(name) as file:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", Image.DecompressionBombWarning)
                    with Image.open(file) as opened:
                        image = StoredImage(name, *_shown_size(opened))
                missing = [r for r in renditions(image) if r.name not in present]
                if missing:
                    file.seek(0)
                    _make_renditions(_decode(file.read()), image, media, missing)
        except ImageRejected as error:
            yield name, str(error)
        except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            yield name, f"not readable ({error})"
        else:
            yield name, len(missing)


@click.command("make-renditions")
@with_appcontext
def make_renditions_command() -> None:
    """Make the missing renditions of stored images (uploaded before renditions existed)."""
    made = completed = 0
    for name, result in make_missing_renditions():
        if isinstance(result, str):
            click.echo(f"{name}: skipped, {result}", err=True)
        else:
            made, completed = made + result, completed + bool(result)
    click.echo(f"Made {made} renditions of {completed} images.")


def _make_renditions(
    picture: _Picture,
    image: StoredImage,
    media: storage.MediaStorage,
    wanted: list[Rendition] | None = None,
) -> None:
    """Write the renditions of ``picture`` (stored as ``image``), or the ``wanted`` ones."""
    wanted = renditions(image) if wanted is None else wanted
    # A grey or CMYK profile would be wrong for the RGB renditions.
    rgb = picture.frames[0].mode in {"RGB", "RGBA", "P", "PA"}
    for width in sorted({rendition.width for rendition in wanted}):
        alike = [rendition for rendition in wanted if rendition.width == width]
        size = (width, alike[0].height)
        smaller = _Picture(
            picture.extension,
            [
                _without_info(_rgb(frame).resize(size, Image.Resampling.LANCZOS, reducing_gap=3))
                for frame in picture.frames
            ],
            picture.durations,
            picture.loop,
            picture.icc_profile if rgb else None,
        )
        for rendition in alike:
            extension = rendition.name.rsplit(".", 1)[1]
            media.write(rendition.name, _encode(smaller, extension, RENDITION_OPTIONS))


def _decode(data: bytes) -> _Picture:
    """Decode ``data`` into upright frames without metadata, or raise ImageRejected."""
    limit = current_app.config["MAX_IMAGE_PIXELS"]
    too_large = _("The image is too large: at most %(limit)s pixels.", limit=format_number(limit))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise ImageRejected(
                        _(
                            "This is a %(format)s file; upload a JPEG, PNG, WebP or GIF image.",
                            format=image.format,
                        )
                    )
                animated = image.format != "MPO" and getattr(image, "is_animated", False)
                count = image.n_frames if animated else 1
                if image.width * image.height * count > limit:
                    raise ImageRejected(too_large)
                picture = _Picture(
                    FORMATS[image.format], [], loop=image.info.get("loop") if animated else None
                )
                icc = image.info.get("icc_profile")
                picture.icc_profile = icc if isinstance(icc, bytes) and icc else None
                for frame in ImageSequence.Iterator(image) if animated else [image]:
                    picture.durations.append(int(frame.info.get("duration", 100)))
                    # exif_transpose decodes every byte: truncated and corrupt files fail here.
                    upright = ImageOps.exif_transpose(frame)
                    picture.frames.append(
                        _without_info(upright.convert("RGBA") if animated else upright)
                    )
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(too_large) from error
    except UnidentifiedImageError as error:
        if b"<svg" in data[:4096].lower():
            raise ImageRejected(
                _(
                    "SVG drawings are not accepted (they can carry scripts); "
                    "upload a JPEG, PNG, WebP or GIF image."
                )
            ) from error
        raise ImageRejected(_("This file is not a JPEG, PNG, WebP or GIF image.")) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejected(
            _("The image is damaged or incomplete; export or download it again.")
        ) from error
    return picture


def _without_info(image: Image.Image) -> Image.Image:
    """Drop what Pillow read besides pixels (EXIF, XMP, comments); keep palette transparency."""
    transparency = image.info.get("transparency")
    image.info = {} if transparency is None else {"transparency": transparency}
    return image


def _rgb(frame: Image.Image) -> Image.Image:
    """``frame`` in RGB, or RGBA when it has transparency: what resizing and WebP need."""
    if frame.mode in {"RGB", "RGBA"}:
        return frame
    return frame.convert("RGBA" if frame.has_transparency_data else "RGB")


def _encode(picture: _Picture, extension: str, options: dict[str, dict[str, Any]]) -> bytes:
    """``picture`` encoded as ``extension`` with no metadata but its colour profile."""
    first, *rest = picture.frames
    settings = dict(options[extension])
    if picture.icc_profile and extension != "gif":
        settings["icc_profile"] = picture.icc_profile
    if rest:
        settings.update(save_all=True, append_images=rest, duration=picture.durations)
        if picture.loop is not None:
            settings["loop"] = picture.loop
        elif extension == "webp":
            settings["loop"] = 1  # WebP would repeat forever; the source played once
        if extension == "gif":
            settings["disposal"] = 2  # every frame is whole: nothing of the last one shows
    buffer = BytesIO()
    first.save(buffer, ENCODERS[extension], **settings)
    return buffer.getvalue()


def _shown_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as a browser shows the image, after its EXIF orientation."""
    if image.getexif().get(ORIENTATION) in QUARTER_TURNS:
        return image.height, image.width
    return image.width, image.height

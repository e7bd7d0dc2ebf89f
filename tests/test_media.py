"""Serving uploads at /media: only our names, from MEDIA_DIR, with their type, kept for a year."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from blog import images

HASH = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "GIF"])
def test_originals_and_renditions_are_served_with_their_type_for_a_year(app, client, kind):
    buffer = io.BytesIO()
    Image.new("RGB", (700, 350), "purple").save(buffer, kind)
    buffer.seek(0)
    with app.app_context():
        image = images.store(buffer)
    for name in [image.name, *(rendition.name for rendition in images.renditions(image))]:
        with client.get(f"/media/{name}") as response:
            assert response.status_code == 200, name
            extension = name.rsplit(".", 1)[1]
            assert response.mimetype == images.MIMETYPES[extension]
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            with Image.open(io.BytesIO(response.data)) as served:
                assert served.format == images.ENCODERS[extension]


@pytest.mark.parametrize(
    "name",
    [
        f"{HASH}-0480.webp",
        f"{HASH}-.webp",
        f"{HASH}-480-2.webp",
        f"{HASH}-123456.webp",
        f"{HASH}_480.webp",
        f"{HASH}-480.svg",
        f"{HASH}-480.webp.html",
        f"{HASH.upper()}-480.webp",
        f"{HASH[:-1]}-480.webp",
        f"{HASH}--480.webp",
        f"{HASH}-480.WEBP",
        "..%2F" + HASH + "-480.webp",
    ],
)
def test_names_that_are_not_ours_are_404_even_when_the_file_exists(app, client, name):
    folder = Path(app.config["MEDIA_DIR"])
    folder.mkdir(parents=True)
    (folder / name.replace("..%2F", "")).write_bytes(b"GIF89a")
    assert client.get(f"/media/{name}").status_code == 404


def test_missing_rendition_is_404(client):
    assert client.get(f"/media/{HASH}-480.webp").status_code == 404

"""Images: uploads cleaned of metadata and turned upright, renditions, refusals, the markup."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from flask import render_template_string
from PIL import ExifTags, Image, ImageCms

from blog import images
from tests.test_editor import form_data, image_file, stored

SERIAL = "SN-4412-PRIVATE"
OWNER = "Jane Q. Owner"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Jane Q. Owner</dc:creator>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
# What no stored file may hold: the EXIF and XMP markers and the private values.
PRIVATE = (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"adobe:ns:meta", SERIAL.encode(), b"Owner")


def phone_photo(size: tuple[int, int] = (4000, 3000)) -> io.BytesIO:
    """A phone camera's JPEG: red on top, blue below as stored, to be turned a quarter to the right.

    It carries GPS coordinates, the camera's make, model and serial, the owner's name, XMP and a
    comment.
    """
    width, height = size
    picture = Image.new("RGB", size, "blue")
    picture.paste("red", (0, 0, width, height // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Phoneco"
    exif[ExifTags.Base.Model] = "Phoneco 12 Pro"
    exif[ExifTags.Base.Artist] = OWNER
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = SERIAL
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (50.0, 27.0, 1.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (30.0, 31.0, 24.0)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif, xmp=XMP, comment=f"Owner {OWNER}", quality=90)
    buffer.seek(0)
    return buffer


def png_bomb(side: int) -> bytes:
    """A valid PNG of ``side`` by ``side`` white pixels that compresses to almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then 1-bit pixels
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def noisy_jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


def media_files(app) -> list[Path]:
    folder = Path(app.config["MEDIA_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def assert_clean(path: Path) -> None:
    """No metadata in ``path`` by Pillow's reading, nor in its bytes."""
    data = path.read_bytes()
    for private in PRIVATE:
        assert private not in data, (path.name, private)
    with Image.open(path) as opened:
        assert not opened.getexif(), path.name
        assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp"} & set(opened.info), path.name


def test_phone_photo_is_served_upright_without_metadata_in_renditions(app, client, auth):
    auth.login("editor")
    data = form_data(client, hero_alt="A red and blue field")
    data["hero_image"] = (phone_photo(), "IMG_0001.jpg")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    article = stored(app, slug="council-approves-budget")
    assert (article.hero_width, article.hero_height) == (3000, 4000)

    files = media_files(app)
    assert len(files) == 7  # the original and three widths in JPEG and WebP
    for path in files:
        assert_clean(path)
    with Image.open(Path(app.config["MEDIA_DIR"]) / article.hero_image) as original:
        assert original.size == (3000, 4000)
        # The top of the stored picture (red) is now on the right, as the camera meant.
        assert original.getpixel((2900, 2000))[0] > 200 and original.getpixel((100, 2000))[2] > 200

    page = client.get("/articles/council-approves-budget").text
    stem = article.hero_image.removesuffix(".jpg")
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="[^"]+">', page)
    jpeg = re.search(r'<img src="[^"]+" srcset="([^"]+)"', page)
    assert webp and jpeg
    for found, kind in ((webp, "webp"), (jpeg, "jpg")):
        listed = found.group(1).split(", ")
        assert listed == [f"/media/{stem}-{w}.{kind} {w}w" for w in (480, 960, 1600)]
        for entry in listed:
            url, width = entry.split(" ")
            with client.get(url) as served:
                assert served.status_code == 200
                assert served.mimetype == images.MIMETYPES[kind]
                assert "immutable" in served.headers["Cache-Control"]
                with Image.open(io.BytesIO(served.data)) as rendition:
                    assert rendition.width == int(width.removesuffix("w")) <= 3000
                    assert rendition.height == round(4000 * rendition.width / 3000)
    assert 'width="3000" height="4000"' in page and 'fetchpriority="high"' in page
    assert 'loading="lazy"' not in page.split('class="hero"')[1].split("</figure>")[0]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (lambda: noisy_jpeg()[:3000], "truncated.jpg", "The image is damaged or incomplete"),
        (lambda: png_bomb(30_000), "bomb.png", "The image is too large: at most 50,000,000"),
        (lambda: png_bomb(8_000), "just-over.png", "The image is too large: at most 50,000,000"),
        (lambda: SVG, "drawing.svg", "SVG drawings are not accepted"),
        (lambda: PDF, "scan.jpg", "This file is not a JPEG, PNG, WebP or GIF image."),
        (lambda: b"", "empty.jpg", "The file is empty."),
        (lambda: image_file("BMP").getvalue(), "old.jpg", "This is a BMP file"),
    ],
    ids=[
        "truncated-jpeg",
        "png-bomb",
        "png-over-limit",
        "svg-script",
        "pdf-renamed",
        "empty",
        "bmp",
    ],
)
def test_bad_files_are_refused_with_a_message_and_nothing_is_stored(
    app, client, auth, content, name, message
):
    auth.login("editor")
    data = form_data(client, hero_alt="A picture")
    data["hero_image"] = (io.BytesIO(content()), name)
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422
    error = response.text.split('id="hero_image-error"')[1].split("</")[0]
    assert message in error
    assert "Council approves budget" in response.text and "The council voted." in response.text
    assert media_files(app) == []
    assert stored(app, slug="council-approves-budget") is None


def test_files_over_the_byte_limit_are_refused(app):
    app.config["IMAGE_MAX_BYTES"] = 2000
    with app.app_context(), pytest.raises(images.ImageRejected, match="larger than 2,000 bytes"):
        images.store(io.BytesIO(noisy_jpeg()))
    assert media_files(app) == []


def test_animated_gif_stays_animated_in_every_file(app):
    frames = [Image.new("RGB", (600, 400), colour) for colour in ("red", "lime", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=150, loop=0)
    buffer.seek(0)
    with app.app_context():
        image = images.store(buffer)
    assert (image.width, image.height) == (600, 400)
    names = sorted(path.name for path in media_files(app))
    stem = image.name.removesuffix(".gif")
    assert names == sorted(
        [image.name, *(f"{stem}-{w}.{kind}" for w in (480, 600) for kind in ("gif", "webp"))]
    )
    for name in names:
        with Image.open(Path(app.config["MEDIA_DIR"]) / name) as stored_image:
            assert stored_image.n_frames == 3, name
            assert stored_image.info.get("loop") == 0, name
            stored_image.seek(1)
            stored_image.load()  # WebP reads the duration with the frame
            assert stored_image.info["duration"] == 150, name


def test_small_images_get_no_rendition_wider_than_themselves(app):
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 0, 100)).save(buffer, "PNG")
    buffer.seek(0)
    with app.app_context():
        image = images.store(buffer)
    stem = image.name.removesuffix(".png")
    assert images.renditions(image) == [
        images.Rendition(f"{stem}-300.webp", 300, 200, "image/webp"),
        images.Rendition(f"{stem}-300.png", 300, 200, "image/png"),
    ]
    for rendition in images.renditions(image):
        with Image.open(Path(app.config["MEDIA_DIR"]) / rendition.name) as made:
            assert made.size == (300, 200) and made.mode == "RGBA"
    assert [
        r.width for r in images.renditions(images.StoredImage("a" * 32 + ".jpg", 640, 360))
    ] == [
        480,
        640,
        480,
        640,
    ]


def test_webp_original_has_webp_renditions_only(app):
    buffer = io.BytesIO()
    Image.new("RGB", (1000, 500), "teal").save(buffer, "WEBP")
    buffer.seek(0)
    with app.app_context():
        image = images.store(buffer)
    assert [(r.name.split("-")[1], r.height) for r in images.renditions(image)] == [
        ("480.webp", 240),
        ("960.webp", 480),
        ("1000.webp", 500),
    ]
    assert len(media_files(app)) == 4


def test_colour_profile_is_kept(app):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "orange").save(buffer, "JPEG", icc_profile=profile)
    buffer.seek(0)
    with app.app_context():
        images.store(buffer)
    for path in media_files(app):
        with Image.open(path) as made:
            assert made.info.get("icc_profile") == profile, path.name


def test_the_same_picture_twice_is_stored_once(app):
    data = phone_photo((800, 600)).getvalue()
    with app.app_context():
        first = images.store(io.BytesIO(data))
        count = len(media_files(app))
        assert images.store(io.BytesIO(data)) == first
    assert len(media_files(app)) == count == 5  # 480, 600 (its width) in two kinds, the original
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", first.name)
    stored_bytes = (Path(app.config["MEDIA_DIR"]) / first.name).read_bytes()
    assert first.name == hashlib.sha256(stored_bytes).hexdigest()[:32] + ".jpg"


def test_picture_markup_lazy_by_default_and_eager_for_the_hero(app):
    macro = '{% from "macros/images.html" import picture %}{{ picture(n, 1200, 800, alt, "50vw"'
    with app.test_request_context():
        lazy = render_template_string(macro + ") }}", n="b" * 32 + ".png", alt="A <chart>")
        eager = render_template_string(macro + ", eager=True) }}", n="c" * 32 + ".webp", alt="x")
    assert 'loading="lazy" decoding="async"' in lazy and "fetchpriority" not in lazy
    assert 'alt="A &lt;chart&gt;"' in lazy and 'width="1200" height="800"' in lazy
    assert f'src="/media/{"b" * 32}-1200.png"' in lazy and 'type="image/webp"' in lazy
    assert 'sizes="50vw"' in lazy
    assert 'fetchpriority="high"' in eager and "loading=" not in eager
    assert "<source" not in eager  # a WebP original needs no second format
    assert f"/media/{'c' * 32}-960.webp 960w" in eager


def test_make_renditions_completes_older_uploads_and_leaves_originals_alone(app, runner):
    folder = Path(app.config["MEDIA_DIR"])
    folder.mkdir(parents=True)
    legacy = phone_photo((2000, 1500)).getvalue()
    name = hashlib.sha256(legacy).hexdigest()[:32] + ".jpg"
    (folder / name).write_bytes(legacy)
    (folder / ("d" * 32 + ".png")).write_bytes(b"not a picture")

    result = runner.invoke(args=["make-renditions"])
    assert result.exit_code == 0, result.output
    assert "Made 6 renditions of 1 images." in result.output
    assert f"{'d' * 32}.png: skipped" in result.output
    assert (folder / name).read_bytes() == legacy  # its name is its hash: never rewritten
    image = images.StoredImage(name, 1500, 2000)  # as shown, the way the article recorded it
    for rendition in images.renditions(image):
        assert_clean(folder / rendition.name)
        with Image.open(folder / rendition.name) as made:
            assert made.size == (rendition.width, rendition.height)
    again = runner.invoke(args=["make-renditions"])
    assert "Made 0 renditions of 0 images." in again.output


def test_sharing_previews_get_the_widest_rendition_in_the_images_own_format(
    app, client, make_article
):
    with app.app_context():
        hero = images.store(io.BytesIO(noisy_jpeg((2000, 1000))))
    make_article(
        "Bridge reopens",
        slug="bridge",
        hero_image=hero.name,
        hero_width=2000,
        hero_height=1000,
        hero_alt="The bridge at dawn",
    )
    head = client.get("/articles/bridge").text.split("</head>")[0]
    stem = hero.name.removesuffix(".jpg")
    assert f'<meta property="og:image" content="http://localhost/media/{stem}-1600.jpg">' in head
    assert '<meta property="og:image:width" content="1600">' in head
    assert '<meta property="og:image:height" content="800">' in head
    assert '<meta property="og:image:alt" content="The bridge at dawn">' in head
    with client.get(f"/media/{stem}-1600.jpg") as image:
        assert image.status_code == 200

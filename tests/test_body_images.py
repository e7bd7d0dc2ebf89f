"""Images in the body: library images as responsive pictures, no image ever from elsewhere."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import html5lib
import pytest
from flask import Flask
from PIL import Image

from blog import images
from blog.body_images import SIZES
from blog.content import render
from tests.test_checks import BODY, found
from tests.test_rerender import overwrite, row
from tests.test_sanitize import CORPUS, MARKDOWN_PAYLOADS, PAYLOADS

MISSING = "0123456789abcdef0123456789abcdef.jpg"
WEBP = "image/webp"


def upload(app: Flask, size: tuple[int, int], kind: str = "JPEG") -> images.StoredImage:
    """Store an image of ``size`` as the upload form does."""
    picture = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(picture, kind)
    picture.seek(0)
    with app.app_context():
        return images.store(picture)


def renditions(app: Flask, image: images.StoredImage) -> list[images.Rendition]:
    """The renditions made for ``image``, narrowest first."""
    with app.app_context():
        return sorted(images.renditions(image), key=lambda rendition: rendition.width)


def html_of(app: Flask, source: str) -> str:
    """The body HTML stored for ``source``."""
    with app.app_context():
        return render(source).html


def parse(html: str):
    return html5lib.parseFragment(html, namespaceHTMLElements=False)


def srcset(renditions: list[images.Rendition]) -> str:
    return ", ".join(f"/media/{rendition.name} {rendition.width}w" for rendition in renditions)


def candidates(html: str) -> list[tuple[str, str]]:
    """Every image a browser may fetch for ``html``: (URL, width descriptor or "")."""
    found = []
    for element in parse(html).iter():
        if element.tag in {"img", "source"}:
            if element.get("src") is not None:
                found.append((element.get("src"), ""))
            for entry in filter(None, element.get("srcset", "").split(",")):
                url, _, descriptor = entry.strip().partition(" ")
                found.append((url, descriptor))
    return found


def assert_only_library_images(app: Flask, html: str) -> None:
    """Every image URL in ``html`` names a file of the media library."""
    media = Path(app.config["MEDIA_DIR"])
    for url, _ in candidates(html):
        assert re.fullmatch(r"/media/[0-9a-f]{32}(-\d+)?\.(jpg|png|webp|gif)", url), (url, html)
        assert (media / url.removeprefix("/media/")).is_file(), (url, html)


# --- library images -------------------------------------------------------------------------


def test_library_image_becomes_a_picture_with_webp_and_fallback_sizes(app):
    image = upload(app, (2000, 1000))
    made = renditions(app, image)
    assert {rendition.width for rendition in made} == {480, 960, 1600}
    webps = [rendition for rendition in made if rendition.mimetype == WEBP]
    fallbacks = [rendition for rendition in made if rendition.mimetype != WEBP]
    html = html_of(app, f"![The quay at dawn](/media/{image.name})")
    [picture] = parse(html).iter("picture")
    source, img = list(picture)
    assert source.tag == "source"
    assert source.attrib == {"type": WEBP, "srcset": srcset(webps), "sizes": SIZES}
    assert img.attrib == {
        "src": f"/media/{fallbacks[-1].name}",
        "srcset": srcset(fallbacks),
        "sizes": SIZES,
        "width": "2000",
        "height": "1000",
        "alt": "The quay at dawn",
        "loading": "lazy",
        "decoding": "async",
    }
    assert_only_library_images(app, html)


def test_srcset_lists_only_renditions_no_wider_than_the_original(app, client):
    image = upload(app, (1000, 800))
    html = html_of(app, f"![A chart](/media/{image.name})")
    widths = {descriptor for _, descriptor in candidates(html) if descriptor}
    assert widths == {f"{rendition.width}w" for rendition in renditions(app, image)}
    assert "480w" in widths and "1600w" not in widths
    for url, _ in candidates(html):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.mimetype.startswith("image/")


def test_width_and_height_come_from_the_stored_file_not_the_author(app):
    image = upload(app, (1200, 900), "PNG")
    html = html_of(app, f'<p><img src="/media/{image.name}" alt="Map" width="1" height="9999"></p>')
    img = parse(html).find(".//img")
    assert (img.get("width"), img.get("height")) == ("1200", "900")


def test_title_of_a_library_image_is_kept(app):
    image = upload(app, (600, 400))
    img = parse(html_of(app, f'![Map](/media/{image.name} "The old port")')).find(".//img")
    assert (img.get("alt"), img.get("title")) == ("Map", "The old port")


def test_library_image_inside_a_link_stays_a_picture_in_the_link(app):
    image = upload(app, (600, 400))
    html = html_of(app, f"[![Map](/media/{image.name})](/articles/port)")
    link = parse(html).find(".//a")
    assert link.get("href") == "/articles/port"
    assert link.find(".//img").get("alt") == "Map"


def test_library_image_renders_the_same_every_time(app):
    image = upload(app, (2000, 1500))
    source = f"# Port\n\n![Map](/media/{image.name}) and ![Old](https://example.org/o.jpg)"
    assert len({html_of(app, source) for _ in range(3)}) == 1


def test_saved_article_page_shows_the_picture_and_allows_only_own_images(app, client, make_article):
    image = upload(app, (2000, 1000))
    body = f"![The quay](/media/{image.name})\n\n<img src='https://evil.example/t.gif' alt='x'>"
    article = make_article("Harbour", slug="harbour", body=body)
    assert "<picture>" in article.body_html
    with client.get("/articles/harbour") as page:
        assert "<picture>" in page.text and "evil.example/t.gif" in page.text
        assert "img-src 'self'" in page.headers["Content-Security-Policy"]
        assert_only_library_images(app, page.text)


def test_rerendering_adds_pictures_to_articles_saved_before(app, runner, make_article):
    image = upload(app, (1000, 800))
    article = make_article("Harbour", body=f"![The quay](/media/{image.name})")
    old = f'<p><img src="/media/{image.name}" alt="The quay"></p>\n'
    overwrite(app, article.id, body_html=old)
    assert runner.invoke(args=["rerender-articles"]).exit_code == 0
    assert row(app, article.id)["body_html"] == article.body_html
    assert "<picture>" in article.body_html


# --- images that are not in the library -----------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [f"![Old map](/media/{MISSING})", '<img src="/media/kyiv.jpg" alt="Old map">'],
    ids=["unknown-hash", "not-a-library-name"],
)
def test_missing_library_image_becomes_its_alt_text(app, source):
    assert html_of(app, f"Before {source} after.") == "<p>Before Old map after.</p>\n"


def test_missing_library_image_without_alt_text_leaves_nothing(app):
    assert html_of(app, f"Before ![](/media/{MISSING}) after.") == "<p>Before  after.</p>\n"


def test_image_from_another_site_becomes_a_link_to_it(app):
    html = html_of(app, "![Harbour at dawn](https://example.org/h.jpg) ![](//cdn.example/x.png)")
    assert html == (
        '<p><a href="https://example.org/h.jpg" rel="noopener noreferrer">Image: Harbour at dawn'
        '</a> <a href="//cdn.example/x.png" rel="noopener noreferrer">Image</a></p>\n'
    )


def test_inline_html_image_from_another_site_becomes_a_link_without_its_handlers(app):
    html = html_of(app, '<img src="https://evil/x.png" onerror="alert(1)" alt="Chart">')
    assert html == '<a href="https://evil/x.png" rel="noopener noreferrer">Image: Chart</a>'


@pytest.mark.parametrize(
    "src",
    [
        "HTTPS://EVIL.EXAMPLE/x.png",
        "ht&#9;tps://evil.example/x.png",
        "/\\evil.example/x.png",
        "\\\\evil.example/x.png",
        "x.png",
        "/static/logo.png",
        "/media/../static/logo.png",
        "?x",
    ],
)
def test_no_image_outside_the_library_is_ever_loaded(app, src):
    html = html_of(app, f'<p>A <img src="{src}" alt="Chart" srcset="{src} 2x"> B</p>')
    assert "<img" not in html
    assert_only_library_images(app, html)


@pytest.mark.parametrize(
    "source",
    [
        "![Chart](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="data:image/gif;base64,R0" alt="Chart">',
    ],
    ids=["markdown", "inline-html"],
)
def test_data_url_image_is_dropped_for_its_alt_text(app, source):
    assert html_of(app, source).removeprefix("<p>").removesuffix("</p>\n") == "Chart"


def test_foreign_image_inside_a_link_becomes_part_of_the_link_text(app):
    html = html_of(app, "[![Logo](https://example.org/logo.png)](https://example.org/)")
    assert html == (
        '<p><a href="https://example.org/" rel="noopener noreferrer">Image: Logo</a></p>\n'
    )


def test_no_xss_payload_or_corpus_vector_loads_a_foreign_image(app):
    image = upload(app, (1000, 800))
    vectors = [*PAYLOADS.values(), *MARKDOWN_PAYLOADS.values()]
    if CORPUS.exists():
        vectors += [vector["payload"] for vector in json.loads(CORPUS.read_text("utf-8"))]
    ours = f"![Ours](/media/{image.name})"
    for vector in vectors:
        assert_only_library_images(app, html_of(app, f"{ours}\n\n{vector}\n\n{ours}"))


# --- publish checks -------------------------------------------------------------------------


def test_missing_library_image_is_flagged_before_publishing(app):
    image = upload(app, (600, 400))
    body = f"![Old map](/media/{MISSING})\n\n![Map](/media/{image.name})\n\n{BODY}"
    (problem,) = found(app, body=body)
    assert (problem.code, problem.field, problem.blocking) == ("missing-image", "body", False)
    assert problem.message.endswith(f": /media/{MISSING}")


def test_body_image_without_alt_text_blocks_publishing(app):
    image = upload(app, (600, 400))
    (problem,) = found(app, body=f"![](/media/{image.name})\n\n{BODY}")
    assert (problem.code, problem.blocking) == ("missing-alt", True)

"""Images in an article body, placed at save time: library images as responsive pictures.

Readers' browsers fetch images from this site's media library only (no tracking, and the
Content-Security-Policy allows images from the site itself), so an image from elsewhere
becomes a link to it, and one the library does not hold becomes its alt text.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from blog import images
from blog.sanitize import compact_url

MEDIA_PATH = "/media/"
WEBP = "image/webp"
# The width the body takes: its 65ch column on wide screens, the screen less the page's
# padding on phones (static/css/site.css).
SIZES = "(min-width: 42rem) 38rem, calc(100vw - 2rem)"

_NS = "{http://www.w3.org/1999/xhtml}"
_LIBRARY_SRC = re.compile(r"^/media/([^/?#]*)")


def place_images(fragment: Element) -> None:
    """Replace every ``img`` in the sanitized ``fragment`` by what readers should get."""
    _place_in(fragment, in_link=False)


def _place_in(parent: Element, in_link: bool) -> None:
    """Place the images among ``parent``'s descendants (depth is capped by the sanitizer)."""
    # Backwards, so that an image turned into text leaves the earlier indexes as they are.
    for index in reversed(range(len(parent))):
        child = parent[index]
        if child.tag == f"{_NS}img":
            _replace(parent, index, _placed(child, in_link))
        else:
            _place_in(child, in_link or child.tag == f"{_NS}a")


def library_name(src: str) -> str | None:
    """The media library name an image's ``src`` asks for, or None for an image from elsewhere."""
    library = _LIBRARY_SRC.match(compact_url(src))
    return library.group(1) if library else None


def _placed(image: Element, in_link: bool) -> Element | str:
    """A library image's picture, a link to a foreign image, or text in place of the image."""
    src, alt = image.get("src", ""), image.get("alt", "")
    name = library_name(src)
    if name is not None:
        found = images.stored(name)
        return alt if found is None else _picture(found, alt, image.get("title"))
    if not src:  # dropped by the sanitizer: a data: or script URL
        return alt
    text = f"Image: {alt}" if alt else "Image"
    if in_link:  # a link in a link is no HTML
        return text
    link = ElementTree.Element(f"{_NS}a", {"href": src})
    link.text = text
    return link


def _picture(image: images.StoredImage, alt: str, title: str | None = None) -> Element:
    """A ``picture`` of a library image: its WebP and its other renditions, lazy, with its size.

    A WebP original has WebP renditions only, and so a plain ``img``.
    """
    sources = images.picture_sources(image.name, image.width, image.height)
    img = ElementTree.Element(
        f"{_NS}img",
        {
            "src": MEDIA_PATH + sources.img[-1].name,
            "srcset": _srcset(sources.img),
            "sizes": SIZES,
            "width": str(image.width),
            "height": str(image.height),
            "alt": alt,
        },
    )
    if title:
        img.set("title", title)
    img.attrib |= {"loading": "lazy", "decoding": "async"}
    if not sources.webp:
        return img
    element = ElementTree.Element(f"{_NS}picture")
    ElementTree.SubElement(
        element, f"{_NS}source", {"type": WEBP, "srcset": _srcset(sources.webp), "sizes": SIZES}
    )
    element.append(img)
    return element


def _srcset(renditions: list[images.Rendition]) -> str:
    """``/media/a-480.webp 480w, /media/a-960.webp 960w``.

    Not ``images.srcset``: that builds URLs with ``url_for``, and ``rerender-articles`` renders
    without a request to build them from.
    """
    return ", ".join(f"{MEDIA_PATH}{rendition.name} {rendition.width}w" for rendition in renditions)


def _replace(parent: Element, index: int, new: Element | str) -> None:
    """Put ``new`` (an element or text) where ``parent[index]`` is, keeping the text after it."""
    old = parent[index]
    if isinstance(new, Element):
        new.tail = old.tail
        parent[index] = new
        return
    text = new + (old.tail or "")
    del parent[index]
    if index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text

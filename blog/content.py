"""The body pipeline, run once at save time: Markdown, sanitizing, heading ids, images, contents."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree

import html5lib
from html5lib.serializer import HTMLSerializer
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from slugify import slugify

from blog.body_images import place_images
from blog.sanitize import clean, compact_url
from blog.treewalker import TreeWalker

# A fixed prefix keeps generated ids apart from anything the page's own code names.
HEADING_ID_PREFIX = "h-"
TOC_LEVELS = ("h2", "h3")
EXTERNAL_REL = "noopener noreferrer"

_markdown = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
    ["table", "strikethrough", "replacements", "smartquotes"]
)
# escape_lt_in_attrs keeps a "<" that bleach escaped from coming back raw in an attribute.
_serializer = HTMLSerializer(
    quote_attr_values="always", omit_optional_tags=False, escape_lt_in_attrs=True
)
_NS = "{http://www.w3.org/1999/xhtml}"


@dataclass
class Rendered:
    """What an article body becomes: the HTML to print and its table of contents."""

    html: str
    toc: list[dict[str, str | int]] = field(default_factory=list)


def _demote_h1(state: StateCore) -> None:
    """Make Markdown ``#`` headings ``h2``: the page's only ``h1`` is the headline."""
    for token in state.tokens:
        if token.type in {"heading_open", "heading_close"} and token.tag == "h1":
            token.tag = "h2"


_markdown.core.ruler.push("demote_h1", _demote_h1)


def render(source: str, lead: str = "") -> Rendered:
    """Turn Markdown (inline HTML allowed) into safe HTML with a table of contents.

    ``lead`` (the dateline, e.g. ``Kyiv, Ukraine – October 26, 2023 – ``) opens the
    first paragraph.
    """
    fragment = html5lib.parseFragment(clean(_markdown.render(source)), namespaceHTMLElements=True)
    toc = _number_headings(fragment)
    place_images(fragment)
    _mark_external_links(fragment)
    if lead:
        _open_with_lead(fragment, lead)
    return Rendered(html="".join(_serializer.serialize(TreeWalker(fragment))), toc=toc)


def _number_headings(fragment: ElementTree.Element) -> list[dict[str, str | int]]:
    """Give every heading a unique prefixed id; return the ``h2``/``h3`` entries."""
    toc: list[dict[str, str | int]] = []
    used: set[str] = set()
    # The next suffix to try per base id, so that many equal headings stay linear.
    next_suffix: dict[str, int] = {}
    for element in fragment.iter():
        tag = element.tag.removeprefix(_NS)
        if tag not in {"h2", "h3", "h4", "h5", "h6"}:
            continue
        text = " ".join("".join(element.itertext()).split())
        base = HEADING_ID_PREFIX + (slugify(text, max_length=60) or "section")
        anchor, n = base, next_suffix.get(base, 2)
        while anchor in used:
            anchor, n = f"{base}-{n}", n + 1
        next_suffix[base] = n
        used.add(anchor)
        element.set("id", anchor)
        if tag in TOC_LEVELS:
            toc.append({"level": int(tag[1]), "id": anchor, "text": text})
    return toc


def _external(url: str) -> bool:
    """Whether ``url`` leads to another site."""
    return compact_url(url).lower().startswith(("http:", "https:", "//"))


def _mark_external_links(fragment: ElementTree.Element) -> None:
    """Add ``rel="noopener noreferrer"`` to links that leave the site."""
    for link in fragment.iter(f"{_NS}a"):
        if _external(link.get("href", "")):
            link.set("rel", EXTERNAL_REL)


def _open_with_lead(fragment: ElementTree.Element, lead: str) -> None:
    """Put the dateline at the start of the first top-level paragraph, or in a new one."""
    paragraph = fragment.find(f"{_NS}p")
    if paragraph is None:
        paragraph = ElementTree.Element(f"{_NS}p")
        fragment.insert(0, paragraph)
        paragraph.tail, fragment.text = fragment.text, None
    span = ElementTree.Element(f"{_NS}span", {"class": "dateline"})
    span.text = lead
    span.tail, paragraph.text = paragraph.text, None
    paragraph.insert(0, span)

"""The HTML allowlists and ``clean``: bleach first, then nh3 with the same rules."""

from __future__ import annotations

import re

import bleach
import nh3
from bleach import html5lib_shim

from blog.treewalker import LinearParents

# What XML 1.0 (feeds, sitemaps) cannot carry: control characters but tab and line breaks,
# surrogates, U+FFFE and U+FFFF. No typed text needs them.
NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML cannot carry."""
    return NOT_XML.sub("", value)


ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl",
        "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub",
        "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip

# No id, name, class (but code's language), style, on*, data-* or hx-* anywhere.
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "abbr": frozenset({"title"}),
    "code": frozenset({"class"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "ol": frozenset({"start"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
}

URL_ATTRIBUTES = frozenset({"href", "src"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

# Elements whose content goes too, not just the tags.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object"})

# html5lib, which bleach and the pipeline parse with, slows down with the square of the nesting
# depth (a body of 60,000 "<b>" took minutes); no article needs more than a few levels.
MAX_NESTING = 40
VOID_TAGS = frozenset({"br", "hr", "img"})

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# Browsers ignore ASCII whitespace and control characters anywhere in a URL ("java\tscript:").
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")
_CODE_CLASS = re.compile(r"^language-[\w+\-]{1,40}$")
_NUMBER = re.compile(r"^\d{1,5}$")
# A tag in nh3's output, which escapes "<" and ">" everywhere but in its tags.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>")


def compact_url(value: str) -> str:
    """A URL as a browser reads it: no whitespace or control characters, ``\\`` as ``/``."""
    return _IGNORED_IN_URL.sub("", value).replace("\\", "/")


def safe_url(value: str) -> bool:
    """Whether a link or image URL is relative or uses an allowed scheme.

    Attribute values reach us with entities already decoded by the HTML parser.
    """
    match = _SCHEME.match(compact_url(value))
    return match is None or match.group(1).lower() in ALLOWED_SCHEMES


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Decide one attribute: the allowlist, then the value rules."""
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    if name in URL_ATTRIBUTES:
        return safe_url(value)
    if name == "class":
        return bool(_CODE_CLASS.match(value))
    if name in {"width", "height", "start", "colspan", "rowspan"}:
        return bool(_NUMBER.match(value))
    if name == "scope":
        return value in {"row", "col", "rowgroup", "colgroup"}
    return True


def _nh3_attribute(tag: str, name: str, value: str) -> str | None:
    """The same attribute rule, in the form nh3 asks for."""
    return value if _allowed_attribute(tag, name, value) else None


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_SCHEMES,
    strip=True,
    strip_comments=True,
)


class _BleachTreeWalker(LinearParents, html5lib_shim.getTreeWalker("etree")):
    """bleach's copy of html5lib's tree walker, with the linear navigation of ours."""


# bleach has made its final release, so this attribute of its Cleaner stays where it is.
_cleaner.walker = _BleachTreeWalker


def clean(html: str) -> str:
    """Return ``html`` with everything outside the allowlists removed.

    bleach is the sanitizer; it gets no more fixes, so its output also passes nh3 (another
    parser, the same rules) and a bypass has to fool both. nh3 also runs first because
    bleach keeps the text of a stripped ``<script>`` where nh3 drops it.
    """
    return _nh3_clean(_cleaner.clean(_flatten(_nh3_clean(html))))


def _flatten(html: str) -> str:
    """Drop the tags nested deeper than MAX_NESTING, keeping their text.

    ``html`` comes from nh3, so it is well-formed: every element closes, in order.
    """
    depth = 0

    def keep_shallow(tag: re.Match[str]) -> str:
        nonlocal depth
        if tag.group(1):  # a closing tag: its element is at the current depth
            level, depth = depth, depth - 1
        else:
            level = depth + 1
            if tag.group(2).lower() not in VOID_TAGS:
                depth = level
        return tag.group(0) if level <= MAX_NESTING else ""

    return _TAG.sub(keep_shallow, html)


def _nh3_clean(html: str) -> str:
    """nh3 with the allowlists of this module."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_nh3_attribute,
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )

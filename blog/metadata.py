"""What pages tell search engines and sharing previews: descriptions, canonical addresses,
the OpenGraph locale, the publisher's logo and the JSON-LD of articles and of the site.

The helpers are template globals, used by ``templates/macros/metadata.html``; the JSON-LD is
built here as plain data and printed with ``|tojson``, which escapes ``<``, ``>`` and ``&``,
so no headline can close its ``<script type="application/ld+json">`` block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request, url_for
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from werkzeug.security import safe_join

from blog.i18n import site_language
from blog.images import Rendition, picture_sources
from blog.models import Article
from blog.search import plain_text

# The OpenGraph locale of each site language.
LOCALES = {"en": "en_US", "uk": "uk_UA"}
# About what search engines show of a description.
DESCRIPTION_LENGTH = 160
# Google's limit for an article's headline in its structured data.
HEADLINE_LENGTH = 110
# Google wants an article's images to have at least this many pixels.
IMAGE_PIXELS = 50_000
# HTML read at first for a description from the body; dateline, heading and one paragraph
# are usually well inside it.
OPENING_HTML = 2048
# What search engines accept as a logo (no SVG).
LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# Left off the end of a cut text before its ellipsis.
TRAILING = " ,;:–—-"


@dataclass(frozen=True)
class Logo:
    """The publisher's logo: its file under ``static/`` and its size in pixels."""

    filename: str
    width: int
    height: int


def init_app(app: Flask) -> None:
    """Measure the logo once and give templates the metadata helpers."""
    app.extensions["site_logo"] = _measured_logo(app)
    for helper in (
        canonical_url,
        article_description,
        site_description,
        og_locale,
        sharing_image,
        news_article,
        website,
    ):
        app.add_template_global(helper)


def _measured_logo(app: Flask) -> Logo:
    """``SITE_LOGO`` with its size, read with Pillow: structured data must state it."""
    filename = app.config["SITE_LOGO"]
    path = safe_join(str(app.static_folder), filename)
    try:
        if path is None:
            raise FileNotFoundError(filename)
        with Image.open(path, formats=LOGO_FORMATS) as image:
            return Logo(filename, *image.size)
    except (OSError, UnidentifiedImageError) as error:
        raise ValueError(
            f"SITE_LOGO is {filename!r}; it must name a PNG, JPEG, WebP or GIF file in static/"
        ) from error


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut between words with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    if text[limit - 1] != " " and " " in kept:
        kept = kept.rsplit(" ", 1)[0]
    return kept.rstrip(TRAILING) + "…"


def opening_text(html: str, length: int) -> str:
    """The words at the start of stored HTML: at least ``length`` characters if it has them.

    Only as much HTML is read as that takes, whatever the body's size. The serializer that
    stores bodies escapes every ``<`` outside tags, attribute values included, so the HTML
    before any ``<`` is whole tags and whole entities.
    """
    window = OPENING_HTML
    while window < len(html):
        cut = html.rfind("<", 0, window)
        text = plain_text(html[:cut] if cut > 0 else html[:window])
        if len(text) > length:
            return text
        window *= 4
    return plain_text(html)


def site_description() -> str:
    """``SITE_DESCRIPTION``, or a line naming the site when it is not set."""
    configured = current_app.config["SITE_DESCRIPTION"]
    return configured or _("The latest posts from %(site)s.", site=current_app.config["SITE_NAME"])


def article_description(article: Article) -> str:
    """The article's summary, else the start of its text; the site's when it has neither."""
    summary = " ".join(article.summary.split())
    text = summary or shorten(
        opening_text(article.body_html, DESCRIPTION_LENGTH), DESCRIPTION_LENGTH
    )
    return text or site_description()


def canonical_url(page: int = 1, **args: Any) -> str:
    """This page's absolute address with only the query arguments that make it what it is:
    ``args`` (None leaves one out), and ``page`` past the first page.
    """
    if page > 1:
        args["page"] = page
    return url_for(str(request.endpoint), **(request.view_args or {}), **args, _external=True)


def og_locale() -> str:
    """The site language as OpenGraph names locales."""
    return LOCALES[site_language()]


def _hero_renditions(article: Article) -> list[Rendition]:
    """The hero's renditions in its own format, narrowest first; none without a hero."""
    if not (article.hero_image and article.hero_width and article.hero_height):
        return []
    return picture_sources(article.hero_image, article.hero_width, article.hero_height).img


def sharing_image(article: Article) -> Rendition | None:
    """The hero rendition previews show: the widest in the image's own format (not every
    site that shows previews reads WebP); None without a hero.
    """
    renditions = _hero_renditions(article)
    return renditions[-1] if renditions else None


def _image_urls(article: Article) -> list[str]:
    """Absolute URLs of the hero's renditions large enough for Google, widest first."""
    widest_first = _hero_renditions(article)[::-1]
    kept = [
        item
        for place, item in enumerate(widest_first)
        if place == 0 or item.width * item.height >= IMAGE_PIXELS
    ]
    return [url_for("media.file", name=item.name, _external=True) for item in kept]


def _publisher() -> dict[str, Any]:
    """The site as the publishing ``Organization``, with its measured logo."""
    logo: Logo = current_app.extensions["site_logo"]
    return {
        "@type": "Organization",
        "name": current_app.config["SITE_NAME"],
        "url": url_for("articles.index", _external=True),
        "logo": {
            "@type": "ImageObject",
            "url": url_for("static", filename=logo.filename, _external=True),
            "width": logo.width,
            "height": logo.height,
        },
    }


def news_article(article: Article, description: str) -> dict[str, Any]:
    """The ``NewsArticle`` structured data of a public article (``article_description``)."""
    url = url_for("articles.detail", slug=article.slug, _external=True)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": shorten(article.title, HEADLINE_LENGTH),
        "description": description,
        "datePublished": article.published_at.isoformat() if article.published_at else None,
        "dateModified": article.modified_at.isoformat() if article.modified_at else None,
        "author": {
            "@type": "Person",
            "name": article.author.display_name,
            "url": url_for("articles.author", username=article.author.username, _external=True),
        },
        "publisher": _publisher(),
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "inLanguage": site_language(),
    }
    if images := _image_urls(article):
        data["image"] = images
    if article.section:
        data["articleSection"] = article.section.name
    if article.tags:
        data["keywords"] = [tag.name for tag in article.tags]
    return data


def website() -> dict[str, Any]:
    """The ``WebSite`` structured data of the front page."""
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": current_app.config["SITE_NAME"],
        "url": url_for("articles.index", _external=True),
        "description": site_description(),
        "inLanguage": site_language(),
        "publisher": _publisher(),
    }

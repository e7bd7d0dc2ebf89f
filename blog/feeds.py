"""Atom and RSS feeds of the newest articles: the site's, and each section's, tag's and author's."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import urlsplit

import lxml.html
import sqlalchemy as sa
from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, get_template_attribute, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from blog.extensions import db
from blog.i18n import site_language
from blog.models import Article, Section, Tag, User

bp = Blueprint("feeds", __name__)

FEED_SIZE = 20
# The feed's file ending: Atom at ``feed.xml`` (the public contract), RSS 2.0 at ``feed.rss``.
ENDINGS = "<any(xml, rss):ending>"
MEDIA_TYPES = {"xml": "application/atom+xml", "rss": "application/rss+xml"}
# The ``updated`` of a feed with no entries: a fixed time, so that its bytes never change.
NOTHING_YET = datetime(1970, 1, 1, tzinfo=UTC)


@bp.get(f"/feed.{ENDINGS}")
def site(ending: str) -> Response:
    """The newest articles of the whole site."""
    name = current_app.config["SITE_NAME"]
    page = url_for("articles.index", _external=True)
    description = _("The latest posts from %(site)s", site=name)
    return _feed(ending, Article.public(), "", description, page)


@bp.get(f"/sections/<slug>/feed.{ENDINGS}")
def section(slug: str, ending: str) -> Response:
    """The newest articles of one section."""
    found = db.first_or_404(sa.select(Section).where(Section.slug == slug))
    query = Article.public().where(Article.section_id == found.id)
    page = url_for("articles.section", slug=found.slug, _external=True)
    description = _("The latest posts in %(section)s", section=found.name)
    return _feed(ending, query, found.name, description, page)


@bp.get(f"/tags/<slug>/feed.{ENDINGS}")
def tag(slug: str, ending: str) -> Response:
    """The newest articles with one tag."""
    found = db.first_or_404(sa.select(Tag).where(Tag.slug == slug))
    query = Article.public().where(Article.tags.any(Tag.id == found.id))
    page = url_for("articles.tag", slug=found.slug, _external=True)
    name = _("Tagged “%(tag)s”", tag=found.name)
    description = _("The latest posts tagged “%(tag)s”", tag=found.name)
    return _feed(ending, query, name, description, page)


@bp.get(f"/authors/<username>/feed.{ENDINGS}")
def author(username: str, ending: str) -> Response:
    """The newest articles of one author."""
    found = db.first_or_404(sa.select(User).where(User.username == username))
    query = Article.public().where(Article.author_id == found.id)
    page = url_for("articles.author", username=found.username, _external=True)
    name = found.display_name
    return _feed(ending, query, name, _("The latest posts by %(author)s", author=name), page)


def _feed(
    ending: str, query: sa.Select[tuple[Article]], name: str, description: str, page: str
) -> Response:
    """The first FEED_SIZE articles of ``query`` as Atom (``xml``) or RSS 2.0 (``rss``).

    Nothing in it depends on the time of the request, so the same data gives the same bytes
    (and the same ETag): the feed is as new as its newest entry.
    """
    query = query.options(selectinload(Article.tags)).limit(FEED_SIZE)
    articles = list(db.session.scalars(query))
    site_name = current_app.config["SITE_NAME"]
    own = url_for(str(request.endpoint), **(request.view_args or {}), _external=True)
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False)  # RSS names authors without an email in dc:creator
    feed.id(own)
    feed.title(f"{site_name} · {name}" if name else site_name)
    feed.subtitle(description)
    feed.language(site_language())
    feed.link(href=own, rel="self", type=MEDIA_TYPES[ending])
    feed.link(href=page, rel="alternate", type="text/html")  # the last link is RSS's <link>
    feed.updated(max((article.modified_at for article in articles), default=NOTHING_YET))
    for article in articles:
        _add_entry(feed, article)
    body = feed.atom_str(pretty=True) if ending == "xml" else feed.rss_str(pretty=True)
    return Response(body, content_type=f"{MEDIA_TYPES[ending]}; charset=utf-8")


def _add_entry(feed: FeedGenerator, article: Article) -> None:
    """Append ``article`` to ``feed``: whole, with its dates, author and categories."""
    url = url_for("articles.detail", slug=article.slug, _external=True)
    entry = feed.add_entry(order="append")
    entry.id(_permanent_id(article))
    entry.title(article.title)
    entry.link(href=url, rel="alternate")
    entry.author(
        name=article.author.display_name,
        uri=url_for("articles.author", username=article.author.username, _external=True),
    )
    entry.dc.dc_creator(article.author.display_name)
    if article.summary:
        entry.summary(article.summary)
    hero = get_template_attribute("macros/articles.html", "hero")(article)
    entry.content(_absolute_links(str(hero) + article.body_html, url), type="html")
    entry.published(article.published_at)
    entry.updated(article.modified_at)
    labels = [article.section] if article.section else []
    for label in [*labels, *article.tags]:
        entry.category(term=label.name)


def _permanent_id(article: Article) -> str:
    """A tag URI (RFC 4151) for the article: its slug may change, its row never does."""
    host = urlsplit(request.host_url).hostname
    return f"tag:{host},{article.created_at:%Y-%m-%d}:articles/{article.id}"


def _absolute_links(html: str, base: str) -> str:
    """``html`` with relative link and image URLs resolved against ``base``, each picture as
    its one image.

    A feed reader shows the content away from the site, where ``/media/…`` leads nowhere.
    The stored HTML was sanitized at save time; lxml writes it back as it was but for the URLs.
    """
    parts: list[str] = []
    for part in lxml.html.fragments_fromstring(html):
        if isinstance(part, str):  # text before the first element
            parts.append(escape(part, quote=False))
            continue
        _single_images(part)
        # A URL urljoin cannot read (``http://[x``) stays as it was rather than failing the feed.
        part.make_links_absolute(base, resolve_base_href=False, handle_failures="ignore")
        parts.append(lxml.html.tostring(part, encoding="unicode"))
    return "".join(parts)


def _single_images(element: lxml.html.HtmlElement) -> None:
    """Each ``<picture>`` under ``element`` (itself included) as its ``<img>`` alone.

    Feed readers show pictures away from the page's layout, and lxml neither resolves
    ``srcset`` nor knows ``<source>`` as an empty element; the image's own ``src`` is enough.
    """
    for picture in list(element.iter("picture")):
        image = picture.find(".//img")
        if image is None:
            picture.drop_tree()
            continue
        for name in ("srcset", "sizes"):
            image.attrib.pop(name, None)
        image.tail = picture.tail
        if picture is element:  # a picture at the top of the fragment
            picture.clear()
            picture.tag, picture.text = "img", None
            picture.attrib.update(image.attrib)
            continue
        picture.getparent().replace(picture, image)

"""For crawlers: sitemaps of every public page and of the last two days' news, and robots.txt."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request, url_for
from lxml import etree
from sqlalchemy.orm import InstrumentedAttribute

from blog.dates import utcnow
from blog.extensions import db
from blog.i18n import site_language
from blog.models import Article, Section, Tag, User
from blog.sanitize import xml_text
from blog.site import MAX_ID

bp = Blueprint("sitemaps", __name__)

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
XML = "application/xml; charset=utf-8"
# Google News reads the articles of the last two days, at most a thousand in one sitemap.
NEWS_WINDOW = timedelta(days=2)
NEWS_SIZE = 1000
# The part of a sitemap split by SITEMAP_SIZE; bounded so that its offset fits any database.
PART = f"<int(min=1, max={MAX_ID}):part>"
# The order of the article parts: ix_articles_status_published_at's, so a part is a walk of
# index entries; new articles land in the last part, so earlier parts (and what crawlers and
# caches keep of them) rarely change.
ORDER = (Article.published_at, Article.id)
# Newsroom areas crawlers have no business in (blueprint names), besides the search results.
CLOSED = ("editor", "people", "auth")
SLUG = "slug"  # a slug that stands for any in the one article URL built by ``url_for``

Entry = tuple[str, datetime | None]  # an absolute URL and when its page last changed


@bp.get("/sitemap.xml")
def index() -> Response:
    """Every public page; when they are more than SITEMAP_SIZE, the index of the parts."""
    size = current_app.config["SITEMAP_SIZE"]
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Article).where(_public()))
    listings = _listings()
    if count + len(listings) <= size:
        return _document("urlset", "url", [*listings, *_articles(0, size)])
    parts = [
        (url_for("sitemaps.articles", part=number, _external=True), lastmod)
        for number, lastmod in enumerate(_article_parts(size), start=1)
    ]
    for number, start in enumerate(range(0, len(listings), size), start=1):
        newest = _newest(lastmod for _url, lastmod in listings[start : start + size])
        parts.append((url_for("sitemaps.listings", part=number, _external=True), newest))
    return _document("sitemapindex", "sitemap", parts)


@bp.get(f"/sitemaps/articles-{PART}.xml")
def articles(part: int) -> Response:
    """One part of the public articles, SITEMAP_SIZE of them, oldest first."""
    size = current_app.config["SITEMAP_SIZE"]
    entries = _articles((part - 1) * size, size)
    if not entries:
        abort(404)
    return _document("urlset", "url", entries)


@bp.get(f"/sitemaps/listings-{PART}.xml")
def listings(part: int) -> Response:
    """One part of the listing pages (the front page, sections, tags, authors)."""
    size = current_app.config["SITEMAP_SIZE"]
    entries = _listings()[(part - 1) * size : part * size]
    if not entries:
        abort(404)
    return _document("urlset", "url", entries)


@bp.get("/sitemaps/news.xml")
def news() -> Response:
    """The articles published in the last two days, newest first, as Google News reads them."""
    query = (
        sa.select(Article.slug, Article.title, Article.published_at)
        .where(_public(), Article.published_at > utcnow() - NEWS_WINDOW)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(NEWS_SIZE)
    )
    root = etree.Element(f"{{{SITEMAP}}}urlset", nsmap={None: SITEMAP, "news": NEWS})
    name, language = xml_text(current_app.config["SITE_NAME"]), site_language()
    article_url = _article_url()
    for row in db.session.execute(query):
        url = _add(root, "url", article_url(row.slug), None)
        story = etree.SubElement(url, f"{{{NEWS}}}news")
        publication = etree.SubElement(story, f"{{{NEWS}}}publication")
        etree.SubElement(publication, f"{{{NEWS}}}name").text = name
        etree.SubElement(publication, f"{{{NEWS}}}language").text = language
        etree.SubElement(story, f"{{{NEWS}}}publication_date").text = _w3c(row.published_at)
        etree.SubElement(story, f"{{{NEWS}}}title").text = xml_text(row.title)
    return _xml(root)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers may read readers' pages, not the newsroom or search results; the sitemaps."""
    closed = [f"{request.script_root}{current_app.blueprints[name].url_prefix}/" for name in CLOSED]
    lines = [
        "User-agent: *",
        f"Allow: {request.script_root}/",
        *(f"Disallow: {path}" for path in [*closed, url_for("search.index")]),
        "",
        f"Sitemap: {url_for('sitemaps.index', _external=True)}",
        f"Sitemap: {url_for('sitemaps.news', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def _public() -> sa.ColumnElement[bool]:
    """What makes an article public, as ``Article.public`` has it."""
    return Article.public().whereclause  # type: ignore[return-value]


def _modified(row: Any) -> datetime | None:
    """``Article.modified_at`` of a row that carries just the two dates it is made of."""
    return Article.modified_at.fget(row)  # type: ignore[attr-defined]


def _newest(moments: Iterable[datetime | None]) -> datetime | None:
    """The latest of ``moments``; None when none is known."""
    return max(filter(None, moments), default=None)


def _articles(offset: int, limit: int) -> list[Entry]:
    """Public articles in ORDER from ``offset``, read as three columns each, not as objects."""
    query = (
        sa.select(Article.slug, Article.published_at, Article.revised_at)
        .where(_public())
        .order_by(*ORDER)
        .offset(offset)
        .limit(limit)
    )
    article_url = _article_url()
    return [(article_url(row.slug), _modified(row)) for row in db.session.execute(query)]


def _article_url() -> Callable[[str], str]:
    """The absolute URL of the article with a given slug, from one ``url_for`` for them all.

    Slugs are slugify's output (lowercase letters, digits, hyphens), which a URL carries as
    they are; building each of 50,000 URLs through the URL map took half of a part's time.
    """
    head, tail = url_for("articles.detail", slug=SLUG, _external=True).rsplit(SLUG, 1)
    return lambda slug: f"{head}{slug}{tail}"


def _article_parts(size: int) -> list[datetime | None]:
    """When each part of the articles (``size`` of them in ORDER) last changed."""
    # Integers divide as integers everywhere; SQLAlchemy's ``//`` would call FLOOR, which
    # SQLite may be built without.
    part = (sa.func.row_number().over(order_by=ORDER) - 1).self_group().op("/")(size)
    numbered = (
        sa.select(part.label("part"), Article.published_at, Article.revised_at)
        .where(_public())
        .subquery()
    )
    query = (
        sa.select(
            sa.func.max(numbered.c.published_at).label("published_at"),
            sa.func.max(numbered.c.revised_at).label("revised_at"),
        )
        .group_by(numbered.c.part)
        .order_by(numbered.c.part)
    )
    return [_modified(row) for row in db.session.execute(query)]


def _listings() -> list[Entry]:
    """The front page, then each section's, tag's and author's listing with public articles.

    A listing's ``lastmod`` is its newest article's publication: what changes it for a crawler,
    and read from the listing indexes alone, whereas revision dates live in the table's rows.
    """
    authors = _newest_publications(User.username, Article.author)
    front = (url_for("articles.index", _external=True), _newest(authors.values()))
    return [
        front,
        *(
            (url_for("articles.section", slug=slug, _external=True), lastmod)
            for slug, lastmod in _newest_publications(Section.slug, Article.section).items()
        ),
        *(
            (url_for("articles.tag", slug=slug, _external=True), lastmod)
            for slug, lastmod in _newest_publications(Tag.slug, Article.tags).items()
        ),
        *(
            (url_for("articles.author", username=username, _external=True), lastmod)
            for username, lastmod in authors.items()
        ),
    ]


def _newest_publications(
    key: InstrumentedAttribute[str], relation: InstrumentedAttribute[Any]
) -> dict[str, datetime]:
    """Each ``key`` (a section's slug, ...) that public articles reach through ``relation``,
    with its newest article's publication: one grouped query, however many articles.
    """
    query = (
        sa.select(key, sa.func.max(Article.published_at))
        .join_from(Article, relation)
        .where(_public())
        .group_by(key)
        .order_by(key)
    )
    return dict(db.session.execute(query).all())


def _document(root: str, item: str, entries: Iterable[Entry]) -> Response:
    """A ``<urlset>`` of ``<url>`` or a ``<sitemapindex>`` of ``<sitemap>`` items."""
    document = etree.Element(f"{{{SITEMAP}}}{root}", nsmap={None: SITEMAP})
    for loc, lastmod in entries:
        _add(document, item, loc, lastmod)
    return _xml(document)


def _add(parent: etree._Element, item: str, loc: str, lastmod: datetime | None) -> etree._Element:
    """Append an ``item`` element with its ``loc`` and, when known, its ``lastmod``."""
    element = etree.SubElement(parent, f"{{{SITEMAP}}}{item}")
    etree.SubElement(element, f"{{{SITEMAP}}}loc").text = loc
    if lastmod is not None:
        etree.SubElement(element, f"{{{SITEMAP}}}lastmod").text = _w3c(lastmod)
    return element


def _w3c(moment: datetime) -> str:
    """A W3C datetime to the second: ``2025-02-24T09:30:00+00:00``."""
    return moment.isoformat(timespec="seconds")


def _xml(root: etree._Element) -> Response:
    """``root`` as a UTF-8 XML document."""
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, content_type=XML)

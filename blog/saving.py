"""Saving a validated ArticleForm: shared by the editor and the importer."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime

from slugify import slugify

from blog.dates import utcnow
from blog.extensions import db
from blog.forms import ArticleForm
from blog.models import Article, Section, Tag, User


def save_article(form: ArticleForm, author: User, article: Article | None = None) -> Article:
    """Copy the form into ``article`` (a new one when None) and render it; the caller commits."""
    # Nothing is flushed half-filled; the flush at the end lets the next save see this one.
    with db.session.no_autoflush:
        if article is None:
            article = Article(author=author)
            db.session.add(article)
        was_public = article.is_public
        article.title = form.title.data
        article.slug = form.slug.data or unique_slug(form.title.data, article)
        article.summary = form.summary.data or ""
        article.dateline = form.dateline.data or ""
        article.body = (form.body.data or "").replace("\r\n", "\n")
        article.section = (
            Section.named(form.section.data) if slugify(form.section.data or "") else None
        )
        article.tags = [Tag.named(name) for name in form.tag_names()]
        if form.can_publish:
            article.featured = form.featured.data
        article.status = form.status.data
        article.published_at = _publication_time(form, article)
        if form.remove_hero.data and form.hero is None:
            article.hero_image = article.hero_width = article.hero_height = None
        if form.hero is not None:
            article.hero_image = form.hero.name
            article.hero_width, article.hero_height = form.hero.width, form.hero.height
        article.hero_alt = form.hero_alt.data or ""
        article.hero_caption = form.hero_caption.data or ""
        article.hero_credit = form.hero_credit.data or ""
        article.updated_at = utcnow()
        if was_public and article.is_public:
            article.revised_at = article.updated_at
        article.render()
    db.session.flush()
    return article


def unique_slug(title: str, article: Article | None = None, taken: Container[str] = ()) -> str:
    """A free slug made from ``title``: ``title``, ``title-2`` … (never one in ``taken``)."""
    base = slugify(title, max_length=180) or "article"
    slug, n = base, 2
    while slug in taken or Article.slug_owner(slug, article):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _publication_time(form: ArticleForm, article: Article) -> datetime | None:
    """The typed time; now, when publishing without one."""
    typed = form.publication_time()
    if typed is not None:
        return typed
    if form.status.data == "published":
        return article.published_at or utcnow()
    return None

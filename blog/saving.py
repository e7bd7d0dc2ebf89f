"""Saving a validated ArticleForm: shared by the editor and the importer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from slugify import slugify

from blog.dates import utcnow
from blog.extensions import db
from blog.forms import ArticleForm, slug_taken
from blog.models import Article, Section, Tag, User


def save_article(form: ArticleForm, author: User, article: Article | None = None) -> Article:
    """Copy the form into ``article`` (a new one when None) and render it; the caller commits."""
    # Nothing is flushed half-filled; the flush at the end lets the next save see this one.
    with db.session.no_autoflush:
        if article is None:
            article = Article(author=author)
            db.session.add(article)
        article.title = form.title.data
        article.slug = form.slug.data or unique_slug(form.title.data, article)
        article.summary = form.summary.data or ""
        article.dateline = form.dateline.data or ""
        article.body = (form.body.data or "").replace("\r\n", "\n")
        article.section = _section(form.section.data)
        article.tags = [_tag(name) for name in form.tag_names()]
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
        article.render()
    db.session.flush()
    return article


def unique_slug(title: str, article: Article | None = None) -> str:
    """A free slug made from ``title``: ``title``, ``title-2``, ``title-3`` …"""
    base = slugify(title, max_length=180) or "article"
    slug, n = base, 2
    while slug_taken(slug, article):
        slug, n = f"{base}-{n}", n + 1
    return slug


def typed_time(form: ArticleForm) -> datetime | None:
    """The publication time typed in the form, read in the newsroom's zone."""
    typed = form.published_at.data
    return typed.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])) if typed else None


def _publication_time(form: ArticleForm, article: Article) -> datetime | None:
    """The typed time; now, when publishing without one."""
    typed = typed_time(form)
    if typed is not None:
        return typed
    if form.status.data == "published":
        return article.published_at or utcnow()
    return None


def _section(name: str | None) -> Section | None:
    if not name or not slugify(name):
        return None
    slug = slugify(name)
    section = db.session.scalar(sa.select(Section).where(Section.slug == slug))
    return section or Section(name=name, slug=slug)


def _tag(name: str) -> Tag:
    slug = slugify(name)
    return db.session.scalar(sa.select(Tag).where(Tag.slug == slug)) or Tag(name=name, slug=slug)

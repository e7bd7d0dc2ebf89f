"""Saving a validated ArticleForm: shared by the editor and the importer."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from slugify import slugify

from blog import audit
from blog.dates import clock, long_date, utcnow
from blog.extensions import db
from blog.forms import ArticleForm
from blog.models import Article, MediaItem, Revision, Section, SlugRedirect, Tag, User


def save_article(
    form: ArticleForm,
    author: User,
    article: Article | None = None,
    by: User | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Article:
    """Copy the form into ``article`` (a new one when None), render it and keep a revision.

    ``author`` writes a new article; ``by`` is who saves, None for the command line (the
    revision then names the author); ``note`` says why the revision is special (a restore),
    else it keeps the override reason; ``at`` is when the article was last changed, if not
    now (an imported one, at its publication). The caller commits.
    """
    # Nothing is flushed half-filled; the flush at the end lets the next save see this one.
    with db.session.no_autoflush:
        created = article is None
        if article is None:
            article = Article(author=author)
            db.session.add(article)
        was_public, old_state, old_slug = article.is_public, article.state, article.slug
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
        if form.hero is not None:  # a new upload joins the media library
            description = {"alt": article.hero_alt, "caption": article.hero_caption}
            MediaItem.keep(form.hero, by or author, credit=article.hero_credit, **description)
        article.updated_at = at or utcnow()
        if created:
            article.created_at = article.updated_at
        if was_public and article.is_public:
            article.revised_at = article.updated_at
        article.render()
        if (
            not created
            and old_slug != article.slug
            and (was_public or _was_public(article, old_slug))
        ):
            _redirect(old_slug, article)
    reason = form.override_reason.data or ""
    keep_revision(article, by or author, note=note or reason)
    _record_change(article, "create" if created else old_state, reason, by)
    return article


def keep_revision(article: Article, by: User | None, note: str = "") -> Revision:
    """Flush ``article`` (its version counts the save) and keep all its fields as a revision."""
    db.session.flush()
    revision = Revision(
        article=article, version=article.version, editor=by, fields=article.snapshot(), note=note
    )
    db.session.add(revision)
    return revision


def unpublish_article(article: Article, by: User) -> None:
    """Make a published or scheduled ``article`` a draft, with a revision and an audit entry.

    The caller commits.
    """
    old_state = article.state
    article.status = "draft"
    article.updated_at = utcnow()
    keep_revision(article, by, note=_("Unpublished"))
    _record_change(article, old_state, "", by)


def _was_public(article: Article, slug: str) -> bool:
    """Whether readers could once see ``article`` at ``slug`` (before an unpublish, say).

    Each revision held from its save until the next one (the newest until now); it was
    public if it was published at ``slug`` with a time reached while it held.
    """
    until = utcnow()
    for revision in article.revisions:  # newest first
        fields = revision.fields
        published = fields["status"] == "published" and fields["published_at"]
        if fields["slug"] == slug and published and datetime.fromisoformat(published) < until:
            return True
        until = revision.created_at
    return False


def _redirect(old_slug: str, article: Article) -> None:
    """Keep the public ``old_slug`` leading to ``article``; its new slug stops redirecting."""
    db.session.execute(sa.delete(SlugRedirect).where(SlugRedirect.old_slug == article.slug))
    existing = db.session.scalar(sa.select(SlugRedirect).where(SlugRedirect.old_slug == old_slug))
    if existing is None:
        article.redirects.append(SlugRedirect(old_slug=old_slug))
    else:  # the address led to an earlier owner; readers now expect this article there
        existing.article = article


def _record_change(article: Article, old_state: str, reason: str, by: User | None) -> None:
    """Audit a creation and every change of state: submitted, published, scheduled, unpublished."""
    new_state = article.state
    if old_state == "create":
        audit.record("create", article=article, actor=by)
    detail = _("Published despite the checks: %(reason)s", reason=reason) if reason else ""
    if new_state == old_state:
        if reason:  # a published article changed despite the checks
            audit.record("publish", article=article, actor=by, detail=detail)
        return
    if new_state == "published":
        audit.record("publish", article=article, actor=by, detail=detail)
    elif new_state == "scheduled" and article.published_at:
        moment = article.published_at
        when = _("For %(date)s, %(time)s.", date=long_date(moment), time=clock(moment, zone=True))
        audit.record("schedule", article=article, actor=by, detail=f"{when} {detail}".strip())
    elif old_state in {"published", "scheduled"}:
        audit.record("unpublish", article=article, actor=by)
    elif new_state == "review":
        audit.record("submit", article=article, actor=by)


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

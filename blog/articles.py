"""Reader pages: the front page, the article page, and the listings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination, SelectPagination

from blog.extensions import db
from blog.models import QUERY_PERMALINKS, Article, Section, Tag, User
from blog.site import legacy_redirect, small_int

bp = Blueprint("articles", __name__)


class _IdsFirstPagination(SelectPagination):
    """A page found by its articles' ids first, then only its own rows read in full.

    Every listing has an index in its order (see ``Article.__table_args__``), so the ids of
    even the last page come from a walk of index entries; the table is read for ten rows,
    not for every row skipped on the way.
    """

    def _query_items(self) -> list[Article]:
        select = self._query_args["select"]
        ids = select.with_only_columns(Article.id).limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].scalars(Article.teasers(ids.scalar_subquery())))


def _page(query: sa.Select[tuple[Article]]) -> Pagination:
    """The page of ``query`` that ``?page=`` asks for, as teasers; 404 past the last one."""
    number = request.args.get("page", 1, type=small_int)
    return _IdsFirstPagination(
        select=query,
        session=db.session(),
        page=number,
        per_page=current_app.config["ARTICLES_PER_PAGE"],
        error_out=True,
        count=True,
    )


def _listing(
    template: str,
    query: sa.Select[tuple[Article]],
    heading: str,
    intro: str = "",
    feed: str | None = None,
    **context: Any,
) -> str:
    """A listing page: a heading, an optional line under it, a page of teasers, its feed;
    ``context`` for what its template shows besides.
    """
    return render_template(
        template, page=_page(query), heading=heading, intro=intro, feed=feed, **context
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """The front page: the lead story on the first page, then the latest, paginated.

    An imported article's old query permalink (WordPress's ``/?p=123``) leads to it instead.
    """
    if not QUERY_PERMALINKS.isdisjoint(request.args) and (
        moved := legacy_redirect(request.full_path)
    ):
        return moved
    lead = next(iter(Article.featured_latest(1) or Article.latest(1)), None)
    query = Article.public()
    if lead is not None:
        query = query.where(Article.id != lead.id)
    page = _page(query)
    return render_template("articles/index.html", lead=lead if page.page == 1 else None, page=page)


def _visible(article: Article) -> bool:
    """Whether the person asking may read ``article``: readers public ones, staff any."""
    return article.is_public or current_user.is_authenticated


@bp.get("/articles/<slug>")
def detail(slug: str) -> ResponseReturnValue:
    """One article; drafts and scheduled ones only for signed-in staff.

    An address the article had while public leads to its current one (301), unless the
    address now belongs to an article the person may read.
    """
    article = Article.by_slug(slug)
    if article is None or not _visible(article):
        moved = Article.redirected(slug)
        if moved is None or not _visible(moved):
            abort(404)
        return redirect(url_for("articles.detail", slug=moved.slug), code=301)
    return render_template("articles/detail.html", article=article)


@bp.get("/featured")
def featured() -> ResponseReturnValue:
    """All featured articles, newest first."""
    query = Article.public_featured()
    heading, intro = _("Featured posts"), _("Picked by our editors.")
    return _listing("articles/featured.html", query, heading, intro)


@bp.get("/latest")
def latest() -> ResponseReturnValue:
    """All published articles, newest first."""
    return _listing("articles/latest.html", Article.public(), _("Latest posts"))


@bp.get("/sections/<slug>")
def section(slug: str) -> ResponseReturnValue:
    """The articles of one section."""
    found = db.first_or_404(sa.select(Section).where(Section.slug == slug))
    query = Article.public().where(Article.section_id == found.id)
    feed = url_for("feeds.section", slug=slug, ending="xml")
    return _listing("articles/section.html", query, found.name, feed=feed)


@bp.get("/tags/<slug>")
def tag(slug: str) -> ResponseReturnValue:
    """The articles with one tag."""
    found = db.first_or_404(sa.select(Tag).where(Tag.slug == slug))
    query = Article.public().where(Article.tags.any(Tag.id == found.id))
    feed = url_for("feeds.tag", slug=slug, ending="xml")
    heading = _("Tagged “%(tag)s”", tag=found.name)
    return _listing("articles/tag.html", query, heading, feed=feed)


@bp.get("/authors/<username>")
def author(username: str) -> ResponseReturnValue:
    """The articles of one author, under their photo and bio."""
    found = db.first_or_404(sa.select(User).where(User.username == username))
    query = Article.public().where(Article.author_id == found.id)
    feed = url_for("feeds.author", username=username, ending="xml")
    return _listing("articles/author.html", query, found.display_name, feed=feed, author=found)

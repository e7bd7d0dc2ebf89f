"""Sidebar fragments, loaded by htmx into the article page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from blog.extensions import db
from blog.hx import fragment
from blog.models import Article
from blog.site import small_int

bp = Blueprint("sidebars", __name__, url_prefix="/sidebars")


def _exclude() -> int | None:
    """The id of the article being read, which its sidebars leave out."""
    return request.args.get("exclude", type=small_int)


@bp.get("/featured")
def featured() -> ResponseReturnValue:
    """The filled "Featured posts" sidebar, leaving out ``?exclude=<article id>``."""
    articles = Article.featured_latest(current_app.config["SIDEBAR_SIZE"], exclude=_exclude())
    return fragment("sidebars/_sidebar.html", kind="featured", articles=articles)


@bp.get("/latest")
def latest() -> ResponseReturnValue:
    """The filled "Latest posts" sidebar, leaving out ``?exclude=<article id>``."""
    articles = Article.latest(current_app.config["SIDEBAR_SIZE"], exclude=_exclude())
    return fragment("sidebars/_sidebar.html", kind="latest", articles=articles)


@bp.get("/related/<id:article_id>")
def related(article_id: int) -> ResponseReturnValue:
    """The filled "Related" box at the end of an article; 404 unless readers may see it."""
    article = db.session.scalar(Article.teasers([article_id]))
    if article is None or not article.is_public:
        abort(404)
    articles = Article.related(article, current_app.config["RELATED_SIZE"])
    return fragment("sidebars/_related.html", article=article, articles=articles)

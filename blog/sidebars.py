"""Sidebar fragments, loaded by htmx into the article page."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

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

"""The newsroom: dashboard, the article form, live preview, slug check, delete."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from slugify import slugify
from sqlalchemy.orm import selectinload

from blog.auth import staff_required
from blog.dates import local
from blog.extensions import csrf, db
from blog.forms import MAX_BODY_CHARS, ArticleForm
from blog.hx import fragment, hx_redirect
from blog.models import Article, Section, User
from blog.saving import save_article, unique_slug
from blog.site import small_int

bp = Blueprint("editor", __name__, url_prefix="/editor")

DASHBOARD_SIZE = 50


@bp.before_request
@staff_required
def _require_staff() -> None:
    """Every editor route needs a signed-in member of the newsroom."""


def _filtered(text: str) -> list[Article]:
    """The most recently changed articles whose headline, slug, status or author has ``text``."""
    query = sa.select(Article).order_by(Article.updated_at.desc()).limit(DASHBOARD_SIZE)
    if text:
        query = query.join(Article.author).where(
            sa.or_(
                *(
                    column.icontains(text, autoescape=True)
                    for column in (Article.title, Article.slug, Article.status, User.display_name)
                )
            )
        )
    return list(db.session.scalars(query.options(selectinload(Article.author))))


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """All articles with status, author and dates; ``?q=`` narrows the list."""
    text = request.args.get("q", "").strip()
    return render_template("editor/dashboard.html", articles=_filtered(text), q=text)


@bp.get("/rows")
def rows() -> ResponseReturnValue:
    """The dashboard's rows for a filter, naming the full page they stand for."""
    text = request.args.get("q", "").strip()
    full_page = url_for("editor.dashboard", q=text or None)
    context = {"articles": _filtered(text), "q": text, "oob": True}
    return fragment("editor/_rows.html", replace_url=full_page, **context)


def _editable(article_id: int) -> Article:
    """The article, if the signed-in user may change it; else 404 or 403."""
    article = db.get_or_404(Article, article_id)
    if not current_user.can_edit(article):
        abort(403)
    return article


# The article form checks its own CSRF token, so that an expired one brings the form back
# with everything typed instead of an error page.
@bp.route("/articles/new", methods=["GET", "POST"])
@csrf.exempt
def new() -> ResponseReturnValue:
    """Write a new article."""
    form = ArticleForm(can_publish=current_user.can_publish)
    if form.validate_on_submit():
        return _save(form, None)
    return _form_page(form, None)


@bp.route("/articles/<id:article_id>/edit", methods=["GET", "POST"])
@csrf.exempt
def edit(article_id: int) -> ResponseReturnValue:
    """Change an article."""
    article = _editable(article_id)
    filled = article if request.method == "GET" else None
    form = ArticleForm(obj=filled, article=article, can_publish=current_user.can_publish)
    if filled is not None:
        form.section.data = article.section.name if article.section else ""
        form.tags.data = ", ".join(tag.name for tag in article.tags)
        form.published_at.data = local(article.published_at) if article.published_at else None
        form.hero_image.data = None
    if form.validate_on_submit():
        return _save(form, article)
    return _form_page(form, article)


def _save(form: ArticleForm, article: Article | None) -> ResponseReturnValue:
    """Save and go to the edit page; after a clash with a simultaneous save, the form again."""
    try:
        saved = save_article(form, current_user, article)
        db.session.commit()
    except sa.exc.IntegrityError:
        # Two saves at once claimed the same new slug, section or tag: the other one won.
        db.session.rollback()
        form.form_errors.append(
            "Another save at the same moment took this address, section or tag. "
            "Nothing you typed is lost: save again."
        )
        return _form_page(form, article)
    flash(f"Saved “{saved.title}”.")
    return hx_redirect(url_for("editor.edit", article_id=saved.id))


def _form_page(form: ArticleForm, article: Article | None) -> ResponseReturnValue:
    """The form page; after errors, with everything typed and the preview of it."""
    preview = _preview_of(form) if form.errors or article is None else article
    sections = db.session.scalars(sa.select(Section.name).order_by(Section.name))
    context = {"form": form, "article": article, "preview": preview, "sections": sections}
    return render_template("editor/edit.html", **context), 422 if form.errors else 200


@bp.post("/preview")
def preview() -> ResponseReturnValue:
    """The body rendered exactly as saving would, for the preview pane."""
    form = ArticleForm(meta={"csrf": False}, can_publish=current_user.can_publish)
    return fragment("editor/_preview.html", article=_preview_of(form))


def _preview_of(form: ArticleForm) -> Article:
    """An unsaved article rendered from what the form holds (a body over the limit, cut to it)."""
    body = (form.body.data or "")[:MAX_BODY_CHARS]
    draft = Article(body=body, dateline=form.dateline.data or "")
    draft.published_at = form.publication_time()
    draft.render()
    return draft


@bp.get("/slug-check")
def slug_check() -> ResponseReturnValue:
    """Say inline whether the slug typed (or the one the headline gives) is free."""
    article = db.session.get(Article, request.args.get("article_id", type=small_int) or 0)
    typed = request.args.get("slug", "").strip()
    title = request.args.get("title", "").strip()
    context: dict[str, object] = {"typed": typed}
    if typed:
        context["suggestion"] = slugify(typed)
        context["malformed"] = context["suggestion"] != typed
        context["taken_by"] = None if context["malformed"] else Article.slug_owner(typed, article)
        if context["taken_by"] is not None:
            context["suggestion"] = unique_slug(typed, article)
    elif title:
        context["suggestion"] = unique_slug(title, article)
    return fragment("editor/_slug_check.html", **context)


@bp.route("/articles/<id:article_id>/delete", methods=["GET", "POST"])
def delete(article_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then delete the article."""
    article = _editable(article_id)
    if request.method == "POST":
        title = article.title
        db.session.delete(article)
        db.session.commit()
        flash(f"Deleted “{title}”.")
        return hx_redirect(url_for("editor.dashboard"))
    return render_template("editor/delete.html", article=article)

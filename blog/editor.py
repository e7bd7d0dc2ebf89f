"""The newsroom: dashboard, the article form, live preview, slug check, unpublish, trash."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from slugify import slugify
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from blog import audit, autosave
from blog.access import editable_article, refusal
from blog.auth import admin_required, staff_required, unsaved
from blog.conflicts import note_conflict, outdated
from blog.dates import clock, local, long_date, utcnow
from blog.extensions import csrf, db
from blog.forms import MAX_BODY_CHARS, ArticleForm
from blog.hx import fragment, hx_redirect
from blog.i18n import lazy_gettext as _l
from blog.models import STATES, Article, MediaItem, Section, User
from blog.saving import keep_revision, save_article, unique_slug, unpublish_article
from blog.site import small_int

bp = Blueprint("editor", __name__, url_prefix="/editor")

DASHBOARD_SIZE = 50
HERO_CHOICES = 12  # the newest library images offered as the hero; the library has them all
# The dashboard's names for the articles in each state (its counts), and a row's label.
STATE_NAMES = dict(
    zip(
        STATES,
        (_l("Drafts"), _l("In review"), _l("Scheduled"), _l("Published"), _l("Trash")),
        strict=True,
    )
)
STATE_LABELS = dict(
    zip(
        STATES,
        (_l("draft"), _l("in review"), _l("scheduled"), _l("published"), _l("in the trash")),
        strict=True,
    )
)


@bp.before_request
@staff_required
def _require_staff() -> None:
    """Every editor route needs a signed-in member of the newsroom."""


@dataclass(frozen=True)
class Filters:
    """What the dashboard lists: text, a state (none: all but the trash), a section, an author."""

    q: str = ""
    state: str = ""
    section: Section | None = None
    author: User | None = None

    @classmethod
    def read(cls) -> Filters:
        """The filters in the query string, ignoring values that name nothing known."""
        state = request.args.get("state", "")
        slug = request.args.get("section", "")
        author_id = request.args.get("author", type=small_int)
        return cls(
            q=request.args.get("q", "").strip(),
            state=state if state in STATES else "",
            section=db.session.scalar(sa.select(Section).where(Section.slug == slug))
            if slug
            else None,
            author=db.session.get(User, author_id) if author_id else None,
        )

    def args(self, **changes: str) -> dict[str, str]:
        """The query string of these filters with ``changes``, empty values left out."""
        values = {
            "q": self.q,
            "state": self.state,
            "section": self.section.slug if self.section else "",
            "author": str(self.author.id) if self.author else "",
        } | changes
        return {name: value for name, value in values.items() if value}

    @property
    def summary(self) -> str:
        """The filters other than the text, in words: ``In review, Local, by Ana``."""
        parts = (
            STATE_NAMES.get(self.state, ""),
            self.section.name if self.section else "",
            _("by %(name)s", name=self.author.display_name) if self.author else "",
        )
        return ", ".join(str(part) for part in parts if part)

    def narrow(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """``query`` over articles cut to the text, section and author, but not the state.

        Writers see everyone's articles, but only their own in the trash.
        """
        if self.q:
            columns = (Article.title, Article.slug, Article.status, User.display_name)
            query = query.join(Article.author).where(
                sa.or_(*(column.icontains(self.q, autoescape=True) for column in columns))
            )
        if self.section is not None:
            query = query.where(Article.section_id == self.section.id)
        if self.author is not None:
            query = query.where(Article.author_id == self.author.id)
        if not current_user.can_publish:
            query = query.where(
                sa.or_(Article.deleted_at.is_(None), Article.author_id == current_user.id)
            )
        return query


def _state_column() -> sa.ColumnElement[str]:
    """``Article.state`` worked out by the database."""
    scheduled = sa.and_(
        Article.status == "published",
        sa.or_(Article.published_at.is_(None), Article.published_at > utcnow()),
    )
    return sa.case(
        (Article.deleted_at.is_not(None), "trash"), (scheduled, "scheduled"), else_=Article.status
    )


def _listing(filters: Filters) -> dict[str, Any]:
    """The rows and the counts per state for ``filters``: what the page and the fragment show."""
    query = filters.narrow(sa.select(Article))
    if filters.state:
        query = query.where(_state_column() == filters.state)
    else:
        query = query.where(Article.deleted_at.is_(None))
    query = query.order_by(Article.updated_at.desc()).limit(DASHBOARD_SIZE)
    articles = list(db.session.scalars(query.options(selectinload(Article.author))))
    states = filters.narrow(sa.select(_state_column().label("state")).select_from(Article))
    states = states.subquery()
    counted = sa.select(states.c.state, sa.func.count()).group_by(states.c.state)
    counts = {state: count for state, count in db.session.execute(counted)}
    return {
        "filters": filters,
        "articles": articles,
        "counts": counts,
        "total": sum(n for state, n in counts.items() if state != "trash"),
        "state_names": STATE_NAMES,
        "state_labels": STATE_LABELS,
    }


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """Articles with state, author and dates, filtered, with how many there are in each state."""
    filters = Filters.read()
    canonical = filters.args()
    if request.args.to_dict(flat=False) != {name: [value] for name, value in canonical.items()}:
        # A form sent without JavaScript carries its empty fields; unknown values are dropped.
        return redirect(url_for("editor.dashboard", **canonical))
    sections = db.session.scalars(sa.select(Section).order_by(Section.name))
    authors = db.session.scalars(sa.select(User).order_by(User.display_name))
    context = _listing(filters) | {"sections": sections, "authors": authors}
    return render_template("editor/dashboard.html", **context)


@bp.get("/rows")
def rows() -> ResponseReturnValue:
    """The dashboard's rows, counts and status line for the filters, naming the full page."""
    filters = Filters.read()
    full_page = url_for("editor.dashboard", **filters.args())
    return fragment("editor/_rows.html", replace_url=full_page, oob=True, **_listing(filters))


# The article form checks its own CSRF token, so that an expired one brings the form back
# with everything typed instead of an error page.
@bp.route("/articles/new", methods=["GET", "POST"])
@csrf.exempt
def new() -> ResponseReturnValue:
    """Write a new article."""
    form = ArticleForm(can_publish=current_user.can_publish)
    autosave.restore_if_asked(form, None)
    if form.validate_on_submit():
        return _save(form, None)
    return _form_page(form, None)


@bp.route("/articles/<id:article_id>/edit", methods=["GET", "POST"])
@csrf.exempt
def edit(article_id: int) -> ResponseReturnValue:
    """Change an article."""
    article = db.get_or_404(Article, article_id)
    if refusal(article):
        return _refused(article)
    filled = article if request.method == "GET" else None
    form = ArticleForm(obj=filled, article=article, can_publish=current_user.can_publish)
    if filled is not None:
        form.section.data = article.section.name if article.section else ""
        form.tags.data = ", ".join(tag.name for tag in article.tags)
        form.published_at.data = local(article.published_at) if article.published_at else None
        form.hero_image.data = None
    autosave.restore_if_asked(form, article)
    if form.validate_on_submit():
        return _save(form, article)
    return _form_page(form, article)


def _save(form: ArticleForm, article: Article | None) -> ResponseReturnValue:
    """Save and go to the edit page; after a clash with a simultaneous save, the form again."""
    if article is not None and outdated(form, article):
        return _conflict(form, article)
    try:
        saved = save_article(form, current_user, article, by=current_user)
        autosave.clear(current_user, article)
        db.session.commit()
    except StaleDataError:
        # Another save changed the article while this one ran (only updates have versions).
        db.session.rollback()
        if article is None:
            raise
        return _conflict(form, article)
    except sa.exc.IntegrityError:
        # Two saves at once claimed the same new slug, section or tag: the other one won.
        db.session.rollback()
        form.form_errors.append(
            _(
                "Another save at the same moment took this address, section or tag. "
                "Nothing you typed is lost: save again."
            )
        )
        return _form_page(form, article)
    saved_news = _("Saved “%(title)s”.", title=saved.title)
    flash(f"{saved_news} {_state_news(saved)}".rstrip())
    return hx_redirect(url_for("editor.edit", article_id=saved.id))


def _state_news(article: Article) -> str:
    """What the save means for readers, when that is worth a sentence."""
    if article.state == "scheduled" and article.published_at:
        moment = article.published_at
        return _(
            "Readers see it from %(date)s at %(time)s.",
            date=long_date(moment),
            time=clock(moment, zone=True),
        )
    if article.state == "review":
        return _("It waits for an editor's review.")
    return ""


def _conflict(form: ArticleForm, article: Article) -> ResponseReturnValue:
    """The form again (409) with what was typed, under the version saved meanwhile and theirs."""
    note_conflict(form, article)
    page, _status = _form_page(form, article)
    return page, 409


def _form_page(form: ArticleForm, article: Article | None) -> ResponseReturnValue:
    """The form page; after errors or a restored copy, with the text typed and its preview."""
    typed = form.errors or article is None or form.body.data != article.body
    preview = _preview_of(form) if typed else article
    sections = db.session.scalars(sa.select(Section.name).order_by(Section.name))
    context = {"form": form, "article": article, "preview": preview, "sections": sections}
    context["autosave"] = autosave.offer(article)
    newest = sa.select(MediaItem).order_by(MediaItem.created_at.desc()).limit(HERO_CHOICES)
    context["library"] = db.session.scalars(newest)
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


@contextmanager
def _change(done: str) -> Iterator[None]:
    """Commit what the block changes and say ``done``; if a save at the same moment won, say so."""
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("Someone changed this article at the same moment, so nothing was done. Try again."))
    else:
        flash(done)


@bp.post("/articles/<id:article_id>/unpublish")
def unpublish(article_id: int) -> ResponseReturnValue:
    """Take a published or scheduled article back to a draft: editors and admins."""
    article = db.get_or_404(Article, article_id)
    if not current_user.can_publish:
        abort(403)
    if article.state in {"published", "scheduled"}:
        done = _(
            "Unpublished “%(title)s”: it is a draft that readers cannot see.", title=article.title
        )
        with _change(done):
            unpublish_article(article, current_user)
        autosave.keep_typed(article)  # what was typed but not saved, offered back on the form
    return hx_redirect(url_for("editor.edit", article_id=article.id))


# The address kept its first name: "delete" moves to the trash, "purge" deletes for good.
@bp.route("/articles/<id:article_id>/delete", methods=["GET", "POST"])
def trash(article_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then move the article to the trash, as a draft readers never see."""
    article = editable_article(article_id)
    if article.deleted_at is not None:
        return hx_redirect(url_for("editor.edit", article_id=article.id))
    if request.method == "GET":
        return render_template("editor/delete.html", article=article)
    was = article.state
    with _change(_("Moved “%(title)s” to the trash.", title=article.title)):
        article.status = "draft"
        article.deleted_at = utcnow()
        keep_revision(article, current_user, note=_("Moved to the trash"))
        detail = ""
        if was == "published":
            detail = _("It was published.")
        elif was == "scheduled":
            detail = _("It was scheduled.")
        audit.record("trash", article=article, detail=detail)
    return hx_redirect(url_for("editor.dashboard"))


@bp.post("/articles/<id:article_id>/restore")
def restore(article_id: int) -> ResponseReturnValue:
    """Take the article out of the trash, still a draft, and open it in the form."""
    article = editable_article(article_id)
    if article.deleted_at is not None:
        with _change(_("Restored “%(title)s” from the trash. It is a draft.", title=article.title)):
            article.deleted_at = None
            keep_revision(article, current_user, note=_("Restored from the trash"))
            audit.record("restore", article=article)
    return hx_redirect(url_for("editor.edit", article_id=article.id))


@bp.route("/articles/<id:article_id>/purge", methods=["GET", "POST"])
@admin_required
def purge(article_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then delete an article in the trash for good: admins only."""
    article = db.get_or_404(Article, article_id)
    if article.deleted_at is None:
        flash(_("Only an article in the trash can be deleted for good. Move it there first."))
        return hx_redirect(url_for("editor.trash", article_id=article.id))
    if request.method == "GET":
        return render_template("editor/purge.html", article=article)
    with _change(_("Deleted “%(title)s” for good.", title=article.title)):
        # Written first, so that the entry keeps the headline once the article is gone.
        audit.record("delete", article=article)
        db.session.flush()
        db.session.delete(article)
    return hx_redirect(url_for("editor.dashboard", state="trash"))


def _refused(article: Article) -> ResponseReturnValue:
    """The form's address when the article may not be changed: why, and any text not saved.

    A save's text is shown back, to copy; on opening, the user's autosaved copy is. The trash
    stops everyone until a restore (a save gets 409); a right lost or never had, 403.
    """
    trashed = current_user.can_edit(article)  # so only the trash is in the way
    if request.method == "POST":
        kept, text = None, unsaved()
    else:
        kept = autosave.kept(article)
        text = kept.text if kept else {}
    page = render_template(
        "editor/refused.html",
        article=article,
        reason=refusal(article),
        trashed=trashed,
        unsaved=text,
        kept=kept,
    )
    if not trashed:
        return page, 403
    return page, 409 if request.method == "POST" else 200

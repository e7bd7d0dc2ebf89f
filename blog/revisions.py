"""Revisions: an article's history, the changes between two of its versions, restoring one."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import Blueprint, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from blog import audit, images
from blog.access import editable_article
from blog.auth import staff_required
from blog.checks import problems as publish_problems
from blog.dates import local
from blog.diffing import changes
from blog.extensions import db
from blog.forms import ArticleForm
from blog.hx import hx_redirect
from blog.models import Article, Revision
from blog.saving import save_article
from blog.site import small_int

bp = Blueprint("revisions", __name__, url_prefix="/editor")

# A revision's text fields, each held as typed by the article form's field of the same name.
# Restoring a revision brings them back with the tags and the image; the status, the
# publication time and featuring stay as they are.
REVISION_TEXT_FIELDS = (
    "title",
    "slug",
    "summary",
    "dateline",
    "body",
    "section",
    "hero_alt",
    "hero_caption",
    "hero_credit",
)


@bp.before_request
@staff_required
def _require_staff() -> None:
    """Every revision route needs a signed-in member of the newsroom."""


@bp.get("/articles/<id:article_id>/history")
def history(article_id: int) -> ResponseReturnValue:
    """Every saved version, newest first; ``?a=`` and ``?b=`` (revision ids) pick two to compare."""
    return _history_page(editable_article(article_id))


def _history_page(
    article: Article,
    problems: Sequence[str] = (),
    status: int = 200,
    restoring: Revision | None = None,
    override: StringField | None = None,
) -> ResponseReturnValue:
    """The history page, with the changes between the chosen versions and any problems.

    After a refused restore, the version ``restoring`` is compared with the latest, and
    ``override`` (the reason to publish anyway) goes next to its Restore button.
    """
    from blog.editor import STATE_LABELS  # here, as blog.editor builds on this module

    query = (
        sa.select(Revision)
        .where(Revision.article_id == article.id)
        .order_by(Revision.id.desc())
        .options(defer(Revision.fields), selectinload(Revision.editor))
    )
    revisions = list(db.session.scalars(query))
    by_id = {revision.id: revision for revision in revisions}
    newer = _chosen("b", by_id, revisions[0] if revisions else None)
    older = _chosen("a", by_id, restoring or (revisions[1] if len(revisions) > 1 else None))
    found = changes(older.fields, newer.fields) if older and newer else []
    context = {"article": article, "revisions": revisions, "older": older, "newer": newer}
    # The latest version is the article as it stands: restoring it would change nothing.
    restorable = [r for r in dict.fromkeys((older, newer)) if r and r is not revisions[0]]
    context |= {"changes": found, "problems": problems, "restorable": restorable}
    context |= {"restoring": restoring, "override": override, "state_labels": STATE_LABELS}
    return render_template("revisions/history.html", **context), status


def _chosen(name: str, by_id: dict[int, Revision], default: Revision | None) -> Revision | None:
    """The revision whose id the query argument ``name`` gives (404 if not this article's)."""
    if name not in request.args:
        return default
    try:
        revision = by_id.get(small_int(request.args[name]))
    except ValueError:
        revision = None
    if revision is None:
        abort(404)
    return revision


@bp.post("/articles/<id:article_id>/revisions/<id:revision_id>/restore")
def restore(article_id: int, revision_id: int) -> ResponseReturnValue:
    """Save the article again with a revision's content: a new version; status and time stay."""
    article = editable_article(article_id)
    revision = db.get_or_404(Revision, revision_id)
    if revision.article_id != article.id:
        abort(404)
    if article.deleted_at is not None:
        problem = _("The article is in the trash. Take it out of the trash first.")
        return _history_page(article, [problem], 409, revision)
    form, image_kept = _restoring(revision, article, request.form.get("override_reason", ""))
    if not form.validate():
        return _refused(form, revision, article)
    if form.override_reason.data:
        note = _(
            "Restored version %(version)d; published despite the checks: %(reason)s",
            version=revision.version,
            reason=form.override_reason.data,
        )
    else:
        note = _("Restored version %(version)d", version=revision.version)
    try:
        save_article(form, article.author, article, by=current_user, note=note)
        audit.record("revert", article=article, detail=note)
        db.session.commit()
    except (StaleDataError, sa.exc.IntegrityError):
        db.session.rollback()
        problem = _("Someone saved this article at the same moment. Look again, then restore.")
        return _history_page(article, [problem], 409, revision)
    versions = {"old": revision.version, "new": article.version}
    if image_kept:
        message = _(
            "Restored version %(old)d as version %(new)d. Its hero image is no longer stored, "
            "so the current one stays. The status and publication time are unchanged.",
            **versions,
        )
    else:
        message = _(
            "Restored version %(old)d as version %(new)d. The status and publication time "
            "are unchanged.",
            **versions,
        )
    flash(message)
    return hx_redirect(url_for("revisions.history", article_id=article.id))


def _refused(form: ArticleForm, revision: Revision, article: Article) -> ResponseReturnValue:
    """The history page saying why restoring ``revision`` with ``form`` was refused.

    An editor restoring into a published article may publish a version that does not pass
    the publish checks, as in the article form, by giving a reason.
    """
    problems = [
        f"{form[name].label.text}: {' '.join(map(str, messages))}"
        for name, messages in form.errors.items()
        if name
    ]
    blocked = form.status.data == "published" and any(p.blocking for p in publish_problems(form))
    if not (form.can_publish and blocked):
        return _history_page(article, problems + form.form_errors, 422, revision)
    problems.append(
        _(
            "The article is published and version %(version)d does not pass the publish "
            "checks: to restore it anyway, give a reason next to its Restore button.",
            version=revision.version,
        )
    )
    return _history_page(article, problems, 422, revision, form.override_reason)


def _restoring(revision: Revision, article: Article, reason: str) -> tuple[ArticleForm, bool]:
    """The article form as if sent with ``revision``'s content and the article's status.

    ``reason`` is the one given to publish despite the publish checks. Also says whether the
    revision's hero image is gone from storage (the current one stays).
    """
    fields = revision.fields
    stored = images.stored(fields["hero_image"]) if fields.get("hero_image") else None
    sent = MultiDict({name: str(fields.get(name) or "") for name in REVISION_TEXT_FIELDS})
    sent["tags"] = ", ".join(fields.get("tags") or [])
    sent["status"] = article.status
    sent["override_reason"] = reason
    sent["hero_upload"] = stored.name if stored else ""
    if article.featured:
        sent["featured"] = "y"
    if not fields.get("hero_image"):
        sent["remove_hero"] = "y"
    # The publication time is not sent as text, which would drop its fractions of a second.
    kept = (
        {"published_at": local(article.published_at).replace(tzinfo=None)}
        if article.published_at
        else {}
    )
    form = ArticleForm(
        formdata=sent,
        data=kept,
        meta={"csrf": False},
        article=article,
        can_publish=current_user.can_publish,
    )
    return form, bool(fields.get("hero_image")) and stored is None

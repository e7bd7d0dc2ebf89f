"""Old article addresses that redirect to the current one: removing them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from blog.auth import staff_required
from blog.extensions import db
from blog.hx import hx_redirect
from blog.models import SlugRedirect

bp = Blueprint("redirects", __name__, url_prefix="/editor")


@bp.post("/articles/<id:article_id>/redirects/<id:redirect_id>/delete")
@staff_required
def delete(article_id: int, redirect_id: int) -> ResponseReturnValue:
    """Stop an old address of the article from redirecting (editors only)."""
    if not current_user.can_publish:
        abort(403)
    redirect = db.get_or_404(SlugRedirect, redirect_id)
    if redirect.article_id != article_id:
        abort(404)
    old_address = url_for("articles.detail", slug=redirect.old_slug)
    db.session.delete(redirect)
    db.session.commit()
    flash(_("%(address)s no longer leads to this article.", address=old_address))
    return hx_redirect(url_for("editor.edit", article_id=article_id, _anchor="redirects"))

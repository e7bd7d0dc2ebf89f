"""Finding an article the signed-in member may change, for every editor blueprint."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from blog.extensions import db
from blog.models import Article


def editable_article(article_id: int) -> Article:
    """The article, if the signed-in user may change it (and see its history); else 404 or 403."""
    article = db.get_or_404(Article, article_id)
    if not current_user.can_edit(article):
        abort(403)
    return article

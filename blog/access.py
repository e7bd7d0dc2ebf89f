"""Whether the signed-in member may change an article, and why not, for every editor blueprint."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from blog.extensions import db
from blog.models import Article


def editable_article(article_id: int) -> Article:
    """The article, if the signed-in user may change it (and see its history); else 404 or 403."""
    article = db.get_or_404(Article, article_id)
    if not current_user.can_edit(article):
        abort(403)
    return article


def refusal(article: Article) -> str:
    """Why the signed-in user may not change ``article`` now, in a sentence; nothing if they may."""
    if not current_user.can_edit(article):
        if article.author_id == current_user.id and article.status == "published":
            if article.state == "scheduled":
                return _("An editor scheduled this article; only editors can change it now.")
            return _("An editor published this article; only editors can change it now.")
        return _(
            "You can no longer edit this article: writers change only their own articles, "
            "until they are published."
        )
    if article.deleted_at is not None:
        return _("The article was moved to the trash; it can be changed again once restored.")
    return ""

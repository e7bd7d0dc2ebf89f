"""The audit log: who did what to which article or person, and when."""

from __future__ import annotations

from flask_login import current_user

from blog.extensions import db
from blog.models import Article, AuditEvent, User


def record(
    action: str,
    *,
    article: Article | None = None,
    subject: User | None = None,
    actor: User | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add an event to the session (the caller commits); the actor defaults to the signed-in user.

    ``action`` is one of ACTIONS' keys; the article's headline or the subject's username is
    kept as text too, so the entry still reads right after the row is deleted.
    """
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        actor=actor,
        article=article,
        subject=subject,
        target=article.title if article is not None else subject.username if subject else "",
        detail=detail[:500],
    )
    db.session.add(event)
    return event


# What each action is called on the audit page.
ACTIONS = {
    "sign-in": "signed in",
    "create": "created",
    "submit": "submitted for review",
    "publish": "published",
    "schedule": "scheduled",
    "unpublish": "unpublished",
    "trash": "moved to the trash",
    "restore": "restored from the trash",
    "delete": "deleted for good",
    "revert": "restored a revision of",
    "note": "added a note to",
    "add-user": "added",
    "change-role": "changed the role of",
    "deactivate": "deactivated",
    "reactivate": "reactivated",
    "reset-password": "reset the password of",
    "set-password": "set a password for",
}

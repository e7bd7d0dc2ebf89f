"""The audit log: who did what to which article or person, and when."""

from __future__ import annotations

from flask_login import current_user

from blog.extensions import db
from blog.i18n import lazy_gettext as _l
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


# What each action is called on the audit page (the keys are stored; the labels are shown).
ACTIONS = {
    "sign-in": _l("signed in"),
    "create": _l("created"),
    "submit": _l("submitted for review"),
    "publish": _l("published"),
    "schedule": _l("scheduled"),
    "unpublish": _l("unpublished"),
    "trash": _l("moved to the trash"),
    "restore": _l("restored from the trash"),
    "delete": _l("deleted for good"),
    "revert": _l("restored a revision of"),
    "note": _l("added a note to"),
    "add-user": _l("added"),
    "change-role": _l("changed the role of"),
    "deactivate": _l("deactivated"),
    "reactivate": _l("reactivated"),
    "reset-password": _l("reset the password of"),
    "set-password": _l("set a password for"),
    "edit-profile": _l("changed the profile of"),
}

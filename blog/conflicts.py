"""Conflicts: a save made from an older version of an article, shown against the one saved since."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _

from blog.diffing import Change, changes
from blog.extensions import db
from blog.forms import ArticleForm
from blog.models import Article, Revision, User
from blog.revisions import REVISION_TEXT_FIELDS


@dataclass(frozen=True)
class Conflict:
    """A save refused because someone saved the article after its form was filled."""

    version: int
    saved_by: User | None
    saved_at: datetime
    changes: list[Change]


def outdated(form: ArticleForm, article: Article) -> bool:
    """Whether the form was filled from an older version (a form without one never is)."""
    return form.version.data is not None and form.version.data != article.version


def note_conflict(form: ArticleForm, article: Article) -> None:
    """Ready the form to be shown again over the version saved meanwhile.

    The form keeps everything typed and is now based on the current version, so saving it
    again is accepted; the article form shows ``g.conflict``, both versions side by side.
    """
    latest = db.session.scalar(
        sa.select(Revision)
        .where(Revision.article_id == article.id)
        .order_by(Revision.id.desc())
        .limit(1)
    )
    if latest is None or latest.version != article.version:
        latest = None
    saved = article.snapshot()
    g.conflict = Conflict(
        version=article.version,
        saved_by=latest.editor if latest else None,
        saved_at=latest.created_at if latest else article.updated_at,
        changes=changes(saved, _typed(form, saved)),
    )
    form.version.data, form.version.raw_data = article.version, None
    form.form_errors.append(
        _(
            "Someone else saved this article while you were editing it. Nothing you typed is "
            "lost: compare the two versions, merge them in the form and save again."
        )
    )


def _typed(form: ArticleForm, saved: dict[str, Any]) -> dict[str, Any]:
    """What the form holds, shaped like a revision's fields; what it cannot change, as saved."""
    moment = form.publication_time()
    hero = form.hero
    picture: dict[str, Any] = {}
    if hero is not None:
        picture = {"hero_image": hero.name, "hero_width": hero.width, "hero_height": hero.height}
    elif form.remove_hero.data:
        picture = {"hero_image": None}
    return {
        **saved,
        **{name: form[name].data or "" for name in REVISION_TEXT_FIELDS},
        "body": (form.body.data or "").replace("\r\n", "\n"),
        "tags": form.tag_names(),
        "featured": form.featured.data if form.can_publish else saved.get("featured"),
        "status": form.status.data,
        "published_at": moment.isoformat() if moment else None,
        **picture,
    }

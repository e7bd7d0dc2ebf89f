"""Revisions: an article's history, the changes between two versions, restoring one, conflicts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from blog import audit, images
from blog.access import editable_article
from blog.auth import staff_required
from blog.dates import local, long_date
from blog.extensions import db
from blog.forms import STATUS_LABELS, ArticleForm
from blog.hx import hx_redirect
from blog.models import Article, Revision, User
from blog.saving import save_article
from blog.site import small_int

bp = Blueprint("revisions", __name__, url_prefix="/editor")

# The fields a revision keeps that people read, in the form's order, with the form's labels.
LABELS = {
    name: getattr(ArticleForm, name).args[0]
    for name in (
        "title",
        "slug",
        "summary",
        "dateline",
        "body",
        "section",
        "tags",
        "featured",
        "status",
        "published_at",
        "hero_image",
        "hero_alt",
        "hero_caption",
        "hero_credit",
    )
}
# The form's text fields. Restoring a revision brings them back with the tags and the image;
# the status, the publication time and featuring stay as they are.
TEXT_FIELDS = (
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
# A line with the blank lines after it: Markdown's blank lines never pair up on their own.
LINES = re.compile(r"[^\n]+\n*|\n+")
# A word with the spaces after it, or spaces alone.
WORDS = re.compile(r"\S+\s*|\s+")
# Unchanged lines shown before and after a change; longer unchanged stretches are folded.
CONTEXT = 2
# Word pairs a field's comparison may weigh; past them, changed lines are shown whole rather
# than word by word, so that comparing any two bodies takes about a second at most.
MAX_WORD_PAIRS = 4_000_000

# A piece of one side of a change: ("same" | "del" | "ins" | "skip" | "empty", text).
Run = tuple[str, str]
EMPTY: list[Run] = [("empty", "")]


@dataclass(frozen=True)
class Picture:
    """A hero image as a version had it."""

    name: str
    width: int | None
    height: int | None
    alt: str


@dataclass(frozen=True)
class Change:
    """A field that differs between two versions, each side as runs of text (or a picture)."""

    name: str
    label: str
    old: list[Run]
    new: list[Run]
    old_picture: Picture | None = None
    new_picture: Picture | None = None


@dataclass(frozen=True)
class Conflict:
    """A save refused because someone saved the article after its form was filled."""

    version: int
    saved_by: User | None
    saved_at: datetime
    changes: list[Change]


@bp.before_request
@staff_required
def _require_staff() -> None:
    """Every revision route needs a signed-in member of the newsroom."""


@bp.get("/articles/<id:article_id>/history")
def history(article_id: int) -> ResponseReturnValue:
    """Every saved version, newest first; ``?a=`` and ``?b=`` (revision ids) pick two to compare."""
    return _history_page(editable_article(article_id))


def _history_page(
    article: Article, problems: Sequence[str] = (), status: int = 200
) -> ResponseReturnValue:
    """The history page, with the changes between the chosen versions and any problems."""
    query = (
        sa.select(Revision)
        .where(Revision.article_id == article.id)
        .order_by(Revision.id.desc())
        .options(defer(Revision.fields), selectinload(Revision.editor))
    )
    revisions = list(db.session.scalars(query))
    by_id = {revision.id: revision for revision in revisions}
    newer = _chosen("b", by_id, revisions[0] if revisions else None)
    older = _chosen("a", by_id, revisions[1] if len(revisions) > 1 else None)
    found = changes(older.fields, newer.fields) if older and newer else []
    context = {"article": article, "revisions": revisions, "older": older, "newer": newer}
    # The latest version is the article as it stands: restoring it would change nothing.
    restorable = [r for r in dict.fromkeys((older, newer)) if r and r is not revisions[0]]
    context |= {"changes": found, "problems": problems, "restorable": restorable}
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
        problem = "The article is in the trash. Take it out of the trash first."
        return _history_page(article, [problem], 409)
    form, image_kept = _restoring(revision, article)
    if not form.validate():
        problems = [
            f"{form[name].label.text}: {' '.join(messages)}"
            for name, messages in form.errors.items()
            if name
        ]
        return _history_page(article, problems + form.form_errors, 422)
    note = f"Restored revision {revision.version}"
    try:
        save_article(form, article.author, article, by=current_user, note=note)
        audit.record("revert", article=article, detail=note)
        db.session.commit()
    except (StaleDataError, sa.exc.IntegrityError):
        db.session.rollback()
        problem = "Someone saved this article at the same moment. Look again, then restore."
        return _history_page(article, [problem], 409)
    message = f"Restored version {revision.version} as version {article.version}."
    if image_kept:
        message += " Its hero image is no longer stored, so the current one stays."
    flash(f"{message} The status and publication time are unchanged.")
    return hx_redirect(url_for("revisions.history", article_id=article.id))


def _restoring(revision: Revision, article: Article) -> tuple[ArticleForm, bool]:
    """The article form as if sent with ``revision``'s content and the article's status.

    Also says whether the revision's hero image is gone from storage (the current one stays).
    """
    fields = revision.fields
    stored = images.stored(fields["hero_image"]) if fields.get("hero_image") else None
    sent = MultiDict({name: str(fields.get(name) or "") for name in TEXT_FIELDS})
    sent["tags"] = ", ".join(fields.get("tags") or [])
    sent["status"] = article.status
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
        changes=changes(saved, typed(form, saved)),
    )
    form.version.data, form.version.raw_data = article.version, None
    form.form_errors.append(
        "Someone else saved this article while you were editing it. Nothing you typed is "
        "lost: compare the two versions, merge them in the form and save again."
    )


def typed(form: ArticleForm, saved: dict[str, Any]) -> dict[str, Any]:
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
        **{name: form[name].data or "" for name in TEXT_FIELDS},
        "body": (form.body.data or "").replace("\r\n", "\n"),
        "tags": form.tag_names(),
        "featured": form.featured.data if form.can_publish else saved.get("featured"),
        "status": form.status.data,
        "published_at": moment.isoformat() if moment else None,
        **picture,
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The fields that differ between two versions' fields, in the form's order."""
    found = []
    for name, label in LABELS.items():
        if name == "hero_image":
            old_picture, new_picture = _picture(before), _picture(after)
            if old_picture != new_picture:
                found.append(Change(name, label, [], [], old_picture, new_picture))
            continue
        old, new = _shown(name, before.get(name)), _shown(name, after.get(name))
        if old != new:
            found.append(Change(name, label, *diff(old, new)))
    return found


def _picture(fields: dict[str, Any]) -> Picture | None:
    """The hero image of a version, if it had one."""
    if not fields.get("hero_image"):
        return None
    return Picture(
        fields["hero_image"],
        fields.get("hero_width"),
        fields.get("hero_height"),
        fields.get("hero_alt") or "",
    )


def _shown(name: str, value: Any) -> str:
    """A field's value as a person reads it (times to the minute, in the newsroom's zone)."""
    if name == "tags":  # in the order the article page lists them
        return ", ".join(sorted(value or [], key=str.lower))
    if name == "featured":
        return "Yes" if value else "No"
    if name == "status":
        return STATUS_LABELS.get(value, value or "")
    if name == "published_at":
        if not value:
            return ""
        moment = local(datetime.fromisoformat(value))
        return f"{long_date(moment)}, {moment:%H:%M}"
    return str(value or "")


def diff(old: str, new: str) -> tuple[list[Run], list[Run]]:
    """Both sides of a change: what stayed, what went ("del") and what came ("ins").

    Lines are matched first, then the words of the lines that changed; long unchanged
    stretches are folded into a "skip" run.
    """
    a, b = LINES.findall(old), LINES.findall(new)
    left: list[Run] = []
    right: list[Run] = []
    budget = MAX_WORD_PAIRS
    opcodes = SequenceMatcher(None, a, b).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = _folded(a[i1:i2], first=n == 0, last=n == len(opcodes) - 1)
            left += same
            right += same
            continue
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        words = WORDS.findall(old_part), WORDS.findall(new_part)
        budget -= len(words[0]) * len(words[1])
        if budget >= 0:
            in_words = _words(*words)
            left += in_words[0]
            right += in_words[1]
        else:
            left.append(("del", old_part))
            right.append(("ins", new_part))
    return _merged(left) or EMPTY, _merged(right) or EMPTY


def _words(a: list[str], b: list[str]) -> tuple[list[Run], list[Run]]:
    """Changed lines compared word by word."""
    left: list[Run] = []
    right: list[Run] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(("same", "".join(a[i1:i2])))
            right.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(("ins", "".join(b[j1:j2])))
    return left, right


def _folded(lines: list[str], first: bool, last: bool) -> list[Run]:
    """Unchanged lines, keeping only CONTEXT of them next to each change."""
    head = [] if first else lines[:CONTEXT]
    tail = [] if last else lines[len(lines) - CONTEXT :]
    hidden = len(lines) - len(head) - len(tail)
    if hidden <= 1:
        return [("same", "".join(lines))]
    skip = ("skip", f"… {hidden} unchanged lines …\n")
    return [("same", "".join(head)), skip, ("same", "".join(tail))]


def _merged(runs: list[Run]) -> list[Run]:
    """Neighbouring runs of the same kind as one; empty ones dropped."""
    merged: list[Run] = []
    for kind, text in runs:
        if not text:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged

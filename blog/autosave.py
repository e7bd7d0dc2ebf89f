"""Autosave: a private copy of the article form while someone types, offered back later.

The copy never touches the article: readers see a change only when its author saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from blog.access import editable_article
from blog.auth import staff_required
from blog.dates import local, short_date, utcnow
from blog.extensions import csrf, db
from blog.forms import MAX_BODY_CHARS, ArticleForm
from blog.hx import fragment, hx_redirect, is_htmx
from blog.models import Article, Autosave, User
from blog.site import small_int

bp = Blueprint("autosave", __name__, url_prefix="/editor")

# The article form's fields a copy keeps as typed; "featured" too, for those who may feature.
# The image upload is not kept: it is stored when the form is saved.
TEXT_FIELDS = (
    "title",
    "slug",
    "summary",
    "dateline",
    "body",
    "section",
    "tags",
    "status",
    "published_at",
    "hero_alt",
    "hero_caption",
    "hero_credit",
)
# The longest text kept for a field other than the body. It is above every field's own limit,
# so that a headline a little too long is still kept and the form says so on save.
MAX_FIELD_CHARS = 2_000
RESTORE = "autosave"  # the value of ``?restore=`` that fills the form from the copy


@dataclass(frozen=True)
class Offer:
    """An unsaved copy to offer back above the article form."""

    saved_at: datetime
    when: str
    # The article was saved again after the copy's text was typed over it.
    outdated: bool


# The token is checked after the session, so that a copy sent after the session ended gets
# the signed-out notice (sign in again in a new tab) rather than the stale-token one.
csrf.exempt(bp)


@bp.before_request
@staff_required
def _require_staff() -> None:
    """Only signed-in members of the newsroom keep copies, with the page's CSRF token."""
    csrf.protect()


@bp.post("/autosave")
def keep() -> ResponseReturnValue:
    """Keep what the form holds as the signed-in user's copy; answer the status line."""
    article = _article(request.form.get("article_id", ""))
    fields = _typed(request.form)
    refused = _too_long(fields)
    if refused:
        # htmx shows only a 2xx answer, so the status line gets the message with a 200.
        return fragment("autosave/_status.html", refused=refused, status=200 if is_htmx() else 413)
    if _comparable(fields) == _comparable(_saved_fields(article)):
        clear(current_user, article)
        db.session.commit()
        return fragment("autosave/_status.html", unchanged=True)
    version = request.form.get("version", type=small_int)
    copy = _store(article, fields, version or (article.version if article else None))
    return fragment("autosave/_status.html", saved_at=copy.saved_at, clock=_clock(copy.saved_at))


@bp.post("/autosave/discard")
def discard() -> ResponseReturnValue:
    """Delete the signed-in user's copy and go back to the form."""
    article = _article(request.form.get("article_id", ""))
    clear(current_user, article)
    db.session.commit()
    flash("The unsaved text is discarded.")
    return hx_redirect(_form_url(article))


def restore_if_asked(form: ArticleForm, article: Article | None) -> None:
    """Fill ``form`` from the user's copy when the form page is opened with ``?restore=``.

    The hidden version becomes the one the copy was typed over, so that a save after someone
    else's is checked like any other save from an older version.
    """
    if request.method != "GET" or request.args.get("restore") != RESTORE:
        return
    copy = _copy(current_user, article)
    if copy is None:
        flash("There is no unsaved text to restore: it was saved or discarded.")
        return
    formdata = MultiDict({name: copy.fields.get(name, "") for name in TEXT_FIELDS})
    names = list(TEXT_FIELDS)
    if current_user.can_publish:
        names.append("featured")
        if copy.fields.get("featured"):
            formdata["featured"] = "y"
    for name in names:
        form[name].process(formdata)
    if copy.base_version is not None:
        form.version.data = copy.base_version
    flash(
        f"Your unsaved text from {_when(copy.saved_at)} is back in the form. "
        "Readers see it only once you save."
    )


def offer(article: Article | None) -> Offer | None:
    """The user's copy to offer on the form page: when it says something the article does not."""
    if request.method != "GET" or request.args.get("restore") == RESTORE:
        return None
    copy = _copy(current_user, article)
    if copy is None or _comparable(copy.fields) == _comparable(_saved_fields(article)):
        return None
    outdated = article is not None and copy.base_version not in (None, article.version)
    return Offer(saved_at=copy.saved_at, when=_when(copy.saved_at), outdated=outdated)


def clear(user: User, article: Article | None) -> None:
    """Delete ``user``'s copy of ``article`` (of a new article when None); the caller commits."""
    db.session.execute(sa.delete(Autosave).where(*_of(user, article)))


def _article(raw_id: str) -> Article | None:
    """The article the form edits (None for a new one); 404 or 403 when it may not be changed."""
    if not raw_id:
        return None
    try:
        return editable_article(small_int(raw_id))
    except ValueError:
        abort(404)


def _of(user: User, article: Article | None) -> tuple[sa.ColumnElement[bool], ...]:
    """The conditions that pick ``user``'s copy of ``article``."""
    if article is None:
        return Autosave.user_id == user.id, Autosave.article_id.is_(None)
    return Autosave.user_id == user.id, Autosave.article_id == article.id


def _copy(user: User, article: Article | None) -> Autosave | None:
    """``user``'s latest copy of ``article``."""
    query = sa.select(Autosave).where(*_of(user, article))
    return db.session.scalar(query.order_by(Autosave.saved_at.desc(), Autosave.id.desc()).limit(1))


def _store(article: Article | None, fields: dict[str, Any], version: int | None) -> Autosave:
    """Write the user's one copy of ``article``, made or updated, and commit."""
    try:
        return _write(article, fields, version)
    except sa.exc.IntegrityError:
        # Another tab made the copy at the same moment: update that one instead.
        db.session.rollback()
        return _write(article, fields, version)


def _write(article: Article | None, fields: dict[str, Any], version: int | None) -> Autosave:
    """Make or update the user's copy of ``article`` and commit."""
    query = sa.select(Autosave).where(*_of(current_user, article)).order_by(Autosave.id)
    copy, *extra = [*db.session.scalars(query)] or [
        Autosave(user_id=current_user.id, article_id=article.id if article else None)
    ]
    # The unique constraint does not cover a new article's copies (NULL never equals NULL).
    for duplicate in extra:
        db.session.delete(duplicate)
    db.session.add(copy)
    copy.fields, copy.base_version, copy.saved_at = fields, version, utcnow()
    db.session.commit()
    return copy


def _typed(formdata: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as typed (without NULs, which no text needs)."""
    fields: dict[str, Any] = {
        name: formdata.get(name, "").replace("\x00", "") for name in TEXT_FIELDS
    }
    if current_user.can_publish:
        fields["featured"] = formdata.get("featured", "") not in ("", "false")
    return fields


def _too_long(fields: dict[str, Any]) -> str:
    """Why the copy is too large to keep, or nothing."""
    length = len(fields["body"].replace("\r\n", "\n"))
    if length > MAX_BODY_CHARS:
        return (
            f"No draft copy kept: the body is {length:,} characters long and the limit is "
            f"{MAX_BODY_CHARS:,}. Shorten it and the copy is kept again."
        )
    if any(len(fields[name]) > MAX_FIELD_CHARS for name in TEXT_FIELDS if name != "body"):
        return f"No draft copy kept: a field is over {MAX_FIELD_CHARS:,} characters long."
    return ""


def _saved_fields(article: Article | None) -> dict[str, Any]:
    """The form's fields as the saved article fills them (a blank form for a new one)."""
    fields: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "") | {"status": "draft"}
    if article is not None:
        saved = article.snapshot()
        fields |= {name: saved[name] for name in TEXT_FIELDS}
        fields["tags"] = ", ".join(saved["tags"])
        moment = article.published_at
        fields["published_at"] = f"{local(moment):%Y-%m-%dT%H:%M}" if moment else ""
    if current_user.can_publish:
        fields["featured"] = bool(article and article.featured)
    return fields


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as a save would read them: surrounding spaces, line ends, tag spacing aside."""
    normal = {
        name: value.strip() if isinstance(value, str) else value for name, value in fields.items()
    }
    normal["body"] = str(fields.get("body", "")).replace("\r\n", "\n")
    tags = (" ".join(tag.split()) for tag in str(fields.get("tags", "")).split(","))
    normal["tags"] = [tag for tag in tags if tag]
    return normal


def _clock(moment: datetime) -> str:
    """``14:05``, in the newsroom's time zone."""
    return f"{local(moment):%H:%M}"


def _when(moment: datetime) -> str:
    """``Mar 3, 2025, 14:05``, in the newsroom's time zone."""
    return f"{short_date(moment)}, {_clock(moment)}"


def _form_url(article: Article | None) -> str:
    """The form page for ``article`` (for a new one when None)."""
    return url_for("editor.edit", article_id=article.id) if article else url_for("editor.new")

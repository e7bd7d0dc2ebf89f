"""Autosave: a private copy of the article form while someone types, offered back later.

The copy never touches the article: readers see a change only when its author saves.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from blog.access import editable_article, refusal
from blog.auth import UNSAVED_FIELDS, staff_required
from blog.dates import clock, local, short_date, utcnow
from blog.extensions import csrf, db
from blog.forms import MAX_BODY_CHARS, ArticleForm
from blog.hx import fragment, hx_redirect, is_htmx
from blog.models import Article, Autosave, User
from blog.site import small_int

bp = Blueprint("autosave", __name__, url_prefix="/editor")

# The article form's fields a copy keeps as typed; "featured" too, for those who may feature.
# The image upload is not kept: it is stored when the form is saved.
KEPT_FIELDS = (
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
OPENING_CHARS = 60  # of a body, shown for a copy without a headline
RESTORE = "autosave"  # the value of ``?restore=`` that fills the form from the copy
# The new-article form's hidden field that tells its copy from those of the user's other new
# articles (other tabs, earlier days); the copy keeps it among its fields.
DRAFT_KEY = "draft_key"
KEY_FORMAT = re.compile(r"[\w-]{0,64}", re.ASCII)
# The key a new article's copy was kept under; empty for copies kept before forms had keys.
COPY_KEY = sa.func.coalesce(Autosave.fields[DRAFT_KEY].as_string(), "")


@dataclass(frozen=True)
class Offer:
    """An unsaved copy to offer back above the article form."""

    saved_at: datetime
    when: str
    title: str
    opening: str  # the body's first words, to tell copies without a headline apart
    key: str | None  # a new article's draft key; None for a copy of a saved article
    # The article was saved again after the copy's text was typed over it.
    outdated: bool = False


@dataclass(frozen=True)
class Kept:
    """The text of a copy that cannot go back into a form, by field label, to copy by hand."""

    saved_at: datetime
    when: str
    text: dict[str, str]


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
    article_id = _article_id()
    article = db.get_or_404(Article, article_id) if article_id else None
    reason = refusal(article) if article else ""
    if reason:
        return _not_kept(
            _("No draft copy kept. %(reason)s Copy your text before leaving.", reason=reason), 403
        )
    fields = _typed(request.form)
    too_long = _too_long(fields)
    if too_long:
        return _not_kept(too_long, 413)
    if _comparable(fields) == _comparable(_saved_fields(article)):
        clear(current_user, article)
        db.session.commit()
        return fragment("autosave/_status.html", unchanged=True)
    version = request.form.get("version", type=small_int)
    copy = _store(article, fields, version or (article.version if article else None))
    return fragment("autosave/_status.html", saved_at=copy.saved_at, clock=clock(copy.saved_at))


def keep_typed(article: Article) -> None:
    """Keep the text the article form sent along with another action (Unpublish) as the
    user's copy, when it says what the article now does not, so the form offers it back.
    """
    if "body" not in request.form:
        return
    fields = _typed(request.form) | {"status": article.status}
    if _too_long(fields) or _comparable(fields) == _comparable(_saved_fields(article)):
        return
    _store(article, fields, article.version)


@bp.post("/autosave/discard")
def discard() -> ResponseReturnValue:
    """Delete the signed-in user's copy and go back to the form."""
    article_id = _article_id()
    article = editable_article(article_id) if article_id else None
    clear(current_user, article)
    db.session.commit()
    flash(_("The unsaved text is discarded."))
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
        flash(_("There is no unsaved text to restore: it was saved or discarded."))
        return
    formdata = MultiDict({name: copy.fields.get(name, "") for name in KEPT_FIELDS})
    names = list(KEPT_FIELDS)
    if current_user.can_publish:
        names.append("featured")
        if copy.fields.get("featured"):
            formdata["featured"] = "y"
    for name in names:
        form[name].process(formdata)
    if copy.base_version is not None:
        form.version.data = copy.base_version
    flash(
        _(
            "Your unsaved text from %(when)s is back in the form. "
            "Readers see it only once you save.",
            when=_when(copy.saved_at),
        )
    )


def offer(article: Article | None) -> list[Offer]:
    """The user's copies to offer on the form page: those that say what the article does not.

    A saved article has one copy at most; a new one offers every unsaved new article of the
    user but the form's own (the one just restored), newest first.
    """
    if request.method != "GET":
        return []
    if article is None:
        query = sa.select(Autosave).where(
            Autosave.user_id == current_user.id,
            Autosave.article_id.is_(None),
            draft_key() != COPY_KEY,
        )
        copies = list(db.session.scalars(_newest_first(query)))
    elif request.args.get("restore") == RESTORE:
        return []
    else:
        copies = [copy for copy in [_copy(current_user, article)] if copy is not None]
    saved = _comparable(_saved_fields(article))
    return [
        Offer(
            saved_at=copy.saved_at,
            when=_when(copy.saved_at),
            title=str(copy.fields.get("title", "")).strip(),
            opening=_opening(str(copy.fields.get("body", ""))),
            key=None if article else copy.fields.get(DRAFT_KEY, ""),
            outdated=article is not None and copy.base_version not in (None, article.version),
        )
        for copy in copies
        if _comparable(copy.fields) != saved
    ]


def kept(article: Article) -> Kept | None:
    """The user's copy of ``article`` as text, when it says what the article does not.

    Shown where the article may no longer be changed, so that the copy is not lost unseen.
    """
    copy = _copy(current_user, article)
    if copy is None or _comparable(copy.fields) == _comparable(_saved_fields(article)):
        return None
    text = {label: str(copy.fields.get(name, "")) for name, label in UNSAVED_FIELDS.items()}
    return Kept(saved_at=copy.saved_at, when=_when(copy.saved_at), text=text)


def draft_key() -> str:
    """The key that tells this new-article form's copy from the user's other new articles.

    A new form gets a fresh key and carries it, through errors too; the form of a restored
    copy takes that copy's key (empty for a copy kept before forms had keys). A malformed key
    is replaced by a fresh one, so that it never stops a save.
    """
    if "draft_key" not in g:
        key: str | None = None
        if request.method == "POST":
            key = request.form.get(DRAFT_KEY, "")
        elif request.args.get("restore") == RESTORE:
            key = request.args.get("key", "")
        valid = key is not None and KEY_FORMAT.fullmatch(key)
        g.draft_key = key if valid else secrets.token_urlsafe(16)
    return g.draft_key


bp.add_app_template_global(draft_key)


def clear(user: User, article: Article | None) -> None:
    """Delete ``user``'s copy of ``article`` (of this new-article form when None); no commit."""
    db.session.execute(sa.delete(Autosave).where(*_of(user, article)))


def _not_kept(message: str, status: int) -> ResponseReturnValue:
    """The status line saying why no copy was kept; ``status`` for a request not from htmx."""
    # htmx shows only a 2xx answer, so the status line gets the message with a 200.
    return fragment("autosave/_status.html", refused=message, status=200 if is_htmx() else status)


def _article_id() -> int | None:
    """The posted id of the article the form edits (None for a new one); 404 when malformed."""
    raw_id = request.form.get("article_id", "")
    if not raw_id:
        return None
    try:
        return small_int(raw_id)
    except ValueError:
        abort(404)


def _of(user: User, article: Article | None) -> tuple[sa.ColumnElement[bool], ...]:
    """The conditions that pick ``user``'s copy of ``article`` (of this new-article form)."""
    if article is None:
        return Autosave.user_id == user.id, Autosave.article_id.is_(None), draft_key() == COPY_KEY
    return Autosave.user_id == user.id, Autosave.article_id == article.id


def _newest_first(query: sa.Select[tuple[Autosave]]) -> sa.Select[tuple[Autosave]]:
    """``query`` over copies, the latest first."""
    return query.order_by(Autosave.saved_at.desc(), Autosave.id.desc())


def _copy(user: User, article: Article | None) -> Autosave | None:
    """``user``'s latest copy of ``article`` (of this new-article form)."""
    return db.session.scalar(_newest_first(sa.select(Autosave).where(*_of(user, article))).limit(1))


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
    # The unique constraint does not cover a new article's copies (NULL never equals NULL), so
    # two requests at once could have made two of one form's.
    for duplicate in extra:
        db.session.delete(duplicate)
    db.session.add(copy)
    if article is None:
        fields = fields | {DRAFT_KEY: draft_key()}
    copy.fields, copy.base_version, copy.saved_at = fields, version, utcnow()
    db.session.commit()
    return copy


def _typed(formdata: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as typed (without NULs, which no text needs)."""
    fields: dict[str, Any] = {
        name: formdata.get(name, "").replace("\x00", "") for name in KEPT_FIELDS
    }
    if current_user.can_publish:
        fields["featured"] = formdata.get("featured", "") not in ("", "false")
    return fields


def _too_long(fields: dict[str, Any]) -> str:
    """Why the copy is too large to keep, or nothing."""
    length = len(fields["body"].replace("\r\n", "\n"))
    if length > MAX_BODY_CHARS:
        return _(
            "No draft copy kept: the body is %(length)s characters long and the limit is "
            "%(limit)s. Shorten it and the copy is kept again.",
            length=format_number(length),
            limit=format_number(MAX_BODY_CHARS),
        )
    if any(len(fields[name]) > MAX_FIELD_CHARS for name in KEPT_FIELDS if name != "body"):
        return _(
            "No draft copy kept: a field is over %(limit)s characters long.",
            limit=format_number(MAX_FIELD_CHARS),
        )
    return ""


def _saved_fields(article: Article | None) -> dict[str, Any]:
    """The form's fields as the saved article fills them (a blank form for a new one)."""
    fields: dict[str, Any] = dict.fromkeys(KEPT_FIELDS, "") | {"status": "draft"}
    if article is not None:
        saved = article.snapshot()
        fields |= {name: saved[name] for name in KEPT_FIELDS}
        fields["tags"] = ", ".join(saved["tags"])
        moment = article.published_at
        fields["published_at"] = f"{local(moment):%Y-%m-%dT%H:%M}" if moment else ""
    if current_user.can_publish:
        fields["featured"] = bool(article and article.featured)
    return fields


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """The kept ``fields`` as a save reads them: spaces around, line ends, tag spacing aside."""
    values = {name: fields.get(name) for name in (*KEPT_FIELDS, "featured")}
    normal = {name: v.strip() if isinstance(v, str) else v for name, v in values.items()}
    normal["body"] = str(fields.get("body", "")).replace("\r\n", "\n")
    tags = (" ".join(tag.split()) for tag in str(fields.get("tags", "")).split(","))
    normal["tags"] = [tag for tag in tags if tag]
    return normal


def _opening(body: str) -> str:
    """The first words of ``body``, at most OPENING_CHARS of them, with "…" when cut."""
    text = " ".join(body.split())
    if len(text) <= OPENING_CHARS:
        return text
    return text[:OPENING_CHARS].rsplit(" ", 1)[0] + "…"


def _when(moment: datetime) -> str:
    """``Mar 3, 2025, 14:05``, in the newsroom's time zone."""
    return f"{short_date(moment)}, {clock(moment)}"


def _form_url(article: Article | None) -> str:
    """The form page for ``article`` (for a new one when None)."""
    return url_for("editor.edit", article_id=article.id) if article else url_for("editor.new")

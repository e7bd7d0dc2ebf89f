"""Corrections and updates: dated notes that editors append to published articles."""

from __future__ import annotations

import textwrap

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, format_number
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from blog import audit
from blog.auth import staff_required
from blog.dates import utcnow
from blog.extensions import csrf, db
from blog.forms import strip_text
from blog.hx import hx_redirect
from blog.i18n import lazy_gettext as _l
from blog.models import NOTE_KINDS, Article, ArticleNote

bp = Blueprint("notes", __name__, url_prefix="/editor")

MAX_NOTE_CHARS = 2_000
NOTE_LABELS = {"correction": _l("Correction"), "update": _l("Update")}
bp.add_app_template_global(NOTE_LABELS, "note_labels")


def _plain_text(value: str | None) -> str | None:
    """Typed text stripped, without control characters, with one kind of line break."""
    value = strip_text(value)
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class NoteForm(FlaskForm):
    """A correction or an update, in plain text (shown escaped, line breaks kept)."""

    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(kind, NOTE_LABELS[kind]) for kind in NOTE_KINDS]
    )
    text = TextAreaField(
        _l("Note"),
        validators=[DataRequired(_l("Write what was corrected or what is new."))],
        filters=[_plain_text],
        description=_l(
            "Plain text, at most %(limit)s characters; it is shown at the end of the article "
            "with today's date.",
            limit=LazyString(format_number, MAX_NOTE_CHARS),
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        # The prefix keeps its ids apart from the article form's on the edit page.
        super().__init__(*args, prefix="note", **kwargs)

    def validate_text(self, field: TextAreaField) -> None:
        """At most MAX_NOTE_CHARS (not a maxlength attribute, which cuts pasted text silently)."""
        length = len(field.data or "")
        if length > MAX_NOTE_CHARS:
            raise ValidationError(
                _(
                    "The note has %(length)s characters; the limit is %(limit)s.",
                    length=format_number(length),
                    limit=format_number(MAX_NOTE_CHARS),
                )
            )


@bp.app_template_global()
def note_form() -> NoteForm:
    """An empty note form, for the article's edit page."""
    return NoteForm(formdata=None)


def _noted(article_id: int) -> Article:
    """The article, if the signed-in user may add a note to it now; else 403, 404 or 409."""
    if not current_user.can_publish:
        abort(403)
    article = db.get_or_404(Article, article_id)
    if not article.is_public:
        message = _("Corrections and updates go on published articles; this one is not published.")
        page = render_template(
            "errors/error.html", code=409, name=_("Not published"), message=message
        )
        abort(make_response(page, 409))
    return article


# The form checks its own CSRF token, so that an expired one brings the note back, not an error.
@bp.route("/articles/<id:article_id>/notes", methods=["GET", "POST"])
@csrf.exempt
@staff_required
def add(article_id: int) -> ResponseReturnValue:
    """Append a dated correction or update to a published article."""
    article = _noted(article_id)
    form = NoteForm()
    if form.validate_on_submit():
        text = form.text.data
        now = utcnow()
        article.notes.append(
            ArticleNote(kind=form.kind.data, text=text, author=current_user, created_at=now)
        )
        # A plain UPDATE, not through the ORM: a note changes no field a person edits, so it
        # must not bump the article's version and refuse the next save as a conflict.
        db.session.execute(
            sa.update(Article).where(Article.id == article.id).values(revised_at=now)
        )
        summary = textwrap.shorten(text, width=200, placeholder=" …")
        detail = _("%(kind)s: %(note)s", kind=NOTE_LABELS[form.kind.data], note=summary)
        audit.record("note", article=article, detail=detail)
        db.session.commit()
        if form.kind.data == "correction":
            flash(_("Added the correction to “%(title)s”.", title=article.title))
        else:
            flash(_("Added the update to “%(title)s”.", title=article.title))
        return hx_redirect(url_for("editor.edit", article_id=article.id, _anchor="notes"))
    page = render_template("notes/add.html", article=article, form=form)
    return page, 422 if form.errors else 200

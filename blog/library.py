"""The media library: every uploaded image with its description, to find, describe and reuse."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from blog import images
from blog.auth import staff_required
from blog.editor import STATE_LABELS
from blog.extensions import csrf, db
from blog.forms import kept_upload, strip_text
from blog.hx import fragment, hx_redirect, is_htmx
from blog.i18n import lazy_gettext as _l
from blog.models import MediaItem, User
from blog.site import small_int, too_long_query
from blog.storage import current_media

bp = Blueprint("library", __name__, url_prefix="/editor/media")

PAGE_SIZE = 24
MAX_QUERY = 200
# Characters that would change an image's description in Markdown if left unescaped.
MARKDOWN_SPECIAL = re.compile(r"([\\\[\]*_`<&])")


@bp.before_request
@staff_required
def _require_staff() -> None:
    """Every library route needs a signed-in member of the newsroom."""


class DescriptionForm(FlaskForm):
    """The words that go with an image: alt text, caption and credit."""

    alt = StringField(
        _l("Alt text"),
        validators=[
            DataRequired(_l("Describe the image for people who cannot see it.")),
            Length(max=300),
        ],
        filters=[strip_text],
        description=_l("What the image shows, for people who cannot see it."),
    )
    caption = StringField(_l("Caption"), validators=[Length(max=300)], filters=[strip_text])
    credit = StringField(_l("Credit"), validators=[Length(max=120)], filters=[strip_text])

    def description(self) -> dict[str, str]:
        """The typed alt text, caption and credit, by column name."""
        return {name: self[name].data or "" for name in ("alt", "caption", "credit")}


class UploadForm(DescriptionForm):
    """A new image for the library, with its description."""

    image = FileField(_l("Image"), description=_l("JPEG, PNG, WebP or GIF."))
    # The name of a file already stored by this form, so that errors elsewhere keep it.
    upload = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored: images.StoredImage | None = None

    def validate_image(self, field: FileField) -> None:
        """Store a new upload at once, so that it survives errors in the other fields."""
        self.stored = kept_upload(field, self.upload)
        if self.stored is None:
            raise ValidationError(_("Choose an image file to upload."))


def _description_form(item: MediaItem, **kwargs: Any) -> DescriptionForm:
    """The description form of ``item``, its fields named apart from every other card's."""
    return DescriptionForm(prefix=f"media-{item.id}", obj=item, **kwargs)


@bp.app_template_filter()
def markdown_image(item: MediaItem) -> str:
    """The Markdown that shows ``item`` in an article body: ``![alt](/media/name)``."""
    alt = MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(item.alt.split()))
    return f"![{alt}]({url_for('media.file', name=item.name)})"


def _query_text() -> str:
    """The ``q`` of the request, trimmed; a 400 page when it is too long to be a description."""
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        abort(too_long_query(MAX_QUERY))
    return text


def _page(text: str) -> Pagination:
    """The page ``?page=`` asks for of the items whose alt text or caption has ``text``."""
    query = (
        sa.select(MediaItem)
        .order_by(MediaItem.created_at.desc(), MediaItem.id.desc())
        .options(selectinload(MediaItem.uploaded_by))
    )
    if text:
        query = query.where(
            sa.or_(
                MediaItem.alt.icontains(text, autoescape=True),
                MediaItem.caption.icontains(text, autoescape=True),
            )
        )
    number = request.args.get("page", 1, type=small_int)
    return db.paginate(query, page=number, per_page=PAGE_SIZE)


# The upload form checks its own CSRF token, so that an expired one brings it back filled in.
@bp.route("", methods=["GET", "POST"])
@csrf.exempt
def index() -> ResponseReturnValue:
    """The library, newest first, searchable by alt text and caption; upload an image."""
    form = UploadForm()
    if form.validate_on_submit():
        item = MediaItem.keep(form.stored, current_user, **form.description())
        added = item.id is None
        try:
            db.session.commit()
        except sa.exc.IntegrityError:  # the same image, uploaded at the same moment, came first
            db.session.rollback()
            item, added = MediaItem.keep(form.stored, current_user), False
        if added:
            flash(_("Added “%(alt)s” to the library.", alt=item.alt))
        else:
            described = item.alt or _("an image without alt text")
            flash(
                _(
                    "This image was already in the library, as “%(alt)s”; nothing was changed.",
                    alt=described,
                )
            )
        return hx_redirect(url_for("library.index", _anchor=f"media-{item.id}"))
    text = _query_text()
    page = render_template("library/index.html", form=form, q=text, page=_page(text))
    return page, 422 if form.errors else 200


@bp.get("/grid")
def grid() -> ResponseReturnValue:
    """A page of cards with the link to the next; the first page names the full page."""
    text = _query_text()
    found = _page(text)
    if found.page > 1:  # "More": appended to the pages shown, which no single address names
        return fragment("library/_cards.html", q=text, page=found, appended=True)
    full_page = url_for("library.index", q=text or None)
    return fragment("library/_cards.html", replace_url=full_page, q=text, page=found, oob=True)


@bp.get("/hero-choices")
def hero_choices() -> ResponseReturnValue:
    """The article form's hero choices: the newest library images matching ``?q=``."""
    text = _query_text()
    return fragment("library/_hero_choices.html", library=_page(text).items, chosen="")


@bp.get("/<id:item_id>/card")
def card(item_id: int) -> ResponseReturnValue:
    """One item's card, as the grid shows it (the inline form's Cancel)."""
    return fragment("library/_card.html", item=db.get_or_404(MediaItem, item_id), focus=True)


@bp.get("/<id:item_id>/form")
def card_form(item_id: int) -> ResponseReturnValue:
    """One item's card holding its description form, for changing it in place."""
    item = db.get_or_404(MediaItem, item_id)
    return fragment("library/_card.html", item=item, editing=_description_form(item))


# The form checks its own CSRF token, so that an expired one brings the text back.
@bp.route("/<id:item_id>/edit", methods=["GET", "POST"])
@csrf.exempt
def edit(item_id: int) -> ResponseReturnValue:
    """Change an item's alt text, caption and credit; in place with htmx, else on this page."""
    item = db.get_or_404(MediaItem, item_id)
    form = _description_form(item)
    if form.validate_on_submit():
        for column, value in form.description().items():
            setattr(item, column, value)
        db.session.commit()
        if is_htmx():
            return fragment("library/_card.html", item=item, saved=True, focus=True)
        flash(_("Saved the description of “%(alt)s”.", alt=item.alt))
        return hx_redirect(url_for("library.index", _anchor=f"media-{item.id}"))
    if form.is_submitted() and is_htmx():
        # htmx swaps only a 2xx answer: the form comes back in place with its messages.
        return fragment("library/_card.html", item=item, editing=form)
    page = render_template("library/edit.html", item=item, form=form)
    return page, 422 if form.errors else 200


@bp.route("/<id:item_id>/delete", methods=["GET", "POST"])
def delete(item_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then delete an unused item and its files: editors and admins."""
    if not current_user.can_publish:
        abort(403)
    item = db.get_or_404(MediaItem, item_id)
    users = item.users()
    if request.method == "GET" or users:
        page = render_template(
            "library/delete.html", item=item, users=users, state_labels=STATE_LABELS
        )
        return page, 409 if users and request.method == "POST" else 200
    # A profile photo of the same picture shares its files (names are content hashes).
    portrait = sa.exists().where(User.photo.startswith(item.hash, autoescape=True))
    photo = db.session.scalar(sa.select(portrait))
    media = current_media()
    files = [] if photo else media.names(item.hash)
    db.session.delete(item)
    db.session.commit()
    # After the commit: a refused delete keeps its files.
    for name in files:
        media.delete(name)
    alt = item.alt or item.name
    if photo:
        flash(_("Deleted “%(alt)s” from the library; a profile photo still shows it.", alt=alt))
    else:
        flash(_("Deleted “%(alt)s” and its files.", alt=alt))
    return hx_redirect(url_for("library.index"))

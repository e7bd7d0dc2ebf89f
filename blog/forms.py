"""The forms, with their validation: sign-in and the article editor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_number
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from slugify import slugify
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from blog import images
from blog.extensions import db
from blog.i18n import lazy_gettext as _l
from blog.models import STATUSES, Article, MediaItem
from blog.sanitize import xml_text

if TYPE_CHECKING:
    from blog.checks import Problem

STATUS_LABELS = {"draft": _l("Draft"), "review": _l("In review"), "published": _l("Published")}

# The longest body, in characters (a line break counts once). Checked here rather than by a
# Length validator, whose maxlength attribute would make browsers cut pasted text silently.
MAX_BODY_CHARS = 200_000


def typable(value: str | None) -> str | None:
    """Drop control characters: PostgreSQL refuses NUL, and feeds and sitemaps are XML."""
    return xml_text(value) if isinstance(value, str) else value


def strip_text(value: str | None) -> str | None:
    """Drop the spaces around typed text, and control characters."""
    value = typable(value)
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    """Sign in with a username and password."""

    username = StringField(_l("Username"), validators=[DataRequired()], filters=[strip_text])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in on this computer"))


def has_file(field: FileField) -> bool:
    """Whether a file was chosen in ``field``."""
    return bool(field.data and getattr(field.data, "filename", ""))


def kept_upload(field: FileField, kept: HiddenField) -> images.StoredImage | None:
    """The image uploaded in ``field``, stored at once so that errors in other fields keep it
    (its name goes into ``kept``), or the one stored by an earlier post; None when neither.
    """
    if has_file(field):
        try:
            image = images.store(field.data.stream)
        except images.ImageRejected as error:
            raise ValidationError(str(error)) from error
        kept.data = image.name
        return image
    if not kept.data:
        return None
    image = images.stored(kept.data)
    if image is None:
        kept.data = ""
        raise ValidationError(_("The earlier upload is gone; choose the file again."))
    return image


class ArticleForm(FlaskForm):
    """Every field of an article; field names are part of the public contract."""

    title = StringField(
        _l("Headline"), validators=[DataRequired(), Length(max=200)], filters=[strip_text]
    )
    slug = StringField(
        _l("Slug"),
        validators=[Optional(), Length(max=200)],
        filters=[strip_text],
        description=_l("The address: /articles/<slug>. Left empty, it is made from the headline."),
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=400)], filters=[strip_text])
    dateline = StringField(
        _l("Dateline"),
        validators=[Length(max=100)],
        filters=[strip_text],
        description=_l("Where the story was reported, e.g. “Kyiv, Ukraine”."),
    )
    body = TextAreaField(
        _l("Body"),
        filters=[typable],
        description=_l("Markdown; inline HTML is allowed and cleaned on save."),
    )
    section = StringField(_l("Section"), validators=[Length(max=60)], filters=[strip_text])
    tags = StringField(_l("Tags"), filters=[strip_text], description=_l("Separated by commas."))
    featured = BooleanField(_l("Featured"))
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s, STATUS_LABELS[s]) for s in STATUSES],
        default="draft",
        description=_l("Writers submit for review; an editor publishes."),
    )
    published_at = DateTimeLocalField(
        _l("Publication time"),
        validators=[Optional()],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        description=_l("Newsroom time. Empty: now, when published. Later: scheduled."),
    )
    hero_image = FileField(_l("Hero image"), description=_l("JPEG, PNG, WebP or GIF."))
    hero_upload = HiddenField()
    hero_from_library = StringField(_l("Or choose one from the media library"))
    remove_hero = BooleanField(_l("Remove the hero image"))
    hero_alt = StringField(
        _l("Alt text"),
        validators=[Length(max=300)],
        filters=[strip_text],
        description=_l("What the image shows, for people who cannot see it."),
    )
    hero_caption = StringField(_l("Caption"), validators=[Length(max=300)], filters=[strip_text])
    hero_credit = StringField(_l("Credit"), validators=[Length(max=120)], filters=[strip_text])
    # The article's version the form was filled from; a save from an older one is a conflict.
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    override_reason = StringField(
        _l("Reason to publish anyway"),
        validators=[Length(max=300)],
        filters=[strip_text],
        description=_l(
            "Editors only, when a problem above stops publishing: why it may go out "
            "anyway. It is kept in the history."
        ),
    )

    def __init__(
        self,
        *args: Any,
        article: Article | None = None,
        can_publish: bool,
        checks: bool = True,
        **kw: Any,
    ) -> None:
        """``checks=False`` publishes without the publish checks (an archive being imported)."""
        super().__init__(*args, **kw)
        self.article = article
        self.can_publish = can_publish
        self.checks = checks
        self.hero: images.StoredImage | None = None
        if not self.can_publish:
            self.status.choices = [
                SelectChoice("draft", STATUS_LABELS["draft"]),
                SelectChoice("review", _("Ready for review")),
                SelectChoice("published", _("Published (editors only)"), {"disabled": True}),
            ]

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the fields; to publish, blocking problems must be fixed or overridden.

        An editor overrides them with a reason, which the revision and the audit log keep.
        """
        from blog.checks import problems  # here, as blog.checks builds on this module

        valid = super().validate(extra_validators)
        blocking: list[Problem] = []
        if self.checks and self.status.data == "published":
            blocking = [problem for problem in problems(self) if problem.blocking]
        if blocking and not (self.can_publish and self.override_reason.data):
            # A field already marked by its own validation keeps just that message.
            unmarked = {problem.field for problem in blocking if not self[problem.field].errors}
            for problem in blocking:
                if problem.field in unmarked:
                    self[problem.field].errors.append(problem.message)
            self.form_errors.append(
                _(
                    "Not published: fix the problems marked (see “Before publishing”), give a "
                    "reason to publish anyway or save it as a draft."
                )
                if self.can_publish
                else _(
                    "Not published: fix the problems marked (see “Before publishing”) or save "
                    "it as a draft."
                )
            )
            return False
        if valid and not blocking:
            self.override_reason.data = ""  # nothing was overridden: no reason to keep
        return valid

    def publication_time(self) -> datetime | None:
        """The typed publication time, read in the newsroom's zone."""
        typed = self.published_at.data
        return typed.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])) if typed else None

    def validate_published_at(self, field: DateTimeLocalField) -> None:
        """The time must exist in UTC too (year 1 in Tokyo does not)."""
        try:
            moment = self.publication_time()
            if moment is not None:
                moment.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            raise ValidationError(_("Choose a date between the years 1 and 9999.")) from error

    def validate_slug(self, field: StringField) -> None:
        """A given slug must be in slug form and free."""
        if not field.data:
            return
        if slugify(field.data) != field.data:
            raise ValidationError(
                _(
                    "Use lowercase letters, digits and hyphens, e.g. “%(slug)s”.",
                    slug=slugify(field.data),
                )
            )
        if Article.slug_owner(field.data, self.article):
            raise ValidationError(_("Another article already uses this slug."))

    def validate_tags(self, field: StringField) -> None:
        """Each tag is at most 60 characters."""
        if any(len(tag) > 60 for tag in self.tag_names()):
            raise ValidationError(_("A tag is at most 60 characters long."))

    def validate_status(self, field: SelectField) -> None:
        """Only editors publish."""
        if field.data == "published" and not self.can_publish:
            raise ValidationError(_("Only editors can publish. Submit it for review instead."))

    def validate_featured(self, field: BooleanField) -> None:
        """Only editors feature articles (for writers the field is left as it was)."""
        if field.data and not self.can_publish and not (self.article and self.article.featured):
            raise ValidationError(_("Only editors can feature articles."))

    def validate_body(self, field: TextAreaField) -> None:
        """A published article has a body, and no body is longer than MAX_BODY_CHARS."""
        text = (field.data or "").replace("\r\n", "\n")
        if len(text) > MAX_BODY_CHARS:
            raise ValidationError(
                _(
                    "The body is %(length)s characters long; the limit is %(limit)s. "
                    "Shorten it or split it into parts.",
                    length=format_number(len(text)),
                    limit=format_number(MAX_BODY_CHARS),
                )
            )
        if self.status.data == "published" and not text.strip():
            raise ValidationError(_("A published article needs a body."))

    def validate_hero_image(self, field: FileField) -> None:
        """A new upload first, then a library image chosen, then the one kept from before."""
        if self.hero_from_library.data and not has_file(field):
            self._from_library(self.hero_from_library.data)
        else:
            self.hero = kept_upload(field, self.hero_upload)

    def _from_library(self, name: str) -> None:
        """The library image ``name`` as the hero; its description fills the fields left empty."""
        item = db.session.scalar(sa.select(MediaItem).where(MediaItem.name == name))
        self.hero = images.stored(name) if item is not None else None
        if self.hero is None:
            self.hero_from_library.data = ""
            raise ValidationError(_("That image is no longer in the library; choose another."))
        self.hero_upload.data = name
        for field, described in (
            (self.hero_alt, item.alt),
            (self.hero_caption, item.caption),
            (self.hero_credit, item.credit),
        ):
            field.data = field.data or described

    def validate_hero_alt(self, field: StringField) -> None:
        """An image needs alt text."""
        has_image = self.hero is not None or bool(
            self.article and self.article.hero_image and not self.remove_hero.data
        )
        if has_image and not field.data:
            raise ValidationError(_("Describe the image for people who cannot see it."))

    def tag_names(self) -> list[str]:
        """The tags typed, without blanks or repeats (first spelling wins)."""
        names: dict[str, str] = {}
        for raw in (self.tags.data or "").split(","):
            name = " ".join(raw.split())
            if name and slugify(name):
                names.setdefault(slugify(name), name)
        return list(names.values())

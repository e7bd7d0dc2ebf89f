"""The forms for managing people and for setting a password from a one-time link."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import format_number
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from blog import images
from blog.cli import USERNAME
from blog.extensions import db
from blog.forms import kept_upload, strip_text
from blog.i18n import lazy_gettext as _l
from blog.models import BIO_MAX, ROLES, User
from blog.passwords import MIN_LENGTH, password_problem

ROLE_LABELS = {"admin": _l("Admin"), "editor": _l("Editor"), "writer": _l("Writer")}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


def _lowercase(value: str | None) -> str | None:
    """Usernames are lowercase; ``Ana`` typed means ``ana``."""
    return value.lower() if isinstance(value, str) else value


class PersonForm(FlaskForm):
    """A new member of the newsroom: username, name in bylines, role."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Regexp(USERNAME, message=_l("Use 2–40 lowercase letters, digits, “.”, “_” or “-”.")),
        ],
        filters=[strip_text, _lowercase],
        description=_l("What they sign in with, and the address of their author page."),
    )
    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        filters=[strip_text],
        description=_l("As shown in bylines."),
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="writer")

    def validate_username(self, field: StringField) -> None:
        """A username belongs to one person."""
        if db.session.scalar(sa.select(User.id).where(User.username == field.data)):
            raise ValidationError(_("Someone already has this username; choose another."))


class RoleForm(FlaskForm):
    """A new role for one person."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class SetPasswordForm(FlaskForm):
    """A new password, typed twice, that keeps the rules of blog.passwords."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=_l(
            "At least %(least)d characters; a few unrelated words work well.", least=MIN_LENGTH
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )

    def __init__(self, *args: Any, username: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username = username

    def validate_password(self, field: PasswordField) -> None:
        """The password rules, checked against this account's username."""
        if problem := password_problem(field.data, self.username):
            raise ValidationError(problem)


def _single_newlines(value: str | None) -> str | None:
    """Line breaks as one character, as the person typing them counts them."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class ProfileForm(FlaskForm):
    """A member's name in bylines, bio and photo: what their author page shows."""

    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        filters=[strip_text],
        description=_l("As shown in bylines and on the author page."),
    )
    bio = TextAreaField(
        _l("Bio"),
        filters=[_single_newlines, strip_text],
        description=_l(
            "Plain text, at most %(count)d characters; a blank line starts a new paragraph.",
            count=BIO_MAX,
        ),
    )
    photo = FileField(
        _l("Photo"),
        description=_l("JPEG, PNG, WebP or GIF; described by the name above."),
    )
    # The name of a photo already stored by this form, so that errors elsewhere keep it.
    photo_upload = HiddenField()
    remove_photo = BooleanField(_l("Remove the photo"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored: images.StoredImage | None = None

    def validate_bio(self, field: TextAreaField) -> None:
        """At most BIO_MAX characters, checked here: a ``maxlength`` would cut pasted text."""
        if len(field.data or "") > BIO_MAX:
            raise ValidationError(
                _(
                    "The bio is %(length)s characters long; the limit is %(limit)s.",
                    length=format_number(len(field.data)),
                    limit=format_number(BIO_MAX),
                )
            )

    def validate_photo(self, field: FileField) -> None:
        """Store a new upload at once, so that it survives errors in the other fields."""
        self.stored = kept_upload(field, self.photo_upload)

"""The forms for managing people and for setting a password from a one-time link."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from blog.cli import USERNAME
from blog.extensions import db
from blog.forms import strip_text
from blog.models import ROLES, User
from blog.passwords import MIN_LENGTH, password_problem

ROLE_CHOICES = [SelectChoice(role, role.title()) for role in ROLES]


def _lowercase(value: str | None) -> str | None:
    """Usernames are lowercase; ``Ana`` typed means ``ana``."""
    return value.lower() if isinstance(value, str) else value


class PersonForm(FlaskForm):
    """A new member of the newsroom: username, name in bylines, role."""

    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Regexp(USERNAME, message="Use 2–40 lowercase letters, digits, “.”, “_” or “-”."),
        ],
        filters=[strip_text, _lowercase],
        description="What they sign in with, and the address of their author page.",
    )
    display_name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=100)],
        filters=[strip_text],
        description="As shown in bylines.",
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="writer")

    def validate_username(self, field: StringField) -> None:
        """A username belongs to one person."""
        if db.session.scalar(sa.select(User.id).where(User.username == field.data)):
            raise ValidationError("Someone already has this username; choose another.")


class RoleForm(FlaskForm):
    """A new role for one person."""

    role = SelectField("Role", choices=ROLE_CHOICES)


class SetPasswordForm(FlaskForm):
    """A new password, typed twice, that keeps the rules of blog.passwords."""

    password = PasswordField(
        "New password",
        validators=[DataRequired()],
        description=f"At least {MIN_LENGTH} characters; a few unrelated words work well.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )

    def __init__(self, *args: Any, username: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username = username

    def validate_password(self, field: PasswordField) -> None:
        """The password rules, checked against this account's username."""
        if problem := password_problem(field.data, self.username):
            raise ValidationError(problem)

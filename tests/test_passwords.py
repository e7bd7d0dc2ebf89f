"""The password rules and the command that applies them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from blog.extensions import db
from blog.models import User
from blog.passwords import MIN_LENGTH, password_problem
from tests.conftest import PASSWORD


def test_short_password_is_refused():
    assert password_problem("x" * (MIN_LENGTH - 1), "ed") == "Use at least 12 characters."
    assert password_problem("tr0ub4dor&3x", "ed") is None


def test_common_password_is_refused_whatever_its_case():
    assert "password1234" in FREQUENCY_LISTS["passwords"]
    for typed in ("password1234", "PassWord1234"):
        assert "most common passwords" in password_problem(typed, "ed")


def test_username_as_password_is_refused_whatever_its_case():
    assert "username" in password_problem("Night-Editor-1", "night-editor-1")


@pytest.mark.parametrize("typed", [" " * 12, "a" * 12, "123456789012", "qwertyuiopas", "x" * 500])
def test_repeats_sequences_and_keyboard_rows_are_refused(typed):
    assert "too easy to guess" in password_problem(typed, "ed")


def test_long_uncommon_password_passes():
    assert password_problem(PASSWORD, "ed") is None


def test_create_user_refuses_common_passwords_and_the_username(app, runner):
    common = runner.invoke(
        args=["create-user", "ed", "--role", "editor", "--password", "qwerty123456"]
    )
    assert common.exit_code != 0 and "most common passwords" in common.output
    own = runner.invoke(
        args=["create-user", "--password", "night-editor-1", "night-editor-1", "--role", "editor"]
    )
    assert own.exit_code != 0 and "username" in own.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user_asks_again_after_a_refused_password(app, runner):
    typed = f"password1234\n{PASSWORD}\n{PASSWORD}\n"
    result = runner.invoke(args=["create-user", "ed", "--role", "editor"], input=typed)
    assert result.exit_code == 0, result.output
    assert "most common passwords" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).filter_by(username="ed")).check_password(PASSWORD)

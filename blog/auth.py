"""Sign-in and sign-out, the session's user, and the access rules as decorators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from blog.extensions import csrf, db, login_manager
from blog.forms import LoginForm
from blog.hx import hx_redirect
from blog.models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")

staff_required = login_required


def init_app(app: Flask) -> None:
    """Set up sessions and CSRF protection."""
    login_manager.init_app(app)
    csrf.init_app(app)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    return hx_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def editor_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Let only editors and admins through (stack under ``staff_required``)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.can_publish:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the dashboard."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("editor.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form; sign the person in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user, remember=True)
            return hx_redirect(safe_next(request.args.get("next")))
        form.form_errors.append("Wrong username or password.")
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out and go to the front page."""
    logout_user()
    return hx_redirect(url_for("articles.index"))

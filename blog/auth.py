"""Sign-in and sign-out, the session's user, and what happens when a session has ended."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Flask, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required, login_user, logout_user

from blog.extensions import csrf, db, login_manager
from blog.forms import LoginForm
from blog.hx import fragment, hx_redirect, is_htmx
from blog.models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")

staff_required = login_required


def init_app(app: Flask) -> None:
    """Set up sessions and CSRF protection."""
    login_manager.init_app(app)
    csrf.init_app(app)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user from the session's id."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    """Ask for sign-in without losing what the person was writing.

    An htmx request (a preview, a slug check) gets a notice in the page's session-notice
    region, so the form stays as it is; a form posted after the session ended comes back
    with its text on the sign-in page.
    """
    if is_htmx():
        current = urlsplit(request.headers.get("HX-Current-URL", "")).path
        response = fragment("auth/_signed_out.html", next_url=safe_next(current))
        response.headers["HX-Retarget"] = "#session-notice"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    if request.method == "POST":
        unsaved = {name: request.form.get(name, "") for name in ("title", "summary", "body")}
        return _login_page(LoginForm(formdata=None), request.path, unsaved=unsaved, status=401)
    return hx_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the dashboard."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("editor.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token itself and comes back with a message when stale
def login() -> ResponseReturnValue:
    """Show the sign-in form; sign the person in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            return hx_redirect(safe_next(request.args.get("next")))
        form.form_errors.append("Wrong username or password.")
    return _login_page(form, request.args.get("next"), status=422 if form.is_submitted() else 200)


def _login_page(
    form: LoginForm, next_url: str | None, status: int, unsaved: dict[str, str] | None = None
) -> ResponseReturnValue:
    """The sign-in page; ``unsaved`` is text from a form posted after the session ended."""
    context = {"form": form, "next_url": next_url, "unsaved": unsaved}
    return render_template("auth/login.html", **context), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out and go to the front page."""
    logout_user()
    return hx_redirect(url_for("articles.index"))

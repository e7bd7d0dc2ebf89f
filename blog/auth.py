"""Sign-in and sign-out, one-time set-password links, the session's user, the role rules."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from blog import audit
from blog.config import REDIS_TIMEOUTS
from blog.extensions import csrf, db, limiter, login_manager
from blog.forms import LoginForm, strip_text
from blog.hx import hx_redirect, is_htmx, session_notice
from blog.i18n import lazy_gettext as _l
from blog.models import User
from blog.people_forms import SetPasswordForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

staff_required = login_required

View = TypeVar("View", bound=Callable[..., Any])

# How long a set-password link works; using it once also ends it.
SET_PASSWORD_LINK_DAYS = 7

# The article form's text fields, shown back on the sign-in page after a post without a session.
UNSAVED_FIELDS = {
    "title": _l("Headline"),
    "summary": _l("Summary"),
    "dateline": _l("Dateline"),
    "body": _l("Body"),
    "section": _l("Section"),
    "tags": _l("Tags"),
    "hero_alt": _l("Alt text"),
    "hero_caption": _l("Caption"),
    "hero_credit": _l("Credit"),
    "note-text": _l("Correction or update"),
}


def init_app(app: Flask) -> None:
    """Set up sessions, CSRF protection and the sign-in limits (off when TESTING, unless set).

    Limits counted in Redis are counted in each worker's memory while Redis cannot be reached.
    """
    login_manager.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(REDIS_TIMEOUTS))
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user, while the session token in ``user_id`` is still theirs."""
    row_id, _, token = user_id.partition(":")
    user = db.session.get(User, int(row_id)) if row_id.isdigit() else None
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def admin_required(view: View) -> View:
    """Let only signed-in admins through: others get 403, people not signed in the sign-in."""

    @wraps(view)
    @login_required
    def admin_view(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return admin_view  # type: ignore[return-value]


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    """Ask for sign-in without losing what the person was writing.

    An htmx request (a preview, a slug check) gets a notice in the page's session-notice
    region, so the form stays as it is; a form posted after the session ended comes back
    with its text on the sign-in page.
    """
    if is_htmx():
        current = urlsplit(request.headers.get("HX-Current-URL", "")).path
        return session_notice("auth/_signed_out.html", next_url=safe_next(current))
    if request.method == "POST":
        return _login_page(LoginForm(formdata=None), request.path, unsaved=unsaved(), status=401)
    return hx_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def unsaved() -> dict[str, str]:
    """The text of the article form posted in this request, by label, to show back."""
    return {str(label): request.form.get(name, "") for name, label in UNSAVED_FIELDS.items()}


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the dashboard."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("editor.dashboard")


def _setting(name: str) -> Callable[[], str]:
    """A limit read from the app's setting ``name`` on each request."""
    return lambda: current_app.config[name]


def _account() -> str:
    """The account a sign-in attempt is for: the username as typed, known or not."""
    return strip_text(request.form.get("username", "")) or "-"


def _failed(_response: Response) -> bool:
    """Whether this attempt checked a password and it was wrong; only those count."""
    return g.get("sign_in_failed", False)


# Only wrong passwords count: guessing makes them, while a newsroom behind one address may
# sign in many times a morning and never be held up.
@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token itself and comes back with a message when stale
@limiter.limit(
    _setting("SIGN_IN_LIMIT_PER_ADDRESS"), scope="address", methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    _setting("SIGN_IN_LIMIT_PER_ACCOUNT"),
    key_func=_account,
    scope="account",
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> ResponseReturnValue:
    """Show the sign-in form; sign the person in, in a new session."""
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = _authenticate(form.username.data, form.password.data)
        if user is not None:
            session.clear()  # nothing planted in the session before sign-in survives it
            login_user(user, remember=form.remember.data)
            audit.record("sign-in", actor=user)
            db.session.commit()
            return hx_redirect(safe_next(request.args.get("next")))
        g.sign_in_failed = True
        form.form_errors.append(_("Wrong username or password."))
    return _login_page(form, request.args.get("next"), status=422 if form.is_submitted() else 200)


def _authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials; an unknown name costs a password check too."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    checked = user or User(password_hash=_unknown_user_hash())
    if checked.check_password(password) and user is not None and user.active:
        return user
    return None


@cache
def _unknown_user_hash() -> str:
    """A hash made like every user's, checked when no user has the name typed."""
    return generate_password_hash(secrets.token_urlsafe(32))


def _too_many_attempts(_error: RateLimitExceeded) -> ResponseReturnValue:
    """The sign-in page again (the only limited one), with the name kept and when to retry."""
    reset_at = max(limit.window.reset_time for limit in limiter.current_limits if limit.breached)
    seconds = max(1, math.ceil(reset_at - time.time()))
    page, status = _login_page(
        LoginForm(), request.args.get("next"), status=429, wait_minutes=math.ceil(seconds / 60)
    )
    return page, status, {"Retry-After": str(seconds)}


def _login_page(
    form: LoginForm,
    next_url: str | None,
    status: int,
    unsaved: dict[str, str] | None = None,
    wait_minutes: int | None = None,
) -> tuple[str, int]:
    """The sign-in page, with the text of a form posted after the session ended, or the wait."""
    context = {"form": form, "next_url": next_url, "unsaved": unsaved, "wait_minutes": wait_minutes}
    return render_template("auth/login.html", **context), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out and go to the front page."""
    logout_user()
    return hx_redirect(url_for("articles.index"))


@bp.post("/logout-everywhere")
@staff_required
def logout_everywhere() -> ResponseReturnValue:
    """End every session of the signed-in user, remember-me cookies included, then this one."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("You are signed out on every device and browser."))
    return hx_redirect(url_for("articles.index"))


def _links() -> URLSafeTimedSerializer:
    """Signs and reads set-password links with the app's secret key."""
    return URLSafeTimedSerializer(current_app.secret_key, salt="set-password")


def _fingerprint(user: User) -> str:
    """A digest of the password hash and session token: setting a password changes it."""
    return hashlib.sha256(f"{user.password_hash}:{user.session_token}".encode()).hexdigest()[:32]


def set_password_url(user: User) -> str:
    """The full address of a link with which ``user`` chooses a password, once."""
    token = _links().dumps([user.id, _fingerprint(user)])
    return url_for("auth.set_password", token=token, _external=True)


def _link_refused(code: int) -> Response:
    """The page for a set-password link that is malformed (404), expired or used (410)."""
    if code == 410:
        name = _("Link expired")
        message = _(
            "This set-password link has expired or has already been used. "
            "Ask an admin of the newsroom for a new one."
        )
    else:
        name = _("Link not found")
        message = _(
            "This is not a working set-password link. Check that it was copied whole, "
            "or ask an admin of the newsroom for a new one."
        )
    page = render_template("errors/error.html", code=code, name=name, message=message)
    return Response(page, status=code)


def _link_user(token: str) -> User:
    """The active user a set-password link is for, while it works; else a 404 or 410 page."""
    try:
        user_id, fingerprint = _links().loads(token, max_age=SET_PASSWORD_LINK_DAYS * 24 * 3600)
    except SignatureExpired:
        abort(_link_refused(410))
    except BadData:
        abort(_link_refused(404))
    user = db.session.get(User, user_id)
    if user is None:
        abort(_link_refused(404))
    if not user.active or not secrets.compare_digest(fingerprint, _fingerprint(user)):
        abort(_link_refused(410))
    return user


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    """Choose a password from a one-time link, then start working, signed in."""
    user = _link_user(token)
    form = SetPasswordForm(username=user.username)
    if form.validate_on_submit():
        user.set_password(form.password.data)
        audit.record("set-password", actor=user, subject=user)
        db.session.commit()
        session.clear()
        login_user(user)
        flash(_("Welcome, %(name)s: your password is set.", name=user.display_name))
        return hx_redirect(url_for("editor.dashboard"))
    page = render_template("auth/set_password.html", form=form, user=user)
    return page, 422 if form.errors else 200, {"Cache-Control": "no-store"}

"""People and the audit log, for admins: add members, change roles, deactivate, reset passwords."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from blog import audit
from blog.auth import SET_PASSWORD_LINK_DAYS, admin_required, set_password_url
from blog.extensions import csrf, db
from blog.i18n import lazy_gettext as _l
from blog.models import AuditEvent, User
from blog.people_forms import ROLE_CHOICES, ROLE_LABELS, PersonForm, RoleForm
from blog.profiles import edit_profile
from blog.site import small_int

bp = Blueprint("people", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50
# A role in a sentence: "ana is now an editor".
ROLES_IN_WORDS = {"admin": _l("an admin"), "editor": _l("an editor"), "writer": _l("a writer")}


@bp.before_request
@admin_required
def _require_admin() -> None:
    """Every route here is for admins only."""


@bp.get("/people")
def index() -> ResponseReturnValue:
    """Everyone in the newsroom, with what an admin can change."""
    return _index_page()


def _index_page(problem: str | None = None, status: int = 200) -> ResponseReturnValue:
    """The people page; ``problem`` says why the change just asked for was refused."""
    people = db.session.scalars(sa.select(User).order_by(User.username))
    context = {"people": people, "roles": ROLE_CHOICES, "role_labels": ROLE_LABELS}
    context["problem"] = problem
    return render_template("people/index.html", **context), status


@bp.route("/people/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Add a member of the newsroom and show the link with which they choose a password."""
    form = PersonForm()
    if form.validate_on_submit():
        person = User(
            username=form.username.data, display_name=form.display_name.data, role=form.role.data
        )
        _lock_out(person)
        db.session.add(person)
        audit.record("add-user", subject=person, detail=person.role)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()  # someone else added this username a moment ago
            form.username.errors.append(_("Someone already has this username; choose another."))
        else:
            return _link_page("people/new.html", person, form=form)
    return render_template("people/new.html", form=form), 422 if form.errors else 200


def _lock_out(person: User) -> None:
    """Give ``person`` a password nobody knows, ending their sessions, until they choose one."""
    person.set_password(secrets.token_urlsafe(32))


def _link_page(template: str, person: User, **context: Any) -> ResponseReturnValue:
    """A page showing ``person``'s one-time set-password link, which no cache may keep."""
    link = set_password_url(person)
    page = render_template(
        template, person=person, link=link, link_days=SET_PASSWORD_LINK_DAYS, **context
    )
    return page, 200, {"Cache-Control": "no-store"}


def _person(user_id: int) -> User:
    """The member with this id, or 404."""
    return db.get_or_404(User, user_id)


def _refusal(person: User, message: str) -> str | None:
    """``message``, saying why an admin may not do this to themself, when ``person`` is them."""
    if person.id == current_user.id:
        return message
    return None


def _change_keeping_an_admin(person: User, **values: Any) -> bool:
    """Apply ``values`` to ``person`` unless they are the last active admin; whether it applied.

    The check sits in the UPDATE itself rather than in an earlier read, so it judges the
    rows as they are when the change is made, not as they were when the page was loaded.
    """
    others = (
        sa.select(User.id)
        .where(User.role == "admin", User.active.is_(True), User.id != person.id)
        .exists()
    )
    keeps = sa.or_(User.role != "admin", User.active.is_(False), others)
    result = db.session.execute(
        sa.update(User).where(User.id == person.id, keeps).values(**values),
        execution_options={"synchronize_session": "fetch"},
    )
    return result.rowcount == 1


def _last_admin(person: User) -> str:
    """The message refusing to demote or deactivate the last active admin."""
    return _(
        "%(username)s is the last active admin: make someone else an admin first.",
        username=person.username,
    )


@bp.post("/people/<id:user_id>/role")
def role(user_id: int) -> ResponseReturnValue:
    """Give a member another role; it applies from their next click."""
    person = _person(user_id)
    form = RoleForm()
    if not form.validate():
        abort(400)
    before, after = person.role, form.role.data
    if problem := _refusal(person, _("You cannot change the role of yourself; another admin can.")):
        return _index_page(problem, 409)
    if after == before:
        flash(_("%(username)s is already %(role)s.", username=person.username, role=_a(after)))
        return redirect(url_for("people.index"), code=303)
    if not _change_keeping_an_admin(person, role=after):
        return _index_page(_last_admin(person), 409)
    audit.record("change-role", subject=person, detail=f"{before} → {after}")
    db.session.commit()
    flash(_("%(username)s is now %(role)s.", username=person.username, role=_a(after)))
    return redirect(url_for("people.index"), code=303)


def _a(role_name: str) -> str:
    """``an admin``, ``an editor``, ``a writer``."""
    return str(ROLES_IN_WORDS[role_name])


@bp.post("/people/<id:user_id>/deactivate")
def deactivate(user_id: int) -> ResponseReturnValue:
    """Stop a member from signing in, and end their sessions now; their articles stay."""
    person = _person(user_id)
    if problem := _refusal(person, _("You cannot deactivate yourself; another admin can.")):
        return _index_page(problem, 409)
    if person.active:
        if not _change_keeping_an_admin(person, active=False):
            return _index_page(_last_admin(person), 409)
        person.end_sessions()
        audit.record("deactivate", subject=person)
        db.session.commit()
    flash(_("%(username)s is deactivated and signed out everywhere.", username=person.username))
    return redirect(url_for("people.index"), code=303)


@bp.post("/people/<id:user_id>/reactivate")
def reactivate(user_id: int) -> ResponseReturnValue:
    """Let a deactivated member sign in again."""
    person = _person(user_id)
    if not person.active:
        person.active = True
        audit.record("reactivate", subject=person)
        db.session.commit()
    flash(_("%(username)s can sign in again.", username=person.username))
    return redirect(url_for("people.index"), code=303)


@bp.post("/people/<id:user_id>/reset-password")
def reset_password(user_id: int) -> ResponseReturnValue:
    """End a member's sessions and password, and show a link to choose a new one."""
    person = _person(user_id)
    if problem := _refusal(
        person, _("You cannot reset the password of yourself; another admin can.")
    ):
        return _index_page(problem, 409)
    if not person.active:
        return _index_page(_("Reactivate %(username)s first.", username=person.username), 409)
    _lock_out(person)
    audit.record("reset-password", subject=person)
    db.session.commit()
    return _link_page("people/reset_password.html", person)


# The form checks its own CSRF token, so that an expired one brings the text back.
@bp.route("/people/<id:user_id>/profile", methods=["GET", "POST"])
@csrf.exempt
def profile(user_id: int) -> ResponseReturnValue:
    """Change a member's name, bio and photo with the form they use for their own."""
    action = url_for("people.profile", user_id=user_id)
    return edit_profile(_person(user_id), action=action, done=url_for("people.index"))


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    """Who did what to which article or person, newest first; ``?action=`` narrows it."""
    action = request.args.get("action", "")
    if action and action not in audit.ACTIONS:
        abort(400)
    query = (
        sa.select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .options(
            selectinload(AuditEvent.actor),
            selectinload(AuditEvent.subject),
            selectinload(AuditEvent.article),
        )
    )
    if action:
        query = query.where(AuditEvent.action == action)
    number = request.args.get("page", 1, type=small_int)
    page = db.paginate(query, page=number, per_page=AUDIT_PAGE_SIZE)
    context = {"page": page, "action": action, "actions": audit.ACTIONS}
    return render_template("people/audit_log.html", **context)

"""Profiles: the name, bio and photo an author page shows, edited by their owner or an admin."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from blog import audit
from blog.auth import staff_required
from blog.extensions import csrf, db
from blog.models import User
from blog.people_forms import ProfileForm

bp = Blueprint("profiles", __name__, url_prefix="/editor")


# The form checks its own CSRF token, so that an expired one brings the text back.
@bp.route("/profile", methods=["GET", "POST"])
@csrf.exempt
@staff_required
def edit() -> ResponseReturnValue:
    """Change your own name, bio and photo."""
    here = url_for("profiles.edit")
    return edit_profile(current_user, action=here, done=here)


def edit_profile(person: User, action: str, done: str) -> ResponseReturnValue:
    """Show ``person``'s profile form posting to ``action``; save it, then go to ``done``.

    A form with errors comes back (422) with the text typed and an uploaded photo kept.
    """
    form = ProfileForm(display_name=person.display_name, bio=person.bio)
    if form.validate_on_submit():
        if changed := _apply(form, person):
            audit.record("edit-profile", subject=person, detail=", ".join(changed))
            db.session.commit()
            flash(_("The profile of %(name)s is saved.", name=person.display_name))
        else:
            flash(_("Nothing was changed."))
        return redirect(done, code=303)
    page = render_template("people/profile.html", form=form, person=person, action=action)
    return page, 422 if form.errors else 200


def _apply(form: ProfileForm, person: User) -> list[str]:
    """Copy the form into ``person``; what changed, in words for the audit log."""
    changed = []
    if form.display_name.data != person.display_name:
        person.display_name = form.display_name.data
        changed.append(_("name"))
    if (form.bio.data or "") != person.bio:
        person.bio = form.bio.data or ""
        changed.append(_("bio"))
    if form.stored is not None and form.stored.name != person.photo:
        person.photo = form.stored.name
        person.photo_width, person.photo_height = form.stored.width, form.stored.height
        changed.append(_("photo"))
    elif form.stored is None and form.remove_photo.data and person.photo:
        person.photo = person.photo_width = person.photo_height = None
        changed.append(_("photo removed"))
    return changed

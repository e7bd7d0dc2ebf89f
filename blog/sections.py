"""The site's navigation: editors set the order of the sections and which ones it shows."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from blog.auth import staff_required
from blog.extensions import db
from blog.hx import fragment, is_htmx
from blog.models import Section

bp = Blueprint("sections", __name__, url_prefix="/editor/sections")

STEPS = {"up": -1, "down": 1}


@bp.before_request
@staff_required
def _require_editor() -> None:
    """Every route here is for editors and admins."""
    if not current_user.can_publish:
        abort(403)


@bp.app_template_global()
def navigation_sections() -> list[Section]:
    """The sections the masthead links to, in order (one query, made only by full pages)."""
    try:
        return Section.navigation()
    except sa.exc.SQLAlchemyError:
        # The error page says the site is in trouble even when the database does not answer.
        db.session.rollback()
        return []


@bp.get("")
def index() -> ResponseReturnValue:
    """Every section in order, with buttons to move it and to show or hide it."""
    return render_template("sections/index.html", sections=_all())


def _all() -> list[Section]:
    """Every section, in the navigation's order."""
    return list(db.session.scalars(Section.in_order()))


@bp.post("/<id:section_id>/move")
def move(section_id: int) -> ResponseReturnValue:
    """Swap a section with the one before or after it (``direction`` up or down)."""
    section = db.get_or_404(Section, section_id)
    direction = request.form.get("direction", "")
    if direction not in STEPS:
        abort(400)
    ordered = _all()
    here = ordered.index(section)
    there = here + STEPS[direction]
    if 0 <= there < len(ordered):
        ordered[here], ordered[there] = ordered[there], ordered[here]
    # Numbered afresh, so that ties left by sections made at the same moment come apart.
    for position, item in enumerate(ordered, start=1):
        item.position = position
    db.session.commit()
    place = ordered.index(section) + 1
    message = _(
        "%(name)s is now %(place)d of %(count)d.",
        name=section.name,
        place=place,
        count=len(ordered),
    )
    # Focus stays on the button pressed, unless the section reached the end it points to.
    if place == (1 if direction == "up" else len(ordered)) and len(ordered) > 1:
        direction = "down" if direction == "up" else "up"
    return _answer(section, ordered, message, focus=f"move-{direction}-{section.id}")


@bp.post("/<id:section_id>/navigation")
def navigation(section_id: int) -> ResponseReturnValue:
    """Show a section in the site's navigation (``show`` 1) or leave it out (0)."""
    section = db.get_or_404(Section, section_id)
    show = request.form.get("show", "")
    if show not in {"0", "1"}:
        abort(400)
    section.in_navigation = show == "1"
    db.session.commit()
    if section.in_navigation:
        message = _("%(name)s is shown in the navigation.", name=section.name)
    else:
        message = _("%(name)s is left out of the navigation.", name=section.name)
    return _answer(section, _all(), message, focus=f"navigation-{section.id}")


def _answer(
    section: Section, sections: list[Section], message: str, focus: str
) -> ResponseReturnValue:
    """The list in place for htmx, with ``focus`` on the control to stay on; else the page."""
    if is_htmx():
        return fragment("sections/_list.html", sections=sections, message=message, focus=focus)
    flash(message)
    return redirect(url_for("sections.index", _anchor=f"section-{section.id}"), code=303)

"""Site-wide routes and handlers: health check and error pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from blog.extensions import db

bp = Blueprint("site", __name__)


def init_app(app: Flask) -> None:
    """Render every HTTP error in the site's layout."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Send clients that ask for the conventional icon to the site's SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if isinstance(error, InternalServerError):
        db.session.rollback()
    code = error.code or 500
    return render_template("errors/error.html", code=code, name=error.name), code


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    message = "The form expired or came from another site. Go back, reload the page and try again."
    return render_template("errors/error.html", code=400, name="Form expired", message=message), 400

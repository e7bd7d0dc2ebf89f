"""Site-wide routes and handlers: health check and error pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from blog.extensions import db
from blog.hx import is_htmx, session_notice
from blog.i18n import lazy_gettext as _l
from blog.models import Article

bp = Blueprint("site", __name__)

# The largest value of an integer column (PostgreSQL's INTEGER); larger numbers in a URL
# are treated as absent instead of overflowing the database driver.
MAX_ID = 2**31 - 1

# The names of the errors a reader or the newsroom may meet, in the site's language; the
# English ones are Werkzeug's own. Rarer codes keep Werkzeug's English name.
ERROR_NAMES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    410: _l("Gone"),
    413: _l("Request Entity Too Large"),
    414: _l("Request URI Too Long"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Entity"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a row id, from 1 to MAX_ID."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def small_int(value: str) -> int:
    """A query-string number from 1 to MAX_ID (``request.args.get(..., type=small_int)``)."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


def too_long_query(limit: int) -> Response:
    """The 400 page for a search of more than ``limit`` characters, saying so."""
    message = _(
        "Search for at most %(limit)d characters. Go back and shorten the words.", limit=limit
    )
    page = render_template(
        "errors/error.html", code=400, name=_("Search too long"), message=message
    )
    return make_response(page, 400)


def init_app(app: Flask) -> None:
    """Trust PROXY_FIX proxies; add the ``id`` converter; render errors in the site's layout."""
    if hops := app.config["PROXY_FIX"]:
        # The reader's address and scheme come from the proxies' X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.url_map.converters["id"] = IdConverter
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
    return redirect(url_for("static", filename="favicon.svg", v=None), code=301)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    """The error as a page in the site's layout, keeping headers such as ``Allow``."""
    if isinstance(error, InternalServerError):
        db.session.rollback()
    code = error.code or 500
    if code == 404 and (moved := legacy_redirect(request.full_path)) is not None:
        return moved
    name = ERROR_NAMES.get(code, error.name)
    page = render_template("errors/error.html", code=code, name=name)
    response = error.get_response()
    response.set_data(page)
    response.content_type = "text/html; charset=utf-8"
    return response


def legacy_redirect(address: str) -> Response | None:
    """A 301 to the public article that ``address`` showed on the site it was imported from."""
    if request.method not in {"GET", "HEAD"}:
        return None
    article = Article.at_legacy_path(address)
    if article is None or not article.is_public:
        return None
    return redirect(url_for("articles.detail", slug=article.slug), code=301)


def _csrf_error(_error: CSRFError) -> ResponseReturnValue:
    """A refused state change (no or a stale CSRF token) explained.

    For htmx (a preview after signing in again in another tab) the notice goes into the
    page's session-notice region, so that the form and its text stay as they are.
    """
    if is_htmx():
        return session_notice("auth/_stale_token.html")
    message = _(
        "The form expired or came from another site. Go back, reload the page and try again."
    )
    page = render_template("errors/error.html", code=400, name=_("Form expired"), message=message)
    return page, 400

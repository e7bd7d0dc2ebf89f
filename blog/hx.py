"""The one module that speaks htmx; nothing else imports htmx-flask."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, redirect, render_template, request
from htmx_flask import Htmx

_htmx = Htmx()


def init_app(app: Flask) -> None:
    """Give requests their ``htmx`` headers."""
    _htmx.init_app(app)


def is_htmx() -> bool:
    """Whether htmx sent this request (history restores count too: don't branch GETs on it)."""
    return bool(getattr(request, "htmx", False))


def hx_redirect(url: str) -> Response:
    """Send the browser to ``url``: a full navigation for htmx, a 303 otherwise.

    A plain redirect would be followed by htmx's XHR and its target pasted into a pane.
    """
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def session_notice(template: str, **context: Any) -> Response:
    """A notice for the page's ``#session-notice`` region, leaving the htmx target alone.

    Used when a session or its CSRF token has ended while someone works in a form.
    """
    response = fragment(template, **context)
    response.headers["HX-Retarget"] = "#session-notice"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def fragment(
    template: str, status: int = 200, replace_url: str | None = None, **context: Any
) -> Response:
    """Render a fragment template; ``replace_url`` names the full page it stands for."""
    response = Response(render_template(template, **context), status=status)
    if replace_url is not None:
        response.headers["HX-Replace-Url"] = replace_url
    return response

"""Security headers on every response: Content-Security-Policy and its companions."""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response

from blog.delivery import reader_stylesheet

# Everything the site loads is its own: one script file (htmx), the newsroom's stylesheet, its
# images. No inline script and no eval anywhere; the one inline style, the readers' stylesheet
# in every page's head, is added to style-src by its hash when the app starts.
CONTENT_SECURITY_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

# Powerful browser features the site never uses, denied to it and to anything it embeds.
# (browsing-topics is the ad-interest API that replaced FLoC's interest-cohort, which
# browsers no longer recognise.)
DENIED_FEATURES: tuple[str, ...] = (
    "accelerometer",
    "browsing-topics",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
)

# Full URLs within the site; other sites see only the origin, never an article's or the
# editor's path. ("same-origin" would hide even the origin from sites the newsroom links to,
# which is the traffic credit publishers count on.)
REFERRER_POLICY = "strict-origin-when-cross-origin"

HSTS = "max-age=31536000; includeSubDomains"  # browsers keep to HTTPS for a year, subdomains too

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
    "Permissions-Policy": ", ".join(f"{feature}=()" for feature in DENIED_FEATURES),
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Send the security headers on every response; HSTS too when the site is served by HTTPS."""
    policy = dict(CONTENT_SECURITY_POLICY)
    policy["style-src"] += f" {hash_source(reader_stylesheet(app))}"
    headers = {
        "Content-Security-Policy": "; ".join(
            f"{name} {sources}" for name, sources in policy.items()
        ),
        **SECURITY_HEADERS,
    }
    if app.config["HTTPS"]:
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        """Put the site's security headers on ``response``."""
        response.headers.update(headers)
        return response


def hash_source(text: str) -> str:
    """The CSP source that allows an inline element whose text is exactly ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"

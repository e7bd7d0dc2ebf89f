"""Security headers on every response; HSTS and Secure cookies when served by HTTPS."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from blog import config, create_app, images
from blog.config import ROOT
from blog.extensions import db
from tests.conftest import PASSWORD, csrf_token

READER_CSS = (ROOT / "static" / "css" / "site.css").read_text(encoding="utf-8")
READER_CSS_HASH = base64.b64encode(hashlib.sha256(READER_CSS.encode()).digest()).decode()
REQUIRED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": f"'self' 'sha256-{READER_CSS_HASH}'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"]


def directives(response) -> dict[str, str]:
    """The response's Content-Security-Policy as ``{directive: sources}``."""
    policy = response.headers["Content-Security-Policy"]
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: sources for name, sources in pairs}


def assert_security_headers(response) -> None:
    """Fail unless ``response`` carries the policy and every companion header."""
    assert directives(response).items() >= REQUIRED_DIRECTIVES.items()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = {p.strip() for p in response.headers["Permissions-Policy"].split(",")}
    assert {f"{feature}=()" for feature in DENIED_FEATURES} <= permissions


def sign_in(client: FlaskClient, username: str, remember: bool = False) -> None:
    """Sign ``username`` in through the form, ticking "Keep me signed in" when asked."""
    data = {
        "username": username,
        "password": PASSWORD,
        "csrf_token": csrf_token(client, "/auth/login"),
    }
    if remember:
        data["remember"] = "y"
    assert client.post("/auth/login", data=data).status_code == 303


@pytest.fixture
def https_app(app: Flask) -> Iterator[Flask]:
    """The test app's database and media, configured as served behind HTTPS."""
    shared = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MEDIA_DIR")
    https_app = create_app({**{key: app.config[key] for key in shared}, "HTTPS": True})
    yield https_app
    with https_app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),
        ("/no-such-page", 404),
        ("/static/css/site.css", 200),
        ("/static/no-such-file.css", 404),
        ("/healthz", 200),
        ("/favicon.ico", 301),
    ],
)
def test_pages_errors_static_files_and_json_have_the_security_headers(client, url, status):
    with client.get(url) as response:
        assert response.status_code == status
        assert_security_headers(response)


def test_fragments_have_the_security_headers(hx, make_article):
    make_article("Bridge reopens")
    response = hx.get("/sidebars/latest")
    assert response.status_code == 200 and "Bridge reopens" in response.text
    assert_security_headers(response)


def test_media_files_have_the_security_headers(app, client):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 20)).save(buffer, "JPEG")
    buffer.seek(0)
    with app.app_context():
        name = images.store(buffer).name
    with client.get(f"/media/{name}") as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert_security_headers(response)


def test_method_not_allowed_and_crash_pages_have_the_security_headers(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/crash")
    def crash() -> str:
        """Fail the way a bug would."""
        raise RuntimeError("a bug")

    not_allowed = client.delete("/")
    assert not_allowed.status_code == 405
    assert_security_headers(not_allowed)
    crashed = client.get("/crash")
    assert crashed.status_code == 500
    assert_security_headers(crashed)


def test_policy_allows_no_inline_code_eval_or_other_sites(client):
    response = client.get("/")
    for sources in directives(response).values():
        assert "unsafe" not in sources  # unsafe-inline, unsafe-eval, unsafe-hashes
        assert not {"*", "data:", "blob:", "http:", "https:"} & set(sources.split())


def test_the_only_inline_style_allowed_is_the_readers_stylesheet_every_page_carries(client, auth):
    pages = [client.get("/")]
    auth.login("editor")
    pages.append(client.get("/editor/"))
    for response in pages:
        assert re.findall(r"<style\b[^>]*>(.*?)</style>", response.text, re.DOTALL) == [READER_CSS]
        allowed = directives(response)["style-src"].split()
        assert allowed == ["'self'", f"'sha256-{READER_CSS_HASH}'"]


def test_plain_http_gets_no_hsts_and_cookies_without_secure(client, make_user):
    assert "Strict-Transport-Security" not in client.get("/").headers
    make_user("ed", role="editor")
    sign_in(client, "ed", remember=True)
    assert not client.get_cookie("session").secure
    assert not client.get_cookie("remember_token").secure


def test_https_adds_hsts(https_app):
    response = https_app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_security_headers(response)


def test_https_makes_session_and_remember_cookies_secure_httponly_and_lax(https_app, make_user):
    make_user("ed", role="editor")
    client = https_app.test_client()
    sign_in(client, "ed", remember=True)
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        assert cookie.secure and cookie.http_only and cookie.same_site == "Lax", name


def test_remember_cookie_is_httponly_and_lax(client, make_user):
    make_user("ed", role="editor")
    sign_in(client, "ed", remember=True)
    cookie = client.get_cookie("remember_token")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_flask_https_environment_variable_turns_https_on(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_HTTPS", "true")
    app = Flask(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    config.load(app, None)
    assert app.config["HTTPS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]

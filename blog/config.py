"""Configuration: defaults in code, then instance/config.py, then FLASK_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent  # the repository: templates/, static/, instance/
# A Redis that stops answering costs a request a second, not a hung worker.
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}

DEFAULTS: dict[str, Any] = {
    "SITE_NAME": "Dateline",
    "SITE_DESCRIPTION": "",  # empty: "The latest posts from <SITE_NAME>." in the site language
    "SITE_LOGO": "logo.png",  # under static/: the publisher's logo in structured data
    "TIMEZONE": "UTC",
    "LANGUAGE": "en",
    "ARTICLES_PER_PAGE": 10,
    "SIDEBAR_SIZE": 5,
    "RELATED_SIZE": 4,
    "SITEMAP_SIZE": 50_000,  # URLs in one sitemap, the protocol's limit; more make an index
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 5 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 50_000_000,
    "IMAGE_MAX_BYTES": 20 * 1024 * 1024,
    "MEDIA_STORAGE": "local",  # or "shared": MEDIA_DIR is a folder several app servers mount
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "SIGN_IN_LIMIT_PER_ADDRESS": "10 per minute",
    "SIGN_IN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "RATELIMIT_STORAGE_URI": "memory://",
    "HTTPS": False,
    "PROXY_FIX": 0,
}


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from the defaults, the instance file and the environment."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)
    instance = Path(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'dateline.db'}")
    app.config.setdefault("MEDIA_DIR", str(instance / "media"))
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _stored_secret_key(instance / "secret_key")


def _stored_secret_key(path: Path) -> str:
    """Return the key kept in ``path``, generating it (mode 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race; use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key

"""Dateline: a publishing system for small newsrooms."""

from __future__ import annotations

from typing import Any

from flask import Flask

from blog import (
    archive,
    articles,
    auth,
    autosave,
    backup,
    checks,
    cli,
    config,
    copying,
    database,
    dates,
    delivery,
    editor,
    feeds,
    ghost,
    headers,
    hx,
    i18n,
    images,
    incoming,
    library,
    media,
    metadata,
    notes,
    people,
    profiles,
    redirects,
    rerendering,
    revisions,
    search,
    sections,
    sidebars,
    site,
    sitemaps,
    storage,
    wordpress,
)
from blog.config import ROOT


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, commands."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, test_config)
    database.init_app(app)
    auth.init_app(app)
    hx.init_app(app)
    incoming.init_app(app)  # after hx: extends its request class
    i18n.init_app(app)
    dates.init_app(app)
    delivery.init_app(app)  # before site: the page cache sees the scheme a proxy reports
    site.init_app(app)
    headers.init_app(app)
    cli.init_app(app)
    backup.init_app(app)
    archive.init_app(app)
    copying.init_app(app)
    storage.init_app(app)
    images.init_app(app)
    metadata.init_app(app)
    rerendering.init_app(app)
    search.init_app(app)
    wordpress.init_app(app)
    ghost.init_app(app)
    for module in (
        articles,
        feeds,
        sitemaps,
        search,
        sidebars,
        editor,
        library,
        checks,
        autosave,
        notes,
        redirects,
        revisions,
        people,
        profiles,
        sections,
        auth,
        media,
        site,
    ):
        app.register_blueprint(module.bp)
    return app

"""Languages: interface text through Flask-Babel, in the one language the site is set to."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import Babel

LANGUAGES = {"en": "English", "uk": "Українська"}


def site_language() -> str:
    """The site's language (the ``LANGUAGE`` setting), used for every page and date."""
    return current_app.config["LANGUAGE"]


def init_app(app: Flask) -> None:
    """Check the configured language and install gettext for code and templates."""
    language = app.config["LANGUAGE"]
    if language not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        raise ValueError(f"LANGUAGE is {language!r}; Dateline speaks {choices}")
    Babel(app, locale_selector=site_language)
    app.jinja_env.globals["site_language"] = site_language

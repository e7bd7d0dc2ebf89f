"""Languages: interface text through Flask-Babel, in the one language the site is set to."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_babel import Babel, LazyString, gettext
from markupsafe import Markup, escape

LANGUAGES = {"en": "English", "uk": "Українська"}


class LazyText(LazyString):
    """Text translated when it is used; in a template it is text, escaped like any other."""

    def __html__(self) -> Markup:
        # Flask-Babel's LazyString passes itself off as markup, so a translation with "<" or
        # "&" would become HTML.
        return escape(str(self))


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    """``gettext`` put off until the text is used: for form labels and module-level text."""
    return LazyText(gettext, string, **variables)


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

"""What arrives over HTTP: text without NUL characters, which no person types and PostgreSQL
cannot store or compare, so that a NUL in an address or a form reads the same on every
database instead of failing on one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort
from werkzeug.datastructures import ImmutableMultiDict

NUL = "\x00"


class Parameters(ImmutableMultiDict):
    """Query and form fields with every NUL dropped from names and text values (not files)."""

    def __init__(self, mapping: Any = None) -> None:
        if isinstance(mapping, list):
            mapping = [
                (name.replace(NUL, ""), value.replace(NUL, "") if isinstance(value, str) else value)
                for name, value in mapping
            ]
        super().__init__(mapping)


def init_app(app: Flask) -> None:
    """Parse fields into ``Parameters`` (extending the request class htmx gave the app, so
    after ``hx``); an address with a NUL in it is not found.
    """
    fields: dict[str, Any] = {"parameter_storage_class": Parameters}
    app.request_class = type("Request", (app.request_class,), fields)
    app.url_value_preprocessor(_no_nul_in_addresses)


def _no_nul_in_addresses(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if any(isinstance(value, str) and NUL in value for value in (values or {}).values()):
        abort(404)

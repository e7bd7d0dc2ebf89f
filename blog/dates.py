"""Times: stored in UTC, shown in the newsroom's time zone (``TIMEZONE``) and the site's
language (``LANGUAGE``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Flask, current_app

from blog.i18n import site_language


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """``moment`` in the newsroom's time zone."""
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


@cache
def _locale(language: str) -> Locale:
    """Babel's locale data for ``language``, parsed once: dates are formatted on every listing."""
    return Locale.parse(language)


def _formatted(moment: datetime, width: str) -> str:
    """The newsroom's day of ``moment`` in the site language's ``width`` date format."""
    locale = _locale(site_language())
    return locale.date_formats[width].apply(local(moment).date(), locale)


def long_date(moment: datetime) -> str:
    """News style in English, ``October 26, 2023``; the language's own long form in others."""
    return _formatted(moment, "long")


def short_date(moment: datetime) -> str:
    """Listing style in English, ``Feb 24, 2025``; the language's own short form in others."""
    return _formatted(moment, "medium")


def clock(moment: datetime, zone: bool = False) -> str:
    """``14:05``, or with ``zone`` ``14:05 EET``, in the newsroom's time zone.

    The 24-hour clock and the zone's abbreviation read the same in every language we speak.
    """
    time = local(moment)
    return f"{time:%H:%M} {time.tzname()}" if zone else f"{time:%H:%M}"


def init_app(app: Flask) -> None:
    """Register the date filters for templates."""
    app.add_template_filter(long_date)
    app.add_template_filter(short_date)
    app.add_template_filter(clock)
    app.add_template_filter(local)

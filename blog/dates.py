"""Times: stored in UTC, shown in the newsroom's time zone (the ``TIMEZONE`` setting)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """``moment`` in the newsroom's time zone."""
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def long_date(moment: datetime) -> str:
    """News style: ``October 26, 2023``."""
    day = local(moment)
    return f"{day:%B} {day.day}, {day.year}"


def short_date(moment: datetime) -> str:
    """Listing style: ``Feb 24, 2025``."""
    day = local(moment)
    return f"{day:%b} {day.day}, {day.year}"


def clock(moment: datetime, zone: bool = False) -> str:
    """``14:05``, or with ``zone`` ``14:05 EET``, in the newsroom's time zone."""
    time = local(moment)
    return f"{time:%H:%M} {time.tzname()}" if zone else f"{time:%H:%M}"


def init_app(app: Flask) -> None:
    """Register the date filters for templates."""
    app.add_template_filter(long_date)
    app.add_template_filter(short_date)
    app.add_template_filter(clock)
    app.add_template_filter(local)

"""Demo content for a new install: articles written for Dateline and their illustrations."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from math import sin, tau
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw

from blog.dates import utcnow
from blog.extensions import db
from blog.models import User

ARTICLES = Path(__file__).with_name("articles.json")
AUTHORS = {"ada": "Ada Okafor", "ben": "Ben Hartley", "chioma": "Chioma Eze"}
SIZE = (1600, 900)


def records(folder: Path) -> list[dict[str, Any]]:
    """The demo articles as import records, dated up to now, with illustrations in ``folder``."""
    items = json.loads(ARTICLES.read_text(encoding="utf-8"))
    newest = max(datetime.fromisoformat(item["published_at"]) for item in items)
    shift = utcnow() - timedelta(hours=1) - newest
    for item in items:
        scene = item.pop("scene")
        item["published_at"] = (datetime.fromisoformat(item["published_at"]) + shift).isoformat()
        item["hero_image"] = f"{item['slug']}.jpg"
        draw_scene(scene).save(folder / item["hero_image"], quality=82, optimize=True)
    return items


def ensure_authors() -> None:
    """Add the demo bylines as writers who cannot sign in."""
    for username, name in AUTHORS.items():
        if db.session.scalar(sa.select(User).where(User.username == username)) is None:
            user = User(username=username, display_name=name, role="writer", active=False)
            user.set_password(secrets.token_urlsafe(24))
            db.session.add(user)
    db.session.flush()


def draw_scene(scene: dict[str, Any]) -> Image.Image:
    """Draw a sky gradient, three rolling hills and an optional sun or moon."""
    width, height = SIZE
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    top, bottom = (_rgb(colour) for colour in scene["sky"])
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    if scene.get("orb"):
        colour = (250, 214, 80) if scene["orb"] == "sun" else (232, 234, 238)
        draw.ellipse([width - 380, 90, width - 220, 250], fill=colour)
    hills = _rgb(scene["hills"])
    for layer, (crest, shade) in enumerate(((0.55, 1.35), (0.66, 1.15), (0.78, 0.9))):
        colour = tuple(min(255, round(c * shade)) for c in hills)
        phase = layer * 410
        points = [
            (x, height * crest + 60 * _wave(x + phase, width)) for x in range(0, width + 40, 40)
        ]
        draw.polygon([(0, height), *points, (width, height)], fill=colour)
    return image


def _wave(x: float, width: int) -> float:
    """Rolling hills: two sine waves, one slower than the other."""
    return 0.6 * sin(tau * x / width) + 0.4 * sin(tau * 2.3 * x / width)


def _rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as a tuple."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

"""Generated articles for the benchmark: any number of them, written by bulk inserts.

Each body is two demo articles joined (about 800 words under seven headings), rendered once
through the real pipeline (``Article.render``) and reused with its own title, date, byline,
section and tags. Some articles carry one of a few hero images stored through blog.images.
"""

from __future__ import annotations

import io
import json
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from slugify import slugify
from werkzeug.security import generate_password_hash

from blog import demo, images
from blog.dates import long_date, utcnow
from blog.extensions import db
from blog.models import Article, Section, Tag, User, article_tags

SLUG = "benchmark-article"  # the article page measured, the same at every size
SEARCH_WORD = "library"  # in many headlines and bodies
AUTHORS = {
    "amara": "Amara Nwosu",
    "bruno": "Bruno Alves",
    "clara": "Clara Lindqvist",
    "dev": "Dev Raman",
    "elena": "Elena Petrova",
    "farid": "Farid Haddad",
}
SECTIONS = ("Local", "Culture", "Business", "Politics", "Sport", "Science", "Opinion", "World")
TAGS = (
    *("council", "budget", "transport", "library", "arts", "food", "small business"),
    *("environment", "volunteers", "schools", "technology", "farming", "infrastructure"),
    *("music", "weather", "safety", "theatre", "housing", "health", "elections", "police"),
    *("courts", "parks", "sports", "football", "cycling", "history", "religion", "science"),
    *("energy", "water", "jobs", "tourism", "media", "youth", "elderly", "festivals"),
    *("books", "film"),
)
BATCH = 2_000
ARCHIVE = timedelta(days=3652)  # ten years of articles
FEATURED, DRAFTS, SCHEDULED, WITH_HERO, REVISED = 0.05, 0.01, 0.005, 0.3, 0.1
HEROES = 4
# Bodies are rendered once with this date in their dateline; each article gets its own.
TEMPLATE_DATE = datetime(1999, 12, 31, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Body:
    """A body rendered once: the demo record it opens with, its Markdown, HTML and contents."""

    record: dict[str, Any]
    markdown: str
    html: str
    toc: list[dict[str, Any]]


@dataclass(frozen=True)
class Seeded:
    """What the seeder wrote: the benchmark article's id, all articles, the public ones."""

    article_id: int
    articles: int
    public: int


def bodies() -> list[Body]:
    """The demo articles joined in pairs and rendered through ``Article.render``."""
    records = json.loads(demo.ARTICLES.read_text(encoding="utf-8"))
    made = []
    for first, second in zip(records[::2], records[1::2], strict=True):
        markdown = f"{first['body']}\n\n## {second['title']}\n\n{second['body']}"
        article = Article(body=markdown, dateline=first["dateline"], published_at=TEMPLATE_DATE)
        article.render()
        made.append(Body(first, markdown, article.body_html, article.toc))
    return made


def heroes(records: list[dict[str, Any]]) -> list[tuple[images.StoredImage, dict[str, Any]]]:
    """A few demo illustrations stored as uploads, each with the record giving its alt text."""
    stored = []
    for record in records[:HEROES]:
        picture = io.BytesIO()
        demo.draw_scene(record["scene"]).save(picture, "JPEG", quality=82, optimize=True)
        picture.seek(0)
        stored.append((images.store(picture), record))
    return stored


def seed(count: int) -> Seeded:
    """Write ``count`` articles, the benchmark article among them, to an empty database.

    Runs in an app context. About 1% are drafts, 0.5% scheduled and 5% featured; the rest
    are spread over ten years up to an hour ago.
    """
    rng = random.Random(1)  # the same archive on every run
    now = utcnow()
    templates = bodies()
    pictures = heroes([body.record for body in templates])
    _insert_labels(now)
    benchmark_id = max(1, count - max(1, count // 100))  # recent, but not the newest
    public = 0
    rows: list[dict[str, Any]] = []
    tags: list[dict[str, int]] = []
    for number, published in enumerate(_dates(rng, count, now), start=1):
        row = _article(rng, number, published, now, templates, pictures, number == benchmark_id)
        public += row["status"] == "published" and row["published_at"] <= now
        rows.append(row)
        picked = rng.sample(range(1, len(TAGS) + 1), rng.randint(2, 4))
        tags += [{"article_id": number, "tag_id": tag} for tag in picked]
        if len(rows) == BATCH or number == count:
            db.session.execute(sa.insert(Article.__table__), rows)
            db.session.execute(sa.insert(article_tags), tags)
            db.session.commit()
            rows, tags = [], []
    return Seeded(benchmark_id, count, public)


def reindex_search() -> str:
    """Rebuild the search index, once the app has one; what was done, for the report."""
    try:
        from blog.search import reindex_all  # written alongside; absent in older checkouts
    except ImportError:
        return "no search index to build (blog.search.reindex_all does not exist yet)"
    indexed = reindex_all()
    return "no search index" if indexed is None else f"search index of {indexed:,} articles rebuilt"


def _insert_labels(now: datetime) -> None:
    """The authors (who cannot sign in: nobody knows the password), sections and tags."""
    password_hash = generate_password_hash(secrets.token_hex(16))
    authors = [
        {
            "id": number,
            "username": username,
            "display_name": name,
            "password_hash": password_hash,
            "role": "writer",
            "active": True,
            "created_at": now - ARCHIVE,
            "session_token": "",
        }
        for number, (username, name) in enumerate(AUTHORS.items(), start=1)
    ]
    db.session.execute(sa.insert(User.__table__), authors)
    for model, names in ((Section, SECTIONS), (Tag, TAGS)):
        labels = [
            {"id": number, "name": name, "slug": slugify(name)}
            for number, name in enumerate(names, start=1)
        ]
        db.session.execute(sa.insert(model.__table__), labels)


def _dates(rng: random.Random, count: int, now: datetime) -> Iterator[datetime]:
    """``count`` moments over the archive, oldest first, as ids follow time on a real site."""
    offsets = sorted((rng.uniform(1 / 24, ARCHIVE.days) for _ in range(count)), reverse=True)
    return (now - timedelta(days=offset) for offset in offsets)


def _article(
    rng: random.Random,
    number: int,
    moment: datetime,
    now: datetime,
    templates: list[Body],
    pictures: list[tuple[images.StoredImage, dict[str, Any]]],
    measured: bool,
) -> dict[str, Any]:
    """The columns of article ``number``, written around ``moment``.

    The ``measured`` one, the benchmark article, is public, not featured, and has a hero image.
    """
    body = templates[number % len(templates)]
    record = body.record if measured else rng.choice(templates).record
    chance = 1.0 if measured else rng.random()
    status, published, revised = "published", moment, moment
    if chance < DRAFTS:
        status, published, revised = "draft", None, None
    elif chance < DRAFTS + SCHEDULED:
        published, revised = now + timedelta(days=rng.uniform(1, 30)), None
    elif chance < DRAFTS + SCHEDULED + REVISED:
        revised = min(now, moment + timedelta(hours=rng.uniform(1, 120)))
    hero = pictures[0] if measured else None
    if not measured and rng.random() < WITH_HERO:
        hero = rng.choice(pictures)
    return {
        "id": number,
        "title": record["title"] if measured else f"{record['title']} ({number:,})",
        "slug": SLUG if measured else f"{slugify(record['title'], max_length=80)}-{number}",
        "summary": record["summary"],
        "dateline": body.record["dateline"],
        "body": body.markdown,
        # What Article.render makes: the dateline carries the publication date, or a draft's save.
        "body_html": body.html.replace(long_date(TEMPLATE_DATE), long_date(published or moment), 1),
        "toc": body.toc,
        "author_id": rng.randint(1, len(AUTHORS)),
        "section_id": rng.randint(1, len(SECTIONS)),
        "featured": not measured and status == "published" and rng.random() < FEATURED,
        "status": status,
        "published_at": published,
        "created_at": moment - timedelta(hours=rng.uniform(1, 48)),
        "updated_at": revised or moment,
        "revised_at": revised,
        **_hero(hero),
        "version": 1,
        "deleted_at": None,
    }


def _hero(picture: tuple[images.StoredImage, dict[str, Any]] | None) -> dict[str, Any]:
    """The hero image columns: one of the stored illustrations, or none."""
    if picture is None:
        return dict.fromkeys(("hero_image", "hero_width", "hero_height")) | {
            "hero_alt": "",
            "hero_caption": "",
            "hero_credit": "",
        }
    image, record = picture
    return {
        "hero_image": image.name,
        "hero_width": image.width,
        "hero_height": image.height,
        "hero_alt": record["hero_alt"],
        "hero_caption": record["hero_caption"],
        "hero_credit": record["hero_credit"],
    }

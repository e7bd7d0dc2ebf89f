"""Importing articles from JSON records through the editor's form: all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage, MultiDict

from blog.extensions import db
from blog.forms import ArticleForm
from blog.models import Article, User
from blog.saving import save_article, unique_slug

TEXT_KEYS = ("title", "body", "slug", "summary", "dateline", "section", "status")
HERO_KEYS = ("hero_alt", "hero_caption", "hero_credit")
KEYS = frozenset(
    {*TEXT_KEYS, *HERO_KEYS, "tags", "author", "featured", "published_at", "hero_image"}
)


@dataclass
class RecordError:
    """What is wrong with one record: its index in the list, the field, the reason."""

    index: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"record {self.index}: {self.field}: {self.message}"


def import_records(records: Any, base: Path, default_author: User) -> list[Article]:
    """Validate every record, then save them all in one transaction.

    Raises ``ImportFailed`` listing every bad record; nothing is saved then.
    """
    if not isinstance(records, list):
        raise ImportFailed([RecordError(0, "file", "expected a JSON list of article objects")])
    errors: list[RecordError] = []
    ready: list[tuple[ArticleForm, User]] = []
    slugs: dict[str, int] = {}
    for index, record in enumerate(records):
        problems, form, author = _check(index, record, base, default_author)
        slug = form.slug.data if form is not None else None
        if slug and slug in slugs:
            problems.append(RecordError(index, "slug", f"same slug as record {slugs[slug]}"))
        elif slug:
            slugs[slug] = index
        errors += problems
        if not problems and form is not None and author is not None:
            ready.append((form, author))
    if errors:
        raise ImportFailed(errors)
    articles = []
    for form, author in ready:
        # Slugs made from titles keep clear of the ones later records ask for.
        if not form.slug.data:
            form.slug.data = unique_slug(form.title.data, taken=slugs)
            slugs[form.slug.data] = -1
        # An archive's article dates from its publication, not from the import.
        article = save_article(form, author, at=form.publication_time())
        articles.append(article)
    db.session.commit()
    return articles


class ImportFailed(Exception):
    """Some records are bad; ``errors`` says which and why."""

    def __init__(self, errors: list[RecordError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


def _check(
    index: int, record: Any, base: Path, default_author: User
) -> tuple[list[RecordError], ArticleForm | None, User | None]:
    """Turn one record into a validated form, or say what is wrong with it."""
    if not isinstance(record, dict):
        return [RecordError(index, "record", "expected an object")], None, None
    errors = [RecordError(index, key, "unknown key") for key in sorted(set(record) - KEYS)]
    data: MultiDict[str, Any] = MultiDict()
    for key in (*TEXT_KEYS, *HERO_KEYS):
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(RecordError(index, key, "must be text"))
        elif value is not None:
            data[key] = value
    tags = record.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        errors.append(RecordError(index, "tags", "must be a list of text"))
    else:
        data["tags"] = ", ".join(tags)
    if not isinstance(record.get("featured", False), bool):
        errors.append(RecordError(index, "featured", "must be true or false"))
    elif record.get("featured"):
        data["featured"] = "y"
    if record.get("published_at") is not None:
        try:
            data["published_at"] = _local_time(record["published_at"])
        except (TypeError, ValueError, OverflowError):
            errors.append(RecordError(index, "published_at", "must be an ISO 8601 date and time"))
    if record.get("hero_image") is not None:
        hero, problem = _open_hero(record["hero_image"], base)
        if problem:
            errors.append(RecordError(index, "hero_image", problem))
        else:
            data["hero_image"] = hero
    author: User | None = default_author
    if record.get("author") is not None:
        name = record["author"]
        found = isinstance(name, str) and db.session.scalar(
            sa.select(User).filter_by(username=name)
        )
        author = found or None
        if author is None:
            errors.append(RecordError(index, "author", f"no user named {name!r}"))
    # An archive was published elsewhere already: its short items are not held back here.
    form = ArticleForm(formdata=data, meta={"csrf": False}, can_publish=True, checks=False)
    if not form.validate():
        for field, messages in form.errors.items():
            errors += [RecordError(index, field, message) for message in messages]
    return errors, form, author


def _local_time(value: str) -> str:
    """An ISO 8601 time as the form's newsroom-local field text (no zone: newsroom time)."""
    moment = datetime.fromisoformat(value)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    moment = moment.astimezone(zone) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _open_hero(value: Any, base: Path) -> tuple[FileStorage | None, str]:
    """The hero file, found relative to the JSON file and never outside its folder."""
    if not isinstance(value, str) or not value:
        return None, "must be a file path relative to the JSON file"
    path = (base / value).resolve()
    if not path.is_relative_to(base.resolve()):
        return None, "must stay inside the JSON file's folder"
    if not path.is_file():
        return None, f"no file {value!r} next to the JSON file"
    return FileStorage(stream=BytesIO(path.read_bytes()), filename=path.name), ""

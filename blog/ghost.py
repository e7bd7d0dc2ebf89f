"""``import-ghost``: the posts of a Ghost JSON export (Ghost 1 to 5), with images and addresses.

A Ghost export is one JSON document, read whole; the editor's own formats (``mobiledoc``,
``lexical``) are dropped as they are read, since the ``html`` beside them is what comes in.
Tags, authors and each post's metadata are joined to their posts by id, and every post goes
through ``blog.migrating`` as WordPress's do.

A body is Ghost's HTML. Its cards (images with captions, HTML) are ordinary HTML with
classes, which the sanitizer reduces to what the site allows; a bookmark card becomes a link
with its description. The HTML is laid out as Markdown's HTML blocks (``_blocks``), so the
Markdown step leaves it as it was written.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask

from blog.migrating import (
    HTML_COMMENT,
    ExportBroken,
    ImportedPost,
    Migration,
    Report,
    autop,
    import_command,
    import_text,
    summary_text,
)
from blog.models import User

STATUSES = {
    "published": "published",
    "scheduled": "published",  # at its date
    "draft": "draft",
    # Emailed as a newsletter and never shown on the site: not made public by moving.
    "sent": "draft",
}
# How Ghost 4 and later write the site's own address in an export.
GHOST_URL = "__GHOST_URL__"
IMAGES = "/content/images/"
# The editor's formats, which the export carries beside the HTML made from them.
SOURCES = frozenset({"mobiledoc", "lexical"})
# A tag that opens an HTML block in Markdown (CommonMark's kinds 1 and 6) where a line starts.
_BLOCK_START = re.compile(
    r"<(?:address|article|aside|blockquote|details|div|dl|figure|footer|h[1-6]|header|hr|iframe"
    r"|ol|p|pre|script|section|style|table|ul)[\s/>]",
    re.IGNORECASE,
)
_PRE = re.compile(r"(<pre[\s>].*?</pre\s*>)", re.IGNORECASE | re.DOTALL)
_BOOKMARK = re.compile(r"<figure\b[^>]*\bkg-bookmark-card\b.*?</figure\s*>", re.I | re.S)
_HREF = re.compile(r"""<a\b[^>]*?\shref\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_BOOKMARK_PART = re.compile(
    r"<div\b[^>]*\bkg-bookmark-(title|description)\b[^>]*>(.*?)</div>"
    r"|<figcaption\b[^>]*>(.*?)</figcaption>",
    re.IGNORECASE | re.DOTALL,
)
# A size Ghost made of an image: ``size/w600/2024/03/x.jpg``, ``size/w600/format/webp/...``.
_SIZED = re.compile(r"^size/[^/]+/(?:format/[^/]+/)?")


@dataclass
class Export:
    """The export's tables: the posts in order, the rest by id, joins by post id."""

    posts: list[dict[str, Any]]
    users: dict[str, dict[str, Any]]
    tags: dict[str, dict[str, Any]]
    meta: dict[str, dict[str, Any]]
    # Post id: the ids of its tags and of its authors, the primary one first.
    post_tags: dict[str, list[str]]
    post_authors: dict[str, list[str]]


def init_app(app: Flask) -> None:
    """Add ``import-ghost`` to ``flask``."""
    app.cli.add_command(import_ghost)


@import_command("import-ghost", "A copy of the old site's content/images folder, for its images.")
def import_ghost(export: Path, media: Path | None, dry_run: bool = False) -> Report:
    """Import the posts of a Ghost JSON export, with their images and old addresses."""
    ghost = read_export(export)
    report = Report(export.name, dry_run=dry_run)
    migration = Migration(report, media)
    locate = _locator(migration.media)
    with migration.running():
        for row in ghost.posts:
            with migration.post(_label(row)):
                if (post := _post(row, ghost, migration, locate)) is not None:
                    migration.save(post)
    return report


def read_export(export: Path) -> Export:
    """The export's tables; ExportBroken when it is not JSON or not a Ghost export."""
    try:
        with export.open(encoding="utf-8") as file:
            document = json.load(file, object_pairs_hook=_without_sources)
    except UnicodeDecodeError as error:
        raise ExportBroken(f"{export.name} is not readable JSON: not UTF-8 text") from error
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ExportBroken(f"{export.name} is not readable JSON: {error.msg} ({where})") from error
    except RecursionError as error:
        raise ExportBroken(f"{export.name} is not readable JSON: nested too deeply") from error
    if isinstance(document, dict) and isinstance(document.get("db"), list) and document["db"]:
        document = document["db"][0]  # Ghost 1 and later; older exports have no "db"
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise ExportBroken(f"{export.name} is not a Ghost export: no data.posts")
    return Export(
        posts=_rows(data, "posts"),
        users=_by_id(_rows(data, "users"), "id"),
        tags=_by_id(_rows(data, "tags"), "id"),
        meta=_by_id(_rows(data, "posts_meta"), "post_id"),
        post_tags=_joined(_rows(data, "posts_tags"), "tag_id"),
        post_authors=_joined(_rows(data, "posts_authors"), "author_id"),
    )


def _without_sources(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object of the export without the editor's formats, which are not imported.

    Its text is taken without the characters XML cannot carry (``import_text``), up front.
    """
    return {
        key: import_text(value) if isinstance(value, str) else value
        for key, value in pairs
        if key not in SOURCES
    }


def _rows(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The rows of one table of the export (none when it is missing)."""
    rows = data.get(table)
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _by_id(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """``rows`` by their ``key`` column."""
    return {str(row.get(key)): row for row in rows}


def _joined(rows: list[dict[str, Any]], key: str) -> dict[str, list[str]]:
    """A join table as post id: the ``key`` ids, in their ``sort_order``."""
    joined: dict[str, list[str]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: _number(row.get("sort_order"))):
        joined[str(row.get("post_id"))].append(str(row.get(key)))
    return joined


def _is_page(row: dict[str, Any]) -> bool:
    """Whether ``row`` is a page (Ghost 1 and older have "page": true where later ones a type)."""
    return row.get("type") == "page" or row.get("page") == 1


def _label(row: dict[str, Any]) -> str:
    """How the report names the post ``row``: ``post harbour-reopens “Harbour reopens”``."""
    name = _text(row.get("slug")) or _id(row.get("id"))
    return f"{'page' if _is_page(row) else 'post'} {name} “{_text(row.get('title')).strip()}”"


def _post(
    row: dict[str, Any], ghost: Export, migration: Migration, locate: Callable[[str], str | None]
) -> ImportedPost | None:
    """The post ``row`` as an ImportedPost; None when it is skipped or was imported before."""
    report, label = migration.report, _label(row)
    post_id, slug, title = _id(row.get("id")), _text(row.get("slug")), _text(row.get("title"))
    if _is_page(row):
        report.count("pages skipped")
        report.change(label, "skipped: pages are not imported")
        return None
    ghost_status = _text(row.get("status"))
    if ghost_status not in STATUSES:
        migration.skip(label, f"unknown status {ghost_status!r}")
        return None
    uuid = _id(row.get("uuid"))
    if not (uuid or post_id):
        migration.skip(label, "no id (id or uuid)")
        return None
    imported_from = f"ghost:{uuid or post_id}"[:200]
    if migration.already_imported(imported_from):
        report.change(label, "already imported")
        return None
    status = STATUSES[ghost_status]
    if ghost_status == "sent":
        report.change(label, "sent only as a newsletter: imported as a draft")
    visibility = _text(row.get("visibility")) or "public"
    if visibility != "public" and status == "published":
        report.change(label, f"{visibility}-only on Ghost: imported as a draft")
        status = "draft"
    source = _text(row.get("html"))
    if not source.strip() and (text := _text(row.get("plaintext")).strip()):
        source = autop(html.escape(text))
        report.change(label, "no HTML in the export: its plain text imported, as a draft")
        status = "draft"
    if not title.strip():
        title = f"Untitled post {slug or post_id}"
        report.change(label, f"no title: {title!r} used")
    meta = ghost.meta.get(post_id, {})
    post = ImportedPost(
        imported_from=imported_from,
        label=label,
        author=_author(row, ghost, migration, locate, label),
        title=title,
        body=migration.localize_images(_blocks(source), locate, label).replace(GHOST_URL, ""),
        slug=slug,
        summary=summary_text(
            _text(row.get("custom_excerpt")) or _text(meta.get("meta_description"))
        ),
        status=status,
        published_at=_published(row, status, label, report),
        featured=bool(row.get("featured")),
        legacy_paths=[f"/{slug}/"] if slug else [],
    )
    if uuid:
        post.legacy_paths.append(f"/p/{uuid}/")
    _sort_tags(ghost.post_tags.get(post_id, []), ghost, post, report)
    _feature(row, meta, post, migration, locate)
    return post


def _published(row: dict[str, Any], status: str, label: str, report: Report) -> datetime | None:
    """When a post to publish was (or is to be) published, as a moment; None for a draft."""
    if status != "published":
        return None
    value = row.get("published_at")
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)  # Ghost 0.x: milliseconds
        if isinstance(value, str) and value.strip():
            moment = datetime.fromisoformat(value.strip())
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # Ghost keeps UTC
    except (ValueError, OverflowError, OSError):
        report.change(label, "date not readable: left out")
    return None


def _author(
    row: dict[str, Any],
    ghost: Export,
    migration: Migration,
    locate: Callable[[str], str | None],
    label: str,
) -> User:
    """The post's primary author (co-authors reported), made a member with bio and photo."""
    ids = ghost.post_authors.get(str(row.get("id"))) or [str(row.get("author_id"))]
    people = [ghost.users[user_id] for user_id in ids if user_id in ghost.users]
    if not people:
        migration.report.change(label, "no author in the export: 'ghost' used")
        return migration.author("ghost", "Ghost")
    for other in people[1:]:
        name = _text(other.get("name")) or _text(other.get("slug"))
        migration.report.change(label, f"co-author {name!r} left out (one author per article)")
    person = people[0]
    photo = _text(person.get("profile_image"))
    return migration.author(
        _text(person.get("slug")) or str(person.get("id")),
        _text(person.get("name")),
        _text(person.get("bio")),
        locate(photo) if photo else None,
    )


def _sort_tags(tag_ids: list[str], ghost: Export, post: ImportedPost, report: Report) -> None:
    """The primary tag is the section, the others are tags; internal (``#``) tags are left out."""
    names = []
    for tag_id in tag_ids:
        tag = ghost.tags.get(tag_id, {})
        name = _text(tag.get("name")).strip()
        if name.startswith("#") or tag.get("visibility") == "internal":
            report.change(post.label, f"internal tag {name!r} left out")
        elif name:
            names.append(name)
    if names:
        post.section, post.tags = names[0], names[1:]


def _feature(
    row: dict[str, Any],
    meta: dict[str, Any],
    post: ImportedPost,
    migration: Migration,
    locate: Callable[[str], str | None],
) -> None:
    """The feature image as the hero, with its alt text and caption (``posts_meta`` in Ghost 5)."""
    url = _text(row.get("feature_image"))
    if not url:
        return
    relative = locate(url)
    if relative is None:
        reason = "is not the site's" if _readable(url) else "is not a readable address"
        migration.report.change(post.label, f"featured image {url} {reason}: left out")
        return
    alt = _text(meta.get("feature_image_alt") or row.get("feature_image_alt"))
    caption = summary_text(
        _text(meta.get("feature_image_caption") or row.get("feature_image_caption"))
    )
    post.hero = migration.image(relative, alt, caption, post.label)
    post.hero_alt, post.hero_caption = alt, caption


def _blocks(source: str) -> str:
    """Ghost's HTML as Markdown's HTML blocks, which the Markdown step passes through as they are.

    A blank line ends such a block and the text after it would be read as Markdown, while in
    HTML a line break means no more than a space outside ``pre``: so the HTML becomes one line
    opening with a block tag, broken only where a ``pre`` (a block that blank lines do not
    end) starts.
    """
    text = _BOOKMARK.sub(_bookmark, HTML_COMMENT.sub("", source)).strip()
    if text and not _BLOCK_START.match(text):
        text = f"<div>{text}</div>"
    parts = _PRE.split(text)
    return "\n\n".join(
        " ".join(part.splitlines()) if index % 2 == 0 else part for index, part in enumerate(parts)
    )


def _bookmark(card: re.Match[str]) -> str:
    """A bookmark card as a link with its description (its icon and thumbnail left out)."""
    href = _HREF.search(card[0])
    parts = {
        (part[1] or "caption").lower(): part[2] or part[3] or ""
        for part in _BOOKMARK_PART.finditer(card[0])
    }
    if href is None or not parts.get("title", "").strip():
        return card[0]
    link = f'<a href="{href[2]}">{parts["title"].strip()}</a>'
    text = "<br>".join(filter(None, [link, parts.get("description", "").strip()]))
    caption = parts.get("caption", "").strip()
    if caption:
        return f"<figure><p>{text}</p><figcaption>{caption}</figcaption></figure>"
    return f"<p>{text}</p>"


def _locator(media: Path | None) -> Callable[[str], str | None]:
    """A function giving the path under ``content/images`` of a URL of the site's images.

    Ghost writes the site's address as ``__GHOST_URL__``; a URL naming a host (as older
    exports write the site's) is taken as the site's when the media folder has its file. Of a
    size Ghost made (``size/w600/``) it gives the original: this site makes its own sizes.
    """

    def locate(url: str) -> str | None:
        if not _readable(url):
            return None
        parts = urlsplit(url.removeprefix(GHOST_URL))
        if parts.scheme not in {"", "http", "https"}:
            return None
        _before, found, relative = unquote(parts.path).partition(IMAGES)
        relative = _SIZED.sub("", relative)
        if not found or not relative:
            return None
        if parts.netloc and (media is None or not (media / relative).is_file()):
            return None
        return relative

    return locate


def _readable(url: str) -> bool:
    """Whether ``url`` can be read as an address at all (``http://[x/`` cannot)."""
    try:
        urlsplit(url.removeprefix(GHOST_URL))
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    """A text field of the export; ``""`` for null or anything that is not text."""
    return value if isinstance(value, str) else ""


def _id(value: Any) -> str:
    """An id of the export (text or a number) as text; ``""`` when there is none."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip() if isinstance(value, str | int) else ""


def _number(value: Any) -> int:
    """A ``sort_order`` of the export; 0 when it is missing."""
    return value if isinstance(value, int) else 0

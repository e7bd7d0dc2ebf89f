"""Moving a newsroom's archive in from another system: what every importer shares.

An importer (``blog.wordpress``; Ghost's the same way) reads its export and hands each post
to a ``Migration`` as an ``ImportedPost``. The migration creates the authors (inactive
writers), stores images through the upload pipeline into the media library, saves each post
through the editor's form and ``save_article`` (the same validation and sanitizing, without
the publish checks), keeps where it came from and its old addresses, and writes a ``Report``
of what it counted, changed and skipped.

Posts are committed in batches, so that memory stays flat however long the archive: a bad
post is reported and skipped, never fatal; an error that stops the run keeps the batches
committed before it, and running the import again goes on from there, because a post whose
``imported_from`` is found is left as it is. A dry run does everything in one transaction
that is rolled back, with images stored in a temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from slugify import slugify
from werkzeug.datastructures import MultiDict

from blog import images
from blog.body_images import MEDIA_PATH
from blog.cli import USERNAME
from blog.dates import utcnow
from blog.extensions import db
from blog.forms import ArticleForm
from blog.models import BIO_MAX, Article, LegacyPath, MediaItem, Section, Tag, User
from blog.sanitize import clean
from blog.saving import save_article, unique_slug
from blog.search import plain_text

BATCH_SIZE = 200
# The report's counts, in the order it prints them; a kind no run counted is left out.
KINDS = (
    "posts imported",
    "already imported",
    "posts skipped",
    "pages skipped",
    "attachments read",
    "other items skipped",
    "authors",
    "sections",
    "tags",
    "images",
    "redirects",
)
# What the rows added during a run are counted as.
ADDED = {"authors": User, "sections": Section, "tags": Tag, "images": MediaItem}
# The longest values the form takes (blog.forms.ArticleForm, blog.models).
LIMITS = {"title": 200, "summary": 400, "section": 60, "tag": 60, "alt": 300, "caption": 300}
LEGACY_PATH_MAX = 500  # LegacyPath.path
# An image file a library item can be made of, by the end of its name.
IMAGE_ENDINGS = (".jpg", ".jpeg", ".png", ".webp", ".gif")
_LINKING_TAG = re.compile(r"<(?:img|a)\s[^>]*>", re.IGNORECASE)
_URL_ATTRIBUTE = re.compile(r"""(\s(?:src|href)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_ALT = re.compile(r"""\salt\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)


@dataclass
class Change:
    """Something in the export skipped or changed on the way in, and why."""

    item: str
    reason: str

    def __str__(self) -> str:
        return f"{self.item}: {self.reason}"


@dataclass
class Report:
    """What an import counted per kind and every item it skipped or changed."""

    source: str
    dry_run: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)

    def count(self, kind: str, number: int = 1) -> None:
        """Count ``number`` more of ``kind`` (one of KINDS)."""
        self.counts[kind] += number

    def change(self, item: str, reason: str) -> None:
        """Note that ``item`` was skipped or changed, and why."""
        self.changes.append(Change(item, reason))

    def lines(self) -> list[str]:
        """The report as the command prints it."""
        title = f"Import of {self.source}"
        lines = [f"{title} (dry run: nothing was changed)" if self.dry_run else title]
        width = max(map(len, [*KINDS, *self.counts]))
        kinds = [*KINDS, *sorted(set(self.counts) - set(KINDS))]
        lines += [f"  {kind:<{width}}  {self.counts[kind]}" for kind in kinds if self.counts[kind]]
        if self.changes:
            lines += ["Skipped or changed:", *(f"  {change}" for change in self.changes)]
        return lines


@dataclass
class ImportedPost:
    """One post of an export, in this site's terms, ready for ``Migration.save``.

    ``label`` names it in the report (``post 12 “Harbour reopens”``); ``body`` is what the
    editor's body field takes (Markdown, HTML allowed); ``published_at`` is aware; ``hero``
    comes from ``Migration.image``; ``legacy_paths`` are old addresses, URLs or paths, in any
    form ``LegacyPath.normalize`` takes.
    """

    imported_from: str
    label: str
    author: User
    title: str
    body: str = ""
    slug: str = ""
    summary: str = ""
    status: str = "draft"
    published_at: datetime | None = None
    section: str = ""
    tags: list[str] = field(default_factory=list)
    featured: bool = False
    hero: images.StoredImage | None = None
    hero_alt: str = ""
    hero_caption: str = ""
    hero_credit: str = ""
    legacy_paths: list[str] = field(default_factory=list)


class Migration:
    """One run of an importer: authors, images and posts in, a report out.

    Use it as ``with migration.running(): ...``; ``media`` is the local copy of the old
    site's uploads (None when not given).
    """

    def __init__(self, report: Report, media: Path | None) -> None:
        self.report = report
        self.media = media.resolve() if media is not None else None
        self._authors: dict[str, int] = {}
        self._images: dict[str, images.StoredImage | None] = {}
        self._unsaved = 0

    @contextmanager
    def running(self) -> Iterator[Migration]:
        """Run the import: commit it in batches, or roll it all back for a dry run or an error."""
        before = self._totals()
        with self._media_for_the_run():
            try:
                yield self
                self._checkpoint()
                self._count_added(before)
            except BaseException:
                db.session.rollback()
                raise
            if self.report.dry_run:
                db.session.rollback()

    def already_imported(self, imported_from: str) -> bool:
        """Whether a post was imported before (then counted "already imported")."""
        found = db.session.scalar(
            sa.select(Article.id).where(Article.imported_from == imported_from)
        )
        if found is not None:
            self.report.count("already imported")
        return found is not None

    def author(
        self, username: str, display_name: str, bio: str = "", photo: str | None = None
    ) -> User:
        """The member writing as ``username`` on the old site; new ones are inactive writers.

        Call it for every post (users are not kept between batches). A username this site
        cannot take is changed to one it can; an existing member with it is taken as theirs.
        A new one gets ``bio`` and the file ``photo`` (relative to the media folder).
        """
        wanted = _username(username)
        if wanted in self._authors:
            return db.session.get_one(User, self._authors[wanted])
        user = db.session.scalar(sa.select(User).where(User.username == wanted))
        if user is not None:
            self.report.change(f"author {username}", f"matched the member {wanted!r}")
        else:
            if wanted != username:
                self.report.change(f"author {username}", f"username became {wanted!r}")
            name = " ".join(display_name.split())[:100] or wanted
            # Inactive, with a password nobody knows: an admin reactivates them and sends a
            # set-password link (/admin/people) when they are to sign in.
            user = User(
                username=wanted,
                display_name=name,
                bio=bio.strip()[:BIO_MAX],
                role="writer",
                active=False,
            )
            user.set_password(secrets.token_urlsafe(32))
            if photo and (portrait := self._store(photo, f"author {username}")) is not None:
                user.photo = portrait.name
                user.photo_width, user.photo_height = portrait.width, portrait.height
            db.session.add(user)
            db.session.flush()
        self._authors[wanted] = user.id
        return user

    def image(self, relative: str, alt: str, caption: str, item: str) -> images.StoredImage | None:
        """Store the file ``relative`` to the media folder in the library, described; or None.

        The same file is stored once per run; a missing or refused one is reported for ``item``.
        """
        if relative in self._images:
            return self._images[relative]
        stored = self._store(relative, item)
        if stored is not None:
            description = {"alt": alt[: LIMITS["alt"]], "caption": caption[: LIMITS["caption"]]}
            MediaItem.keep(stored, None, **description)
        self._images[relative] = stored
        return stored

    def _store(self, relative: str, item: str) -> images.StoredImage | None:
        """Store the file ``relative`` to the media folder through the upload pipeline; or None.

        A missing or refused file is reported for ``item``.
        """
        path = self._media_file(relative, item)
        if path is None:
            return None
        try:
            with path.open("rb") as file:
                return images.store(file)
        except images.ImageRejected as error:
            self.report.change(item, f"image {relative} not imported: {error}")
            return None

    def localize_images(self, html: str, locate: Callable[[str], str | None], item: str) -> str:
        """``html`` with every ``src``/``href`` into the old site's uploads made ``/media/<name>``.

        ``locate`` turns such a URL into a path relative to the media folder (None for any
        other URL); a link to a file that is not an image stays as it was. An image joins the
        library described by its ``alt`` text.
        """

        def local_tag(tag: re.Match[str]) -> str:
            alt = _ALT.search(tag[0])
            description = unescape(alt[2]) if alt else ""

            def local(match: re.Match[str]) -> str:
                relative = locate(unescape(match[3]).strip())
                if relative is None or not relative.lower().endswith(IMAGE_ENDINGS):
                    return match[0]
                stored = self.image(relative, description, "", item)
                if stored is None:
                    return match[0]
                return f"{match[1]}{match[2]}{MEDIA_PATH}{stored.name}{match[2]}"

            return _URL_ATTRIBUTE.sub(local, tag[0])

        return _LINKING_TAG.sub(local_tag, html)

    def save(self, post: ImportedPost) -> Article | None:
        """Save ``post`` as a new article through the editor's form; None when it is skipped."""
        form = ArticleForm(
            formdata=self._form_data(post),
            meta={"csrf": False},
            can_publish=True,
            checks=False,  # published elsewhere already: nothing is held back here
        )
        if not form.validate():
            reasons = "; ".join(
                f"{name}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            )
            self.report.change(post.label, f"skipped: {reasons}")
            self.report.count("posts skipped")
            return None
        # It was last changed when it was published, unless that is still to come.
        published = post.published_at
        at = published if published is not None and published <= utcnow() else None
        article = save_article(form, post.author, at=at)
        article.imported_from = post.imported_from
        self._keep_paths(article, post)
        self.report.count("posts imported")
        self._unsaved += 1
        if self._unsaved >= BATCH_SIZE:
            self._checkpoint()
        return article

    def _form_data(self, post: ImportedPost) -> MultiDict[str, Any]:
        """The editor form's fields for ``post``, cut to what they take (each cut reported)."""
        data: MultiDict[str, Any] = MultiDict()
        data["title"] = self._cut(post, "title", " ".join(post.title.split()))
        data["summary"] = self._cut(post, "summary", " ".join(post.summary.split()))
        data["body"] = post.body
        data["slug"] = self._slug(post, data["title"])
        data["section"] = self._cut(post, "section", post.section.strip())
        data["tags"] = ", ".join(
            self._cut(post, "tag", name.replace(",", " ").strip()) for name in post.tags
        )
        status = post.status
        if status == "published" and not post.body.strip():
            self.report.change(post.label, "published with an empty body: imported as a draft")
            status = "draft"
        data["status"] = status
        if post.published_at is not None and status == "published":
            zone = ZoneInfo(current_app.config["TIMEZONE"])
            data["published_at"] = post.published_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")
        if post.featured:
            data["featured"] = "y"
        if post.hero is not None:
            data["hero_from_library"] = post.hero.name
            alt = post.hero_alt.strip()
            if not alt:
                alt = data["title"]
                self.report.change(post.label, "featured image without alt text: the title used")
            data["hero_alt"] = alt[: LIMITS["alt"]]
            data["hero_caption"] = post.hero_caption.strip()[: LIMITS["caption"]]
            data["hero_credit"] = post.hero_credit.strip()[:120]
        return data

    def _cut(self, post: ImportedPost, what: str, text: str) -> str:
        """``text`` cut to the longest ``what`` the form takes; a cut is reported."""
        limit = LIMITS[what]
        if len(text) <= limit:
            return text
        self.report.change(post.label, f"{what} longer than {limit} characters: cut")
        return text[: limit - 1].rstrip() + "…"

    def _slug(self, post: ImportedPost, title: str) -> str:
        """The old slug in this site's form, when free; else a free one (either reported)."""
        wanted = slugify(post.slug, max_length=180) if post.slug else ""
        if post.slug and wanted != post.slug:
            self.report.change(post.label, f"slug {post.slug!r} became {wanted!r}")
        if wanted and Article.slug_owner(wanted) is None:
            return wanted
        slug = unique_slug(wanted or title)
        if wanted:
            self.report.change(post.label, f"slug {wanted!r} already taken: {slug!r} used")
        return slug

    def _keep_paths(self, article: Article, post: ImportedPost) -> None:
        """Record the post's old addresses for ``article``; one another article has is reported."""
        paths = list(dict.fromkeys(LegacyPath.normalize(address) for address in post.legacy_paths))
        taken = set(
            db.session.scalars(sa.select(LegacyPath.path).where(LegacyPath.path.in_(paths)))
        )
        for path in paths:
            if len(path) > LEGACY_PATH_MAX:
                self.report.change(post.label, f"old address {path} too long to keep")
            elif path in taken:
                self.report.change(post.label, f"old address {path} already leads elsewhere")
            else:
                article.legacy_paths.append(LegacyPath(path=path))
        db.session.flush()

    def _media_file(self, relative: str, item: str) -> Path | None:
        """The file ``relative`` to the media folder, when given and there; else reported."""
        if self.media is None:
            self.report.change(item, f"image {relative} not imported: no media folder given")
            return None
        path = (self.media / relative).resolve()
        if not path.is_relative_to(self.media) or not path.is_file():
            self.report.change(item, f"image {relative} not imported: no such file")
            return None
        return path

    def _checkpoint(self) -> None:
        """End a batch: commit it (flush it, in a dry run) and let go of its rows."""
        if self.report.dry_run:
            db.session.flush()
        else:
            db.session.commit()
        db.session.expunge_all()
        self._unsaved = 0

    @contextmanager
    def _media_for_the_run(self) -> Iterator[None]:
        """Images go to MEDIA_DIR, or for a dry run to a temporary folder deleted afterwards."""
        if not self.report.dry_run:
            yield
            return
        config = current_app.config
        kept = config["MEDIA_DIR"]
        with tempfile.TemporaryDirectory(prefix="dateline-dry-run-") as folder:
            config["MEDIA_DIR"] = folder
            try:
                yield
            finally:
                config["MEDIA_DIR"] = kept

    def _totals(self) -> dict[str, int]:
        """How many rows of each kind counted as added there are now, redirects included."""
        models = {**ADDED, "redirects": LegacyPath}
        return {
            kind: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for kind, model in models.items()
        }

    def _count_added(self, before: dict[str, int]) -> None:
        """Count the rows the run added, per kind."""
        for kind, total in self._totals().items():
            self.report.count(kind, total - before[kind])


def newsroom_time(text: str) -> datetime:
    """A time without a zone (``2024-03-05 08:30:00``) read in the newsroom's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def summary_text(html: str) -> str:
    """An excerpt written as HTML, as the plain text a summary is."""
    return plain_text(clean(html))


def _username(name: str) -> str:
    """``name`` as a username this site takes: lowercase letters, digits, ``.``, ``_``, ``-``."""
    if USERNAME.match(name):
        return name
    username = re.sub(r"[^a-z0-9_.-]+", "-", slugify(name, separator="-") or "author")
    return username[:40].strip("-").ljust(2, "_")

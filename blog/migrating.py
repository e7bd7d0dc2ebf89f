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
``imported_from`` is found is left as it is. Each post is saved in a savepoint: one that
fails leaves no row behind, nor the image files written for it. A dry run does everything in one
transaction that is rolled back, with images stored in a temporary folder that is deleted
afterwards.

``autop`` (WordPress's paragraphs) is here too, since Ghost's plain-text posts need it.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from slugify import slugify
from werkzeug.datastructures import MultiDict

from blog import images
from blog.body_images import MEDIA_PATH
from blog.cli import USERNAME
from blog.database import begin_now
from blog.dates import utcnow
from blog.extensions import db
from blog.forms import ArticleForm
from blog.models import BIO_MAX, Article, LegacyPath, MediaItem, Section, Tag, User
from blog.sanitize import clean, xml_text
from blog.saving import save_article, unique_slug
from blog.search import plain_text
from blog.storage import current_media, throwaway_media

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
ADDED = {
    "authors": User,
    "sections": Section,
    "tags": Tag,
    "images": MediaItem,
    "redirects": LegacyPath,
}
# The longest values the form takes (blog.forms.ArticleForm, blog.models).
LIMITS = {"title": 200, "summary": 400, "section": 60, "tag": 60, "alt": 300, "caption": 300}
LEGACY_PATH_MAX = 500  # LegacyPath.path
# An image file a library item can be made of, by the end of its name.
IMAGE_ENDINGS = (".jpg", ".jpeg", ".png", ".webp", ".gif")
_LINKING_TAG = re.compile(r"<(?:img|a)\s[^>]*>", re.IGNORECASE)
_URL_ATTRIBUTE = re.compile(r"""(\s(?:src|href)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_ALT = re.compile(r"""\salt\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Elements whose content a blank line does not end (kept whole while paragraphs are made).
_RAW = re.compile(r"<(pre|script|style|textarea)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCKS = (
    "address|article|aside|blockquote|caption|dd|details|div|dl|dt|figcaption|figure|footer"
    "|form|h[1-6]|header|hr|iframe|li|main|nav|ol|p|section|summary|table|tbody|td|tfoot|th"
    "|thead|tr|ul"
)
_BLOCK_OPEN = re.compile(rf"(<(?:{_BLOCKS})[\s/>])", re.IGNORECASE)
_BLOCK_CLOSE = re.compile(rf"(</(?:{_BLOCKS})\s*>)", re.IGNORECASE)
_BLOCK_START = re.compile(rf"</?(?:{_BLOCKS}|pre|script|style|textarea)(?:[\s/>]|$)", re.I)
_KEPT = re.compile(r"\x00(\d+)\x00")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class ExportBroken(Exception):
    """The file is not a readable export; the message says what is wrong."""


class PostSkipped(Exception):
    """The post cannot come in; the message says why."""


ImportExport = Callable[[Path, Path | None, bool], "Report"]


def import_command(name: str, media_help: str) -> Callable[[ImportExport], click.Command]:
    """Make an importer ``import_export(export, media, dry_run)`` the ``flask`` command ``name``.

    The command takes the export, ``--media`` (described by ``media_help``) and ``--dry-run``,
    and prints the report; its help is the importer's docstring.
    """

    def command(import_export: ImportExport) -> click.Command:
        @click.command(name, help=import_export.__doc__)
        @with_appcontext
        @click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
        @click.option(
            "--media",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help=media_help,
        )
        @click.option(
            "--dry-run", is_flag=True, help="Report what would be imported; change nothing."
        )
        def run(export: Path, media: Path | None, dry_run: bool) -> None:
            run_import(lambda: import_export(export, media, dry_run))

        return run

    return command


def run_import(run: Callable[[], Report]) -> None:
    """Run an import and print its report; a broken export stops it unchanged."""
    try:
        report = run()
    except ExportBroken as error:
        raise click.ClickException(f"{error}. Nothing was imported.") from error
    for line in report.lines():
        click.echo(line)


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
        self._saved = False
        self._stored_for_post: list[str] = []

    @contextmanager
    def running(self) -> Iterator[Migration]:
        """Run the import, committing it in batches; a dry run is all rolled back.

        An error that stops the run rolls back the batch it was in; the batches committed
        before it stay, and running the import again goes on from there.
        """
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

    @contextmanager
    def post(self, label: str) -> Iterator[None]:
        """Import the post ``label`` whole or not at all: one that fails is reported and skipped.

        The rows it added are rolled back to a savepoint, and the image files stored for it
        that no row uses are removed. An error of the database itself stops the run.
        """
        begin_now()  # a dry run's savepoints must not commit on SQLite
        authors, stored_images = dict(self._authors), dict(self._images)
        self._saved, self._stored_for_post = False, []
        savepoint = db.session.begin_nested()
        try:
            yield
            savepoint.commit()
        except PostSkipped as skipped:
            reason = str(skipped)
        except sa.exc.OperationalError:
            raise
        except Exception as error:  # a bad post is reported and skipped, never fatal
            reason = str(error) or type(error).__name__
        else:
            if self._saved:
                self.report.count("posts imported")
                self._unsaved += 1
                if self._unsaved >= BATCH_SIZE:
                    self._checkpoint()
            return
        savepoint.rollback()
        self._authors, self._images = authors, stored_images
        self._remove_unused(self._stored_for_post)
        self.report.change(label, f"skipped: {reason}")
        self.report.count("posts skipped")

    def skip(self, label: str, reason: str) -> None:
        """Report the post ``label`` skipped before anything of it was stored."""
        self.report.change(label, f"skipped: {reason}")
        self.report.count("posts skipped")

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
                stored = images.store(file)
        except images.ImageRejected as error:
            self.report.change(item, f"image {relative} not imported: {error}")
            return None
        self._stored_for_post.append(stored.name)
        return stored

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

    def save(self, post: ImportedPost) -> None:
        """Save ``post`` as a new article through the editor's form; PostSkipped if refused.

        Call it inside ``post``, which counts it once it is kept.
        """
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
            raise PostSkipped(reasons)
        # It was last changed when it was published, unless that is still to come.
        published = post.published_at
        at = published if published is not None and published <= utcnow() else None
        article = save_article(form, post.author, at=at)
        article.imported_from = post.imported_from
        self._keep_paths(article, post)
        self._saved = True

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
        slug = unique_slug(wanted or title)
        if wanted and slug != wanted:
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
        try:
            path = (self.media / relative).resolve()
        except (ValueError, OSError):  # a NUL in the name, a loop of links
            path = None
        if path is None or not path.is_relative_to(self.media) or not path.is_file():
            self.report.change(item, f"image {relative} not imported: no such file")
            return None
        return path

    def _remove_unused(self, names: list[str]) -> None:
        """Remove the files (and renditions) of the stored images ``names`` that no row uses."""
        for name in dict.fromkeys(names):
            stem = name.rsplit(".", 1)[0]
            used = sa.or_(
                sa.exists().where(MediaItem.name == name),
                sa.exists().where(User.photo == name),
                sa.exists().where(Article.hero_image == name),
                sa.exists().where(
                    Article.body_html.contains(f"{MEDIA_PATH}{stem}", autoescape=True)
                ),
            )
            if not db.session.scalar(sa.select(used)):
                media = current_media()
                for file in media.names(stem):
                    media.delete(file)

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
        """Images go to the media storage, or for a dry run to a temporary folder deleted
        afterwards.
        """
        if not self.report.dry_run:
            yield
            return
        with throwaway_media():
            yield

    def _totals(self) -> dict[str, int]:
        """How many rows of each kind counted as added there are now."""
        return {
            kind: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for kind, model in ADDED.items()
        }

    def _count_added(self, before: dict[str, int]) -> None:
        """Count the rows the run added, per kind."""
        for kind, total in self._totals().items():
            self.report.count(kind, total - before[kind])


def autop(source: str) -> str:
    """WordPress text as HTML blocks: blank lines end paragraphs, newlines in them break lines.

    As WordPress's ``wpautop``: a block element stands on its own; other text between blank
    lines is a paragraph. ``source`` must carry no NUL (see ``import_text``): NULs mark the
    blocks kept whole.
    """
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match[0])
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    text = _RAW.sub(keep, source.replace("\r\n", "\n").replace("\r", "\n"))
    text = _BLOCK_CLOSE.sub(r"\1\n\n", _BLOCK_OPEN.sub(r"\n\n\1", text))
    blocks = []
    for chunk in _BLANK_LINE.split(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if raw := _KEPT.fullmatch(chunk):
            blocks.append(kept[int(raw[1])])
        elif _BLOCK_START.match(chunk):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return "\n\n".join(blocks)


def import_text(value: Any) -> str:
    """A text field of an export without NUL and the other characters XML cannot carry.

    They mean nothing in an article, PostgreSQL refuses NUL, and ``autop`` marks with it;
    anything that is not text is ``""``.
    """
    return xml_text(value) if isinstance(value, str) else ""


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

"""The data: users, articles, sections and tags, with the queries the pages share."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import sqlalchemy as sa
from flask_login import UserMixin
from slugify import slugify
from sqlalchemy.orm import Mapped, defer, mapped_column, relationship, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from blog import content
from blog.dates import long_date, utcnow
from blog.extensions import db

if TYPE_CHECKING:
    from blog.images import StoredImage

ROLES = ("admin", "editor", "writer")
# What is stored; "scheduled" is a published article whose time has not come.
STATUSES = ("draft", "review", "published")
# What the dashboard shows and filters by.
STATES = ("draft", "review", "scheduled", "published", "trash")
# A change this long after publication shows as "Updated …" on the page.
UPDATE_GRACE = timedelta(minutes=5)
BIO_MAX = 1000
BLANK_LINE = re.compile(r"\n[ \t]*\n")


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(UserMixin, db.Model):
    """A member of the newsroom: admin, editor or writer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(10), default="writer")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id: a new token ends all of the user's sessions.
    session_token: Mapped[str] = mapped_column(sa.String(64), server_default="")
    # Plain text on the author page, paragraphs split on blank lines; never read as HTML.
    bio: Mapped[str] = mapped_column(sa.String(BIO_MAX), default="", server_default="")
    photo: Mapped[str | None] = mapped_column(sa.String(80))
    photo_width: Mapped[int | None]
    photo_height: Mapped[int | None]

    articles: Mapped[list[Article]] = relationship(back_populates="author")

    def bio_paragraphs(self) -> list[str]:
        """The bio's paragraphs: its text split on blank lines, blanks left out."""
        return [part.strip() for part in BLANK_LINE.split(self.bio) if part.strip()]

    def get_id(self) -> str:
        """Flask-Login's id for the session and remember cookie: row id and session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive users
        return self.active

    @property
    def can_publish(self) -> bool:
        """Editors and admins publish and feature; writers submit drafts."""
        return self.role in {"admin", "editor"}

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password`` and end the sessions signed in with the old one."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Sign the user out everywhere, remember-me cookies included, with a new token."""
        self.session_token = secrets.token_urlsafe(32)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        """Admins manage people, read the audit log and delete for good."""
        return self.role == "admin"

    def can_edit(self, article: Article) -> bool:
        """Editors edit anything; writers their own articles until an editor publishes them."""
        return self.can_publish or (article.author_id == self.id and article.status != "published")


class Named:
    """A label found by the slug of its name, created on first use."""

    name: Mapped[str]
    slug: Mapped[str]

    @classmethod
    def named(cls, name: str) -> Self:
        """The existing label whose slug matches ``name``'s, or a new, unsaved one."""
        slug = slugify(name)
        found = db.session.scalar(sa.select(cls).where(cls.slug == slug))  # type: ignore[arg-type]
        return found or cls(name=name, slug=slug)


class Section(Named, db.Model):
    """A desk of the newsroom, such as Local or Culture."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    # The order of the site's navigation; set in the INSERT itself, so a new section goes last
    # however it is made (the article form, an import).
    position: Mapped[int] = mapped_column(
        default=sa.text("(SELECT coalesce(max(position), 0) + 1 FROM sections)"),
        server_default="0",
    )
    in_navigation: Mapped[bool] = mapped_column(default=True, server_default="1")

    @classmethod
    def in_order(cls) -> sa.Select[tuple[Section]]:
        """Every section, in the order editors set."""
        return sa.select(cls).order_by(cls.position, cls.name, cls.id)

    @classmethod
    def navigation(cls) -> list[Section]:
        """The sections the site's navigation shows, in order."""
        return list(db.session.scalars(cls.in_order().where(cls.in_navigation.is_(True))))


article_tags = sa.Table(
    "article_tags",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Named, db.Model):
    """A topic label; articles carry any number of them."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)


class Article(db.Model):
    """A story, with its Markdown source and the HTML made from it at save time."""

    __tablename__ = "articles"
    __table_args__ = (
        sa.Index("ix_articles_status_published_at", "status", "published_at"),
        sa.Index("ix_articles_featured_status_published_at", "featured", "status", "published_at"),
        # A section's or an author's listing, newest first, read in index order: any page of it
        # costs a walk of index entries, never a sort of the section's or author's rows.
        sa.Index("ix_articles_section_status_published_at", "section_id", "status", "published_at"),
        sa.Index("ix_articles_author_status_published_at", "author_id", "status", "published_at"),
        sa.Index("ix_articles_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(200), unique=True)
    summary: Mapped[str] = mapped_column(sa.String(400), default="")
    dateline: Mapped[str] = mapped_column(sa.String(100), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    toc: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"))
    featured: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last save while readers could see it: what "Updated …" on the page reports.
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hero_image: Mapped[str | None] = mapped_column(sa.String(80))
    hero_width: Mapped[int | None]
    hero_height: Mapped[int | None]
    hero_alt: Mapped[str] = mapped_column(sa.String(300), default="")
    hero_caption: Mapped[str] = mapped_column(sa.String(300), default="")
    hero_credit: Mapped[str] = mapped_column(sa.String(120), default="")
    # Counts saves: a save made from an older version is refused (no lost updates).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Set while the article is in the trash (always as a draft); None otherwise.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where an imported article came from (``wordpress:<site>/?p=<id>``): a second run of the
    # same import finds it and adds nothing.
    imported_from: Mapped[str | None] = mapped_column(sa.String(200), index=True, unique=True)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    author: Mapped[User] = relationship(back_populates="articles")
    section: Mapped[Section | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(
        secondary=article_tags, order_by=lambda: sa.func.lower(Tag.name)
    )
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="article",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Revision.id.desc()",
    )
    redirects: Mapped[list[SlugRedirect]] = relationship(
        back_populates="article", cascade="all, delete-orphan", passive_deletes=True
    )
    notes: Mapped[list[ArticleNote]] = relationship(
        back_populates="article",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ArticleNote.id",
    )
    legacy_paths: Mapped[list[LegacyPath]] = relationship(
        back_populates="article", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_public(self) -> bool:
        """Whether readers may see it: published, and not dated in the future."""
        return (
            self.status == "published"
            and self.published_at is not None
            and self.published_at <= utcnow()
        )

    @property
    def state(self) -> str:
        """One of STATES: the status, with the trash and scheduling told apart."""
        if self.deleted_at is not None:
            return "trash"
        if self.status == "published" and not self.is_public:
            return "scheduled"
        return self.status

    @property
    def modified_at(self) -> datetime | None:
        """When readers last saw it change: publication, or a save or note while public."""
        return max(filter(None, (self.published_at, self.revised_at)), default=None)

    @property
    def was_updated(self) -> bool:
        """Whether it changed noticeably after readers could first see it, or got a note."""
        if self.published_at is None or self.revised_at is None:
            return False
        return self.revised_at > self.published_at + UPDATE_GRACE or bool(self.notes)

    def snapshot(self) -> dict[str, Any]:
        """Every field a person edits, as JSON-ready values: what a revision keeps."""
        return {
            "title": self.title,
            "slug": self.slug,
            "summary": self.summary,
            "dateline": self.dateline,
            "body": self.body,
            "section": self.section.name if self.section else "",
            "tags": [tag.name for tag in self.tags],
            "featured": self.featured,
            "status": self.status,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "hero_image": self.hero_image,
            "hero_width": self.hero_width,
            "hero_height": self.hero_height,
            "hero_alt": self.hero_alt,
            "hero_caption": self.hero_caption,
            "hero_credit": self.hero_credit,
        }

    def render(self) -> None:
        """Make the stored HTML and contents from the Markdown body and the dateline.

        A draft's dateline carries the date of its last save (now, for an unsaved preview),
        so rendering it again later gives the same HTML.
        """
        lead = ""
        if self.dateline:
            date = long_date(self.published_at or self.updated_at or utcnow())
            lead = f"{self.dateline} – {date} – "
        rendered = content.render(self.body, lead=lead)
        self.body_html, self.toc = rendered.html, rendered.toc

    @classmethod
    def public(cls) -> sa.Select[tuple[Article]]:
        """Articles readers may see, newest first."""
        return (
            sa.select(cls)
            .where(cls.status == "published", cls.published_at <= utcnow())
            .order_by(cls.published_at.desc(), cls.id.desc())
            .options(selectinload(cls.author), selectinload(cls.section))
        )

    @classmethod
    def teasers(cls, ids: sa.ScalarSelect[int] | list[int]) -> sa.Select[tuple[Article]]:
        """The articles whose ids ``ids`` selects, newest first, without their bodies.

        Selected by primary key alone, so the database reads just these rows.
        """
        return (
            sa.select(cls)
            .where(cls.id.in_(ids))
            .order_by(cls.published_at.desc(), cls.id.desc())
            .options(
                selectinload(cls.author),
                selectinload(cls.section),
                defer(cls.body),
                defer(cls.body_html),
                defer(cls.toc),
            )
        )

    @classmethod
    def public_featured(cls) -> sa.Select[tuple[Article]]:
        """Public articles an editor marked featured, newest first."""
        return cls.public().where(cls.featured.is_(True))

    @classmethod
    def latest(cls, limit: int, exclude: int | None = None) -> list[Article]:
        """The newest public articles, leaving out ``exclude``."""
        return cls._first(cls.public(), limit, exclude)

    @classmethod
    def featured_latest(cls, limit: int, exclude: int | None = None) -> list[Article]:
        """The newest featured articles, leaving out ``exclude``."""
        return cls._first(cls.public_featured(), limit, exclude)

    @classmethod
    def related(cls, article: Article, limit: int) -> list[Article]:
        """Public articles sharing a tag with ``article``, then of its section; newest first.

        Each group is an index walk, newest first, that stops at ``limit`` articles: ranking
        by the number of shared tags would read every article of each tag instead.
        """
        its_tags = sa.select(article_tags.c.tag_id).where(article_tags.c.article_id == article.id)
        shares_a_tag = sa.exists().where(
            article_tags.c.article_id == cls.id, article_tags.c.tag_id.in_(its_tags)
        )
        others = cls.public().with_only_columns(cls.id).where(cls.id != article.id)
        ids = list(db.session.scalars(others.where(shares_a_tag).limit(limit)))
        if article.section_id is not None and len(ids) < limit:
            same_section = others.where(cls.section_id == article.section_id, ~shares_a_tag)
            ids += db.session.scalars(same_section.limit(limit - len(ids)))
        found = {teaser.id: teaser for teaser in db.session.scalars(cls.teasers(ids))}
        return [found[id_] for id_ in ids if id_ in found]  # one may go as we read

    @classmethod
    def _first(
        cls, query: sa.Select[tuple[Article]], limit: int, exclude: int | None
    ) -> list[Article]:
        """The first ``limit`` rows of ``query`` without article ``exclude``."""
        if exclude is not None:
            query = query.where(cls.id != exclude)
        return list(db.session.scalars(query.limit(limit)))

    @classmethod
    def by_slug(cls, slug: str) -> Article | None:
        """The article at ``/articles/<slug>``, public or not."""
        return db.session.scalar(sa.select(cls).where(cls.slug == slug))

    @classmethod
    def redirected(cls, slug: str) -> Article | None:
        """The article that used to be public at ``/articles/<slug>``."""
        query = sa.select(cls).join(SlugRedirect).where(SlugRedirect.old_slug == slug)
        return db.session.scalar(query)

    @classmethod
    def at_legacy_path(cls, address: str) -> Article | None:
        """The article an address of the site it was imported from leads to."""
        path = LegacyPath.normalize(address)
        # The old site's database matched slugs whatever their case.
        query = sa.select(cls).join(LegacyPath).where(LegacyPath.path.in_({path, path.lower()}))
        # When both spellings are kept, the exact one wins.
        exact_first = sa.case((LegacyPath.path == path, 0), else_=1)
        return db.session.scalars(query.order_by(exact_first).limit(1)).first()

    @classmethod
    def slug_owner(cls, slug: str, other_than: Article | None = None) -> Article | None:
        """The article using ``slug``, leaving ``other_than`` out."""
        query = sa.select(cls).where(cls.slug == slug)
        if other_than is not None and other_than.id is not None:
            query = query.where(cls.id != other_than.id)
        return db.session.scalar(query)


class SlugRedirect(db.Model):
    """An address a published article had before its slug changed: it redirects (301)."""

    __tablename__ = "slug_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_slug: Mapped[str] = mapped_column(sa.String(200), unique=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="redirects")


class LegacyPath(db.Model):
    """An address an imported article had on the site it came from: it redirects (301)."""

    __tablename__ = "legacy_paths"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalized (see ``normalize``): ``/2024/03/05/harbour-reopens``, ``/?p=123``.
    path: Mapped[str] = mapped_column(sa.String(500), unique=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="legacy_paths")

    @staticmethod
    def normalize(address: str) -> str:
        """An old address as stored: a URL's or path's path, without its trailing slash.

        Escapes are made the way WordPress writes them (UTF-8, lowercase hex), so that the
        path of a request, which arrives unescaped, finds the one stored from an export.
        Of the query only the query permalinks (``?p=``, ``?page_id=``) are kept.
        """
        parts = urlsplit(address)
        path = quote(unquote(parts.path), safe=PATH_SAFE).rstrip("/") or "/"
        path = ESCAPE.sub(lambda escape: escape[0].lower(), path)
        kept = [(key, value) for key, value in parse_qsl(parts.query) if key in QUERY_PERMALINKS]
        return f"{path}?{urlencode(kept[:1])}" if kept else path


# WordPress's query permalinks: a post's and a page's id; the front page answers them.
QUERY_PERMALINKS = frozenset({"p", "page_id"})
# Characters a path keeps unescaped (RFC 3986's unreserved and sub-delimiters, ":", "@", "/").
PATH_SAFE = "/:@!$&'()*+,;=-._~"
ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


class Revision(db.Model):
    """Every field of an article as one save left it, with who saved and when."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    # The article's version after this save.
    version: Mapped[int]
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fields: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # Why the save was special: a restore, or the reason for publishing despite problems.
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    article: Mapped[Article] = relationship(back_populates="revisions")
    editor: Mapped[User | None] = relationship()


class Autosave(db.Model):
    """A person's unsaved text in the article form, kept privately until they save."""

    __tablename__ = "autosaves"
    __table_args__ = (sa.UniqueConstraint("user_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # None for an article not saved yet.
    article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    # The article's version the text was typed over.
    base_version: Mapped[int | None]
    fields: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleNote(db.Model):
    """A dated correction or update appended to a published article."""

    __tablename__ = "article_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(12))  # one of NOTE_KINDS
    text: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


NOTE_KINDS = ("correction", "update")


class AuditEvent(db.Model):
    """Who did what, to which article or person, and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The headline or username at the time, kept when the row it names is gone.
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])
    article: Mapped[Article | None] = relationship()


class MediaItem(db.Model):
    """An uploaded image in the media library, with the words that describe it."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stored file's name under MEDIA_DIR: its content hash and format.
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    alt: Mapped[str] = mapped_column(sa.String(300))
    caption: Mapped[str] = mapped_column(sa.String(300), default="")
    credit: Mapped[str] = mapped_column(sa.String(120), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(
        "uploaded_by", sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # The library lists newest first, a page at a time, in index order.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    uploaded_by: Mapped[User | None] = relationship()

    @property
    def hash(self) -> str:
        """The content hash the file's name starts with, shared by its renditions."""
        return self.name.partition(".")[0]

    @classmethod
    def keep(cls, image: StoredImage, by: User | None, **description: str) -> MediaItem:
        """The library's item for the stored ``image``, added with ``description`` if new."""
        item = db.session.scalar(sa.select(cls).where(cls.name == image.name))
        if item is None:
            item = cls(
                name=image.name,
                width=image.width,
                height=image.height,
                uploaded_by=by,
                **description,
            )
            db.session.add(item)
        return item

    def users(self) -> list[Article]:
        """The articles showing this image: as their hero, or in their body, newest first."""
        shown = sa.or_(
            Article.hero_image == self.name,
            Article.body_html.contains(f"/media/{self.hash}", autoescape=True),
        )
        query = sa.select(Article).where(shown).order_by(Article.updated_at.desc())
        unread = (defer(Article.body), defer(Article.body_html), defer(Article.toc))
        return list(db.session.scalars(query.options(*unread)))

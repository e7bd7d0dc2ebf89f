"""``import-wordpress``: the posts of a WordPress export (WXR 1.1/1.2), streamed.

The export is read twice with ``lxml.etree.iterparse``, each ``item`` cleared (with what came
before it) as soon as it is read, so memory does not grow with the file. The first pass checks
that the file is whole, and keeps what posts refer to that may come after them: the authors
and each attachment's file (for featured images), a few hundred bytes each. The second pass
turns each post into an article through ``blog.migrating``.

A body is WordPress HTML: paragraphs are blank lines, line breaks are newlines (WordPress adds
the tags when it shows a post, with ``wpautop``). ``blog.migrating.autop`` adds them the same
way, making every block an HTML block, which the Markdown step passes through as it is: so the
text keeps its meaning (a ``*`` or a leading ``#`` in WordPress text is not Markdown), while
sanitizing, heading ids and pictures apply as to any body, and the body stays editable in the
form.

Images are the site's when their URL's path is under ``/wp-content/uploads/`` and its host is the
site's or one its attachments are on (a CDN, an earlier address): an attachment is the site's own
file whatever its host, and a body image on another host stays a link to it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask
from lxml import etree

from blog.migrating import (
    HTML_COMMENT,
    ExportBroken,
    ImportedPost,
    Migration,
    Report,
    autop,
    import_command,
    newsroom_time,
    summary_text,
)

# The prefixes the export's namespaces are read with, by namespace (WXR 1.1 and 1.2 alike).
NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
}
WXR = "http://wordpress.org/export/"
STATUSES = {
    "publish": "published",
    "future": "published",  # scheduled, at its date
    "draft": "draft",
    "pending": "review",
    "private": "draft",
}
UPLOADS = "/wp-content/uploads/"
# WordPress's default category, which posts get when nobody chose one.
DEFAULT_CATEGORY = "uncategorized"
_CAPTION = re.compile(r"\[caption([^\]]*)\](.*?)\[/caption\]", re.IGNORECASE | re.DOTALL)
_CAPTIONED = re.compile(r"^\s*((?:<a [^>]+>\s*)?<img [^>]+>(?:\s*</a>)?)(.*)$", re.I | re.S)
_CAPTION_ATTRIBUTE = re.compile(r"""\bcaption=(["'])(.*?)\1""", re.DOTALL)
_SHORTCODE = re.compile(r"\[([a-z][a-z0-9_-]*)(?=[\s\]/])[^\]]*\]")
# A size WordPress made of an upload: ``harbour-300x200.jpg`` of ``harbour.jpg``.
_SIZED = re.compile(r"^(.+)-\d+x\d+(\.\w+)$")


@dataclass
class Item:
    """One ``item`` of the export: a post, page, attachment or menu entry, as written."""

    fields: dict[str, str] = field(default_factory=dict)
    # (domain, nicename, name) of each category and tag.
    terms: list[tuple[str, str, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    # The slugs it had before (``_wp_old_slug``, one postmeta each).
    old_slugs: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def label(self) -> str:
        """How the report names it: ``post 12 “Harbour reopens”``."""
        kind = self["wp:post_type"] or "item"
        return f"{kind} {self['wp:post_id']} “{html.unescape(self['title']).strip()}”"


@dataclass(frozen=True)
class Attachment:
    """An uploaded file of the old site, as featured images name it."""

    url: str
    alt: str
    caption: str


@dataclass
class Site:
    """What the first pass keeps: the old site's addresses, its authors and attachments."""

    url: str = ""
    blog_url: str = ""
    authors: dict[str, str] = field(default_factory=dict)  # login: display name
    attachments: dict[str, Attachment] = field(default_factory=dict)  # post id: file
    upload_hosts: set[str] = field(default_factory=set)  # the hosts attachments are on

    @property
    def path(self) -> str:
        """The path the blog lived under (``""`` at the root, ``/news`` in a folder)."""
        return urlsplit(self.blog_url or self.url).path.rstrip("/")

    @property
    def hosts(self) -> set[str]:
        """The old site's host names, without ``www.``."""
        return {host for url in (self.url, self.blog_url) if (host := _host(url))}


def init_app(app: Flask) -> None:
    """Add ``import-wordpress`` to ``flask``."""
    app.cli.add_command(import_wordpress)


@import_command(
    "import-wordpress", "A copy of the old site's wp-content/uploads folder, for its images."
)
def import_wordpress(export: Path, media: Path | None, dry_run: bool = False) -> Report:
    """Import the posts of a WordPress export (WXR), with their images and old addresses."""
    site = read_site(export)
    report = Report(export.name, dry_run=dry_run)
    migration = Migration(report, media)
    locate = _locator(site, migration.media)
    with migration.running():
        for item in _items(export):
            kind = item["wp:post_type"]
            if kind == "post":
                with migration.post(item.label):
                    if (post := _post(item, site, migration, locate)) is not None:
                        migration.save(post)
            elif kind == "attachment":
                report.count("attachments read")
            else:
                report.count("pages skipped" if kind == "page" else "other items skipped")
                report.change(item.label, f"skipped: {kind or 'unknown'} items are not imported")
    return report


def read_site(export: Path) -> Site:
    """The first pass: check the whole file, keep the site's addresses, authors, attachments."""
    site = Site()
    for element in _channel(export, "item", "author", "base_site_url", "base_blog_url"):
        name = _name(element)
        if name == "wp:base_site_url":
            site.url = (element.text or "").strip().rstrip("/")
        elif name == "wp:base_blog_url":
            site.blog_url = (element.text or "").strip().rstrip("/")
        elif name == "wp:author":
            author = _fields(element)
            login = author.get("wp:author_login", "")
            site.authors[login] = author.get("wp:author_display_name") or login
        elif name == "item" and (item := _item(element))["wp:post_type"] == "attachment":
            if UPLOADS in item["wp:attachment_url"] and (host := _host(item["wp:attachment_url"])):
                site.upload_hosts.add(host)
            site.attachments[item["wp:post_id"]] = Attachment(
                item["wp:attachment_url"],
                item.meta.get("_wp_attachment_image_alt", ""),
                summary_text(item["excerpt:encoded"]),
            )
    if not site.url:
        raise ExportBroken(f"{export.name} is not a WordPress export (WXR): no wp:base_site_url")
    return site


def _items(export: Path) -> Iterator[Item]:
    """The second pass: every item of the export, in order."""
    for element in _channel(export, "item"):
        yield _item(element)


def _channel(export: Path, *names: str) -> Iterator[etree._Element]:
    """The channel's children with these local names, each cleared once the caller is done.

    What came before each one goes too, so that the tree in memory stays one item deep. An
    export whose DOCTYPE declares entities is refused: lxml would leave them out of the text.
    """
    with export.open("rb") as file:
        events = etree.iterparse(
            file,
            events=("end",),
            tag=[f"{{*}}{name}" for name in names],
            resolve_entities=False,
            no_network=True,
        )
        checked = False
        try:
            for _event, element in events:
                if not checked:
                    _refuse_entities(element, export)
                    checked = True
                parent = element.getparent()
                if parent is None or etree.QName(parent).localname != "channel":
                    continue
                yield element
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as error:
            where = f" (line {error.lineno})" if error.lineno and "line" not in error.msg else ""
            message = f"{export.name} is not readable XML: {error.msg}{where}"
            raise ExportBroken(message) from error


def _refuse_entities(element: etree._Element, export: Path) -> None:
    """ExportBroken when the document of ``element`` declares entities in its DOCTYPE."""
    dtd = element.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _entity in dtd.iterentities()):
        raise ExportBroken(
            f"{export.name} declares XML entities, which a WordPress export never does"
        )


def _name(element: etree._Element) -> str:
    """``wp:post_id``, ``content:encoded``, ``title``: the element's name as WXR writes it."""
    name = etree.QName(element)
    namespace = name.namespace or ""
    if namespace.startswith(WXR):
        return f"{'excerpt' if namespace.endswith('/excerpt/') else 'wp'}:{name.localname}"
    prefix = NAMESPACES.get(namespace)
    return f"{prefix}:{name.localname}" if prefix else name.localname


def _fields(element: etree._Element) -> dict[str, str]:
    """The text of each child of ``element``, by name."""
    return {_name(child): child.text or "" for child in element}


def _item(element: etree._Element) -> Item:
    """An ``item`` element read into an Item."""
    item = Item()
    for child in element:
        name = _name(child)
        if name == "category":
            name_text = html.unescape(child.text or "").strip()
            item.terms.append((child.get("domain", ""), child.get("nicename", ""), name_text))
        elif name == "wp:postmeta":
            meta = _fields(child)
            key, value = meta.get("wp:meta_key", ""), meta.get("wp:meta_value", "")
            if key == "_wp_old_slug":
                item.old_slugs.append(value)
            item.meta[key] = value
        elif len(child) == 0:
            item.fields[name] = child.text or ""
    return item


def _post(
    item: Item, site: Site, migration: Migration, locate: Callable[[str], str | None]
) -> ImportedPost | None:
    """The post ``item`` as an ImportedPost; None when it is skipped or was imported before."""
    report, label = migration.report, item.label
    if not item["wp:post_id"].strip():
        migration.skip(label, "no id (wp:post_id)")
        return None
    imported_from = f"wordpress:{site.url}/?p={item['wp:post_id']}"[:200]
    wp_status = item["wp:status"]
    if wp_status not in STATUSES:
        migration.skip(
            label, "in the trash" if wp_status == "trash" else f"unknown status {wp_status!r}"
        )
        return None
    if migration.already_imported(imported_from):
        report.change(label, "already imported")
        return None
    status = STATUSES[wp_status]
    if wp_status == "private":
        report.change(label, "private post imported as a draft")
    elif item["wp:post_password"] and status != "draft":
        # Readers needed the password: making it public is the newsroom's decision.
        report.change(label, "password-protected on WordPress: imported as a draft")
        status = "draft"
    local, published = _dates(item, label, migration)
    title = html.unescape(item["title"]).strip()
    if not title:
        title = f"Untitled post {item['wp:post_id']}"
        report.change(label, f"no title: {title!r} used")
    login = item["dc:creator"] or "wordpress"
    post = ImportedPost(
        imported_from=imported_from,
        label=label,
        author=migration.author(login, site.authors.get(login, login)),
        title=title,
        body=migration.localize_images(
            _body(item["content:encoded"], label, report), locate, label
        ),
        slug=unquote(item["wp:post_name"]),
        summary=summary_text(item["excerpt:encoded"]),
        status=status,
        published_at=published if status == "published" else None,
        featured=item["wp:is_sticky"] == "1",
        legacy_paths=_old_addresses(item, site, local),
    )
    _sort_terms(item, post, report)
    _feature(item, post, site, migration, locate)
    return post


def _dates(item: Item, label: str, migration: Migration) -> tuple[datetime | None, datetime | None]:
    """The post's date in the old site's time (for its address) and as a moment (published)."""
    local = published = None
    try:
        if _is_date(item["wp:post_date"]):
            local = datetime.fromisoformat(item["wp:post_date"])
            published = newsroom_time(item["wp:post_date"])
        if _is_date(item["wp:post_date_gmt"]):
            published = datetime.fromisoformat(item["wp:post_date_gmt"]).replace(tzinfo=UTC)
    except ValueError:
        migration.report.change(label, "date not readable: left out")
        return None, None
    return local, published


def _is_date(text: str) -> bool:
    """Whether ``text`` is a date WordPress set (drafts have ``0000-00-00 00:00:00``)."""
    return bool(text.strip()) and not text.startswith("0000")


def _sort_terms(item: Item, post: ImportedPost, report: Report) -> None:
    """The first category is the section; other categories and the tags become tags."""
    tags: list[str] = []
    for domain, nicename, name in item.terms:
        if domain == "category" and nicename == DEFAULT_CATEGORY:
            report.change(post.label, f"category {name!r} left out (WordPress's default)")
        elif domain == "category" and not post.section:
            post.section = name
        elif domain == "category":
            report.change(post.label, f"category {name!r} became a tag (one section per article)")
            tags.append(name)
        elif domain == "post_tag":
            tags.append(name)
    post.tags = tags


def _feature(
    item: Item,
    post: ImportedPost,
    site: Site,
    migration: Migration,
    locate: Callable[[str], str | None],
) -> None:
    """The featured image (``_thumbnail_id``) as the hero, with its alt text and caption.

    Reported when its attachment is not in the export, or is but its address is not one of
    the site's uploads.
    """
    thumbnail = item.meta.get("_thumbnail_id")
    if not thumbnail:
        return
    attachment = site.attachments.get(thumbnail)
    if attachment is None:
        migration.report.change(post.label, f"featured image {thumbnail} not in the export")
        return
    relative = locate(attachment.url)
    if relative is None:
        migration.report.change(
            post.label,
            f"featured image {thumbnail} not imported: its address {attachment.url}"
            " is not the site's uploads",
        )
        return
    post.hero = migration.image(relative, attachment.alt, attachment.caption, post.label)
    post.hero_alt, post.hero_caption = attachment.alt, attachment.caption


def _old_addresses(item: Item, site: Site, local: datetime | None) -> list[str]:
    """The addresses the post had: ``/?p=ID``, ``/YYYY/MM/DD/slug``, ``/slug``, its link.

    WordPress answered at its old slugs (``_wp_old_slug``) too, in both forms.
    """
    root = site.path
    addresses = [f"{root}/?p={item['wp:post_id']}"]
    for name in dict.fromkeys(name.strip() for name in [item["wp:post_name"], *item.old_slugs]):
        if not name:
            continue
        addresses.append(f"{root}/{name}")
        if local is not None:
            addresses.append(f"{root}/{local:%Y/%m/%d}/{name}")
    link = item["link"].strip()
    if link and _host(link) in site.hosts:
        addresses.append(link)
    return addresses


def _body(source: str, label: str, report: Report) -> str:
    """WordPress HTML as a body: captions made figures, paragraphs marked, shortcodes listed."""
    text = _CAPTION.sub(_figure, HTML_COMMENT.sub("", source))
    for name in dict.fromkeys(match[1] for match in _SHORTCODE.finditer(text)):
        report.change(label, f"shortcode [{name}] kept as text")
    return autop(text)


def _figure(caption: re.Match[str]) -> str:
    """A ``[caption]`` shortcode as a figure with its caption; as it was when it is not one."""
    captioned = _CAPTIONED.match(caption[2])
    if captioned is None:
        return caption[0]
    attribute = _CAPTION_ATTRIBUTE.search(caption[1])
    text = captioned[2].strip() or (attribute[2] if attribute else "")
    figcaption = f"<figcaption>{text}</figcaption>" if text else ""
    return f"<figure>{captioned[1]}{figcaption}</figure>"


def _locator(site: Site, media: Path | None) -> Callable[[str], str | None]:
    """A function giving the path under ``wp-content/uploads`` of a URL of the old site's files.

    The URL's host must be the site's or one its attachments are on (see the module's
    docstring); None for any other URL, or one that cannot be read. Of a size WordPress made
    (``harbour-300x200.jpg``) it gives the original when the media folder has it: the site
    makes its own sizes.
    """
    hosts = site.hosts | site.upload_hosts

    def locate(url: str) -> str | None:
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[x/": not an address
            return None
        if parts.scheme not in {"", "http", "https"} or (parts.netloc and _host(url) not in hosts):
            return None
        _before, found, relative = unquote(parts.path).partition(UPLOADS)
        if not found or not relative:
            return None
        sized = _SIZED.match(relative)
        if sized and media is not None and (media / (sized[1] + sized[2])).is_file():
            return sized[1] + sized[2]
        return relative

    return locate


def _host(url: str) -> str:
    """The host name of ``url``, lowercase, without ``www.``; ``""`` when it cannot be read."""
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:
        return ""

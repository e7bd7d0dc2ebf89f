"""Leaving and arriving: ``export`` writes the whole site to one portable archive, and
``import-archive`` takes such an archive into an empty site, on SQLite or PostgreSQL.

The archive is a ``.tar.gz`` holding ``content/<kind>.jsonl`` (the records of each kind,
one JSON object a line), ``media/`` (every upload and rendition) and ``content.json`` (the
format, the settings a newsroom carries over, the count of each kind and the list of media
files); its format is described in ``docs/archive-format.md``. Both commands stream, one
record at a time, so their memory does not grow with the archive. Unlike a backup it carries
no password hashes, session tokens or private autosaves, and nothing of one database's own
file format.
"""

from __future__ import annotations

import json
import secrets
import tarfile
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from PIL import Image, UnidentifiedImageError

from blog import images
from blog.audit import ACTIONS
from blog.cli import USERNAME
from blog.database import snapshot
from blog.dates import utcnow
from blog.extensions import db
from blog.models import NOTE_KINDS, ROLES, STATUSES, Article, User, UTCDateTime
from blog.search import reindex_all
from blog.storage import MediaStorage, current_media
from blog.tarballs import (
    MEDIA,
    MIB,
    BadArchive,
    add_file,
    check_listed,
    check_target,
    checked_members,
    create_private,
    extract,
    file_list,
    publish,
    read_json,
    read_json_lines,
    reading,
)

FORMAT = 2
CONTENT = "content.json"
COUNTS = "counts"
# What a newsroom expects to carry over from its configuration; none of it is a secret.
SETTINGS = ("SITE_NAME", "SITE_DESCRIPTION", "LANGUAGE", "TIMEZONE")
# The tables the archive holds, in the order they are written and read back: each refers
# only to the ones before it.
KINDS = {
    name: db.metadata.tables[name]
    for name in (
        "users",
        "sections",
        "tags",
        "articles",
        "article_tags",
        "revisions",
        "article_notes",
        "slug_redirects",
        "legacy_paths",
        "media",
        "audit_events",
    )
}
# The tables left out, and why.
LEFT_OUT = {"autosaves": "private scratch copies of a form being typed, not yet saved by anyone"}
# Never written: an imported person chooses a new password through a set-password link.
SECRET = {"users": frozenset({"password_hash", "session_token"})}
# Written for other readers of the archive, but made again on import from ``body``, since
# stored HTML from an archive is untrusted.
RENDERED = frozenset({"body_html", "toc"})
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("users", "role"): ROLES,
    ("articles", "status"): STATUSES,
    ("article_notes", "kind"): NOTE_KINDS,
    ("audit_events", "action"): tuple(ACTIONS),
}
# Fields naming an original image under MEDIA_DIR.
IMAGE_FIELDS = frozenset({("users", "photo"), ("articles", "hero_image"), ("media", "name")})
INT_RANGE = range(-(2**31), 2**31)  # PostgreSQL's integer
# Far deeper than any table of contents or revision; deeper values could overflow the stack
# of the JSON encoder that stores them.
JSON_DEPTH = 100
FILES = "files"
# How counts of each kind are written out.
LABELS = {
    **{kind: kind.replace("_", " ") for kind in KINDS},
    "media": "media library items",
    FILES: "media files",
}
TOP_KEYS = frozenset({"format", "created", "settings", COUNTS, FILES})
# The member holding the records of each kind.
RECORDS = {kind: f"content/{kind}.jsonl" for kind in KINDS}
# Rows inserted by one statement: this many, or fewer when their lines add up to BATCH_BYTES.
BATCH = 500
BATCH_BYTES = 16 * MIB
# content.json is read whole: it holds the list of media files, about 130 bytes an entry, so
# this allows half a million of them.
CONTENT_LIMIT = 64 * MIB
# Records are read a line at a time. An article of 800 words with its HTML takes about 15 kB;
# a line a thousand times longer is refused rather than parsed.
LINE_LIMIT = 16 * MIB
EXISTS = "choose another name or add --force"


def init_app(app: Flask) -> None:
    """Add ``export`` and ``import-archive`` to ``flask``."""
    app.cli.add_command(export)
    app.cli.add_command(import_archive)


def columns(kind: str) -> list[sa.Column[Any]]:
    """The fields of ``kind`` the archive carries: its table's columns but the secret ones."""
    secret = SECRET.get(kind, frozenset())
    return [column for column in KINDS[kind].columns if column.name not in secret]


@dataclass
class Checked:
    """What reading every record once found: the count of each kind, the image names the
    records hold, and the usernames of active admins.
    """

    counts: dict[str, int] = field(default_factory=dict)
    images: set[str] = field(default_factory=set)
    admins: list[str] = field(default_factory=list)


@click.command("export")
@with_appcontext
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace ARCHIVE when it exists.")
def export(archive: Path, force: bool) -> None:
    """Write the content, media, redirects and settings to one portable ARCHIVE (.tar.gz)."""
    check_target(archive, EXISTS, replace=force)
    # The scratch space sits beside the archive, so finishing it is a rename on one disk.
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".dateline-export-") as scratch:
        partial = Path(scratch) / archive.name
        counts, missing = _write_export(partial, Path(scratch))
        publish(partial, archive, exists=EXISTS, replace=force)
    click.echo(f"Exported {counted(counts)} to {archive}.")
    if missing:
        click.echo(
            f"Warning: {len(missing)} image(s) named by the content are missing from"
            f" {current_media().folder}: {', '.join(sorted(missing))}"
        )


@click.command("import-archive")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_archive(archive: Path) -> None:
    """Take ARCHIVE, written by ``export``, into this empty site, all or nothing."""
    if found := contents_found(KINDS.values()):
        raise click.ClickException(
            f"this site is not empty: it has {found}. Import into a new database"
            " (set SQLALCHEMY_DATABASE_URI, or remove the SQLite file, and run init-db)."
            " Nothing was changed."
        )
    media = current_media()
    media.folder.mkdir(parents=True, exist_ok=True)
    # Staged beside the media folder, so that the check for room looks at the disk they go to.
    beside = media.folder.parent
    with tempfile.TemporaryDirectory(dir=beside, prefix=".dateline-import-") as scratch:
        staged = Path(scratch)
        try:
            content = _unpack(archive, staged)
            checked = _check_records(staged, content[COUNTS])
        except BadArchive as problem:
            raise click.ClickException(
                f"cannot import {archive}: {problem}. Nothing was changed."
            ) from problem
        placed = _place(staged / MEDIA, media)
        try:
            rerendered, indexed = _insert(staged)
        except BaseException as error:
            db.session.rollback()
            for name in placed:
                media.delete(name)
            if isinstance(error, sa.exc.DBAPIError):
                raise click.ClickException(
                    f"cannot import {archive}: the database refused it ({error.orig})."
                    " Nothing was changed."
                ) from error
            raise
    counts = {**checked.counts, FILES: len(content[FILES])}
    click.echo(f"Imported {counted(counts)} from {archive}; the search index holds {indexed}.")
    for line in _advice(content, checked, rerendered):
        click.echo(line)


def counted(counts: dict[str, int]) -> str:
    """``counts`` as words: ``3 users, 12 articles, ...``."""
    return ", ".join(f"{count} {LABELS.get(kind, kind)}" for kind, count in counts.items())


def _write_export(archive: Path, scratch: Path) -> tuple[dict[str, int], set[str]]:
    """Write the archive, its records first staged in ``scratch``; return the count of each
    kind and the image names without a file.
    """
    counts: dict[str, int] = {}
    named: set[str] = set()
    with snapshot(db.engine) as connection:
        for kind, name in RECORDS.items():
            path = scratch / name
            path.parent.mkdir(exist_ok=True)
            with path.open("w", encoding="utf-8") as out:
                records = _table_records(connection, kind)
                counts[kind] = _write_lines(out, _noting_images(kind, records, named))
        # Uploads are written before the rows naming them are committed and never change,
        # so the files listed after the rows were read include every one they name.
        media = current_media()
        files = media.names()
        header = scratch / CONTENT
        with create_private(archive) as file, tarfile.open(fileobj=file, mode="w:gz") as tar:
            for name in RECORDS.values():
                add_file(tar, name, scratch / name)
            with header.open("w", encoding="utf-8") as out:
                out.write(
                    f'{{"format": {FORMAT},\n"created": {json.dumps(utcnow().isoformat())},\n'
                )
                settings = {name: current_app.config.get(name) or "" for name in SETTINGS}
                out.write(f'"settings": {json.dumps(settings)},\n')
                out.write(f'"{COUNTS}": {json.dumps(counts)},\n')
                _write_list(out, FILES, _added(tar, media, files))
                out.write("}\n")
            add_file(tar, CONTENT, header)
    counts[FILES] = len(files)
    return counts, named - set(files)


def _table_records(connection: sa.Connection, kind: str) -> Iterator[dict[str, Any]]:
    """The rows of ``kind`` as JSON-ready records, in the order of their keys."""
    table = KINDS[kind]
    query = sa.select(*columns(kind)).order_by(*table.primary_key.columns)
    for row in connection.execute(query.execution_options(yield_per=BATCH)).mappings():
        yield {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in row.items()
        }


def _noting_images(
    kind: str, records: Iterable[dict[str, Any]], named: set[str]
) -> Iterator[dict[str, Any]]:
    """``records``, adding the image names they hold to ``named`` on the way."""
    fields = [field for of, field in IMAGE_FIELDS if of == kind]
    for record in records:
        named.update(record[field] for field in fields if record[field])
        yield record


def _write_lines(out: IO[str], records: Iterator[dict[str, Any]]) -> int:
    """Write ``records`` as JSON Lines, one object a line; return how many."""
    count = 0
    for record in records:
        out.write(json.dumps(record, sort_keys=True) + "\n")
        count += 1
    return count


def _write_list(out: IO[str], key: str, records: Iterator[dict[str, Any]]) -> int:
    """Write ``"key": [records]`` one record a line, streaming; return how many."""
    out.write(f'"{key}": [')
    count = 0
    for count, record in enumerate(records, 1):
        out.write(("\n" if count == 1 else ",\n") + json.dumps(record, sort_keys=True))
    out.write("\n]" if count else "]")
    return count


def _added(tar: tarfile.TarFile, media: MediaStorage, names: list[str]) -> Iterator[dict[str, Any]]:
    """Add each of the media files ``names`` to ``tar`` under ``media/``, yielding its entry in
    the file list.
    """
    for name in names:
        size, digest = add_file(tar, f"{MEDIA}/{name}", media.folder / name)
        yield {"name": name, "size": size, "sha256": digest}


def contents_found(tables: Iterable[sa.Table]) -> str:
    """What ``tables`` already hold, as words (``1 users, 12 articles``), or ""."""
    found = {
        table.name: count
        for table in tables
        if (count := db.session.scalar(sa.select(sa.func.count()).select_from(table)))
    }
    return counted(found)


def _unpack(archive: Path, staged: Path) -> dict[str, Any]:
    """Check ``archive`` and unpack its records and media into ``staged``; return its
    parsed ``content.json``.
    """
    found: dict[str, tuple[int, str | None]] = {}
    content = None
    with reading(archive) as tar:
        for member in checked_members(tar, staged, (CONTENT, *RECORDS.values())):
            if member.name == CONTENT:
                content = _parsed(read_json(tar, member, CONTENT_LIMIT))
            elif member.name in RECORDS.values():
                extract(tar, member, staged)
            elif not images.FILE_NAME.match(member.name.removeprefix(f"{MEDIA}/")):
                raise BadArchive(f"it holds {member.name}, which is not the name of an upload")
            else:
                found[member.name] = extract(tar, member, staged)
    if content is None:
        raise BadArchive(f"it has no {CONTENT}, so it is not a Dateline export")
    listed = {f"{MEDIA}/{name}": entry for name, entry in content[FILES].items()}
    check_listed(found, listed, CONTENT)
    for name in sorted(found):
        _check_image(staged / name)
    return content


def _parsed(content: Any) -> dict[str, Any]:
    """``content.json``, if it is an export this version reads; its files as name: (size,
    SHA-256).
    """
    if not isinstance(content, dict) or "format" not in content:
        raise BadArchive(f"its {CONTENT} has no format number, so it is not a Dateline export")
    if content["format"] != FORMAT:
        raise BadArchive(
            f"it has archive format {content['format']!r}; this version reads {FORMAT}"
        )
    if unknown := sorted(content.keys() - TOP_KEYS):
        raise BadArchive(f"its {CONTENT} holds {unknown[0]!r}, which this version does not know")
    settings = content.get("settings", {})
    if not isinstance(settings, dict) or not all(
        name in SETTINGS and isinstance(value, str) for name, value in settings.items()
    ):
        raise BadArchive(f"its settings must be text, among {', '.join(SETTINGS)}")
    counts = content.get(COUNTS)
    if not isinstance(counts, dict) or not all(
        kind in KINDS and isinstance(count, int) and not isinstance(count, bool)
        for kind, count in counts.items()
    ):
        raise BadArchive(f"its {CONTENT} must count the records of each kind in whole numbers")
    return {**content, FILES: file_list(content.get(FILES), CONTENT)}


def _check_image(path: Path) -> None:
    """Refuse a media file that is not an image of the kind its name says."""
    extension = path.suffix.removeprefix(".")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                kind = images.FORMATS.get(image.format or "")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, Warning):
        kind = None
    if kind != extension:
        raise BadArchive(f"{MEDIA}/{path.name} is not a {extension.upper()} image")


def _check_records(staged: Path, counts: dict[str, int]) -> Checked:
    """Read every staged record once and check it; BadArchive names a bad one.

    Only what the checks need is kept: the keys of each kind, for references, and the values
    of its unique fields while it is read.
    """
    checked = Checked()
    keys: dict[str, set[Any]] = {}
    for kind, table in KINDS.items():
        unique = {column.name: set[Any]() for column in columns(kind) if column.unique}
        primary = [column.name for column in table.primary_key.columns]
        references = [
            (column.name, foreign.column.table.name)
            for column in columns(kind)
            for foreign in column.foreign_keys
        ]
        fields = [field for of, field in IMAGE_FIELDS if of == kind]
        keys[kind] = set()
        count = 0
        for where, row, _size in _rows(staged, kind):
            count += 1
            # A single-column key is kept as itself: a set of numbers takes half the room.
            key = row.get(primary[0]) if len(primary) == 1 else tuple(map(row.get, primary))
            if key in keys[kind]:
                raise BadArchive(f"{where} repeats the key of an earlier record")
            keys[kind].add(key)
            for name, seen in unique.items():
                if row.get(name) is not None and row[name] in seen:
                    raise BadArchive(f"{where}: {name} {row[name]!r} is taken by an earlier record")
                seen.add(row.get(name))
            for name, target in references:
                value = row.get(name)
                if value is not None and value not in keys[target]:
                    raise BadArchive(f"{where}: {name} {value} is not in its {target}")
            checked.images.update(row[field] for field in fields if row.get(field))
            if kind == "users" and row.get("role") == "admin" and row.get("active", True):
                checked.admins.append(row["username"])
        if count != counts.get(kind, 0):
            raise BadArchive(
                f"its {RECORDS[kind]} holds {count} records where {CONTENT} counts"
                f" {counts.get(kind, 0)}: it is damaged or incomplete"
            )
        checked.counts[kind] = count
    return checked


def _rows(staged: Path, kind: str) -> Iterator[tuple[str, dict[str, Any], int]]:
    """The staged records of ``kind``, one at a time, as rows to insert, checked against their
    columns: each with where it is (for messages) and the length of its line. A kind without
    a file has no records.
    """
    name = RECORDS[kind]
    path = staged / name
    if not path.exists():
        return
    for number, size, record in read_json_lines(path, name, LINE_LIMIT):
        where = f"{name} line {number}"
        if isinstance(record, dict) and isinstance(record.get("id"), int):
            where += f" (id {record['id']})"
        yield where, _row(kind, record, where), size


def _row(kind: str, record: object, where: str) -> dict[str, Any]:
    """One record as a row, its values checked against its column's type and rules."""
    if not isinstance(record, dict):
        raise BadArchive(f"{where} is not an object")
    known = {column.name: column for column in columns(kind)}
    if unknown := sorted(record.keys() - known.keys()):
        raise BadArchive(f"{where} has a field this version does not know: {unknown[0]!r}")
    row = {}
    for name, column in known.items():
        if name not in record:
            if not column.nullable and column.default is None and column.server_default is None:
                raise BadArchive(f"{where}: {name} is missing")
            continue
        try:
            row[name] = _value(kind, column, record[name])
        except ValueError as error:
            raise BadArchive(f"{where}: {name}: {error}") from None
    return row


def _value(kind: str, column: sa.Column[Any], value: Any) -> Any:
    """``value`` as stored in ``column``, or ValueError saying what is wrong with it."""
    if value is None:
        if column.nullable:
            return None
        raise ValueError("must not be null")
    type_ = column.type
    if isinstance(type_, UTCDateTime):
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 time")
        time = datetime.fromisoformat(value)
        if time.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        return time.astimezone(UTC)
    if isinstance(type_, sa.Boolean):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
    elif isinstance(type_, sa.Integer):
        if not isinstance(value, int) or isinstance(value, bool) or value not in INT_RANGE:
            raise ValueError("must be a whole number")
    elif isinstance(type_, sa.JSON):
        if not isinstance(value, list | dict):
            raise ValueError("must be a list or an object")
        if _depth(value) > JSON_DEPTH:
            raise ValueError(f"nests lists or objects more than {JSON_DEPTH} levels deep")
    elif isinstance(type_, sa.String):
        if not isinstance(value, str):
            raise ValueError("must be text")
        if "\0" in value:
            raise ValueError("holds a NUL character")
        if type_.length is not None and len(value) > type_.length:
            raise ValueError(f"is longer than {type_.length} characters")
        _check_text(kind, column.name, value)
    return value


def _depth(value: Any) -> int:
    """How many levels of lists and objects ``value`` has, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _check_text(kind: str, name: str, value: str) -> None:
    """Refuse text outside the choices or the form that the field takes."""
    choices = CHOICES.get((kind, name))
    if choices is not None and value not in choices:
        raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
    if (kind, name) in IMAGE_FIELDS and not images.NAME.match(value):
        raise ValueError(f"{value!r} is not the name of an uploaded image")
    if (kind, name) == ("users", "username") and not USERNAME.match(value):
        raise ValueError(f"{value!r} is not a username Dateline takes")


def _place(staged: Path, media: MediaStorage) -> list[str]:
    """Write the staged media to ``media``, leaving files already there; return those written."""
    placed: list[str] = []
    try:
        for path in sorted(staged.iterdir()) if staged.is_dir() else []:
            if not media.exists(path.name):
                media.write(path.name, path.read_bytes())
                placed.append(path.name)
    except OSError as error:
        for name in placed:
            media.delete(name)
        raise click.ClickException(
            f"cannot copy the media: {error}. Nothing was changed."
        ) from error
    return placed


def _insert(staged: Path) -> tuple[int, int]:
    """Insert every staged record, read again in batches, in one transaction with the search
    index; return how many bodies rendered differently from the archive's HTML, and the count
    of indexed articles.
    """
    rerendered = 0
    for kind, table in KINDS.items():
        for batch in _batches(_rows(staged, kind)):
            for row in batch:
                if kind == "articles":
                    rerendered += _render(row)
                elif kind == "users":
                    _lock(row)
            for group in _alike(batch):
                db.session.execute(table.insert(), group)
    continue_sequences(KINDS.values())
    return rerendered, reindex_all()  # commits


def continue_sequences(tables: Iterable[sa.Table]) -> None:
    """On PostgreSQL, start the id sequence of each of ``tables`` after its largest id, for
    rows that came with their ids from elsewhere.
    """
    if db.session.connection().dialect.name != "postgresql":
        return
    for table in tables:
        if "id" in table.c:
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            after = sa.func.coalesce(sa.func.max(table.c.id), 0) + 1
            db.session.execute(sa.select(sa.func.setval(sequence, after, False)))


def _lock(row: dict[str, Any]) -> None:
    """Give a person's row a password nobody knows, until they choose one through a
    set-password link.
    """
    locked = User()
    locked.set_password(secrets.token_urlsafe(32))
    row["password_hash"], row["session_token"] = locked.password_hash, locked.session_token


def _render(row: dict[str, Any]) -> bool:
    """Make the article's HTML and contents from its Markdown; whether they differ from the
    archive's.
    """
    article = Article(
        body=row.get("body", ""),
        dateline=row.get("dateline", ""),
        published_at=row.get("published_at"),
        updated_at=row.get("updated_at"),
    )
    article.render()
    differs = (article.body_html, article.toc) != (row.get("body_html"), row.get("toc"))
    row["body_html"], row["toc"] = article.body_html, article.toc
    return differs


def _batches(rows: Iterable[tuple[str, dict[str, Any], int]]) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in lists of at most BATCH, whose lines add up to about BATCH_BYTES at most."""
    batch: list[dict[str, Any]] = []
    size = 0
    for _where, row, length in rows:
        batch.append(row)
        size += length
        if len(batch) == BATCH or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _alike(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """``rows`` in groups with the same fields, each inserted by one statement."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups.values()


def _advice(content: dict[str, Any], checked: Checked, rerendered: int) -> Iterator[str]:
    """What the person who imported should do next, line by line."""
    if rerendered:
        yield (
            f"{rerendered} article bodies were rendered from their Markdown into HTML that"
            " differs from the archive's (made by another version of Dateline, or edited)."
        )
    if missing := sorted(checked.images - content[FILES].keys()):
        yield (
            f"Warning: {len(missing)} image(s) named by the content are not in the archive:"
            f" {', '.join(missing)}"
        )
    settings = content.get("settings", {})
    differ = {
        name: value
        for name, value in settings.items()
        if value != (current_app.config.get(name) or "")
    }
    if differ:
        yield (
            f"The archive's site settings differ from this site's. Put these lines in"
            f" {Path(current_app.instance_path) / 'config.py'} (or set FLASK_<NAME>"
            " environment variables) and restart the site:"
        )
        yield from (f"    {name} = {value!r}" for name, value in differ.items())
        if differ.keys() & {"LANGUAGE", "TIMEZONE"}:
            yield (
                "Then run `flask --app app rerender-articles`: the datelines in article bodies"
                " were written in this site's language and time zone."
            )
    admins = sorted(checked.admins)
    if checked.counts["users"]:
        yield (
            "Imported people have no password (an archive carries none). Give an admin one with"
            f" `flask --app app set-password {admins[0] if admins else 'USERNAME'}`, sign in,"
            ' and send the others their set-password links with "Reset password" on the'
            " People page (/admin/people)."
        )

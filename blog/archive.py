"""Leaving and arriving: ``export`` writes the whole site to one portable archive, and
``import-archive`` takes such an archive into an empty site, on SQLite or PostgreSQL.

The archive is a ``.tar.gz`` holding ``content.json`` (every kind of record as JSON, with
the settings a newsroom carries over) and ``media/`` (every upload and rendition); its format
is described in ``docs/archive-format.md``. Unlike a backup it carries no password hashes,
session tokens or private autosaves, and nothing of one database's own file format.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import shutil
import tarfile
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
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
from blog.backup import MEDIA, BadArchive, Digesting, _copy, checked_member
from blog.cli import USERNAME
from blog.dates import utcnow
from blog.extensions import db
from blog.models import NOTE_KINDS, ROLES, STATUSES, Article, User, UTCDateTime
from blog.search import reindex_all

FORMAT = 1
CONTENT = "content.json"
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
FILES = "files"
# How counts of each kind are written out.
LABELS = {
    **{kind: kind.replace("_", " ") for kind in KINDS},
    "media": "media library items",
    FILES: "media files",
}
TOP_KEYS = frozenset({"format", "created", "settings", FILES, *KINDS})
BATCH = 500


def init_app(app: Flask) -> None:
    """Add ``export`` and ``import-archive`` to ``flask``."""
    app.cli.add_command(export)
    app.cli.add_command(import_archive)


def columns(kind: str) -> list[sa.Column[Any]]:
    """The fields of ``kind`` the archive carries: its table's columns but the secret ones."""
    secret = SECRET.get(kind, frozenset())
    return [column for column in KINDS[kind].columns if column.name not in secret]


@click.command("export")
@with_appcontext
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace ARCHIVE when it exists.")
def export(archive: Path, force: bool) -> None:
    """Write the content, media, redirects and settings to one portable ARCHIVE (.tar.gz)."""
    if (archive.exists() or archive.is_symlink()) and not force:
        raise click.ClickException(f"{archive} exists; choose another name or add --force")
    if not archive.parent.is_dir():
        raise click.ClickException(f"there is no folder {archive.parent}")
    # The scratch space sits beside the archive, so finishing it is a rename on one disk.
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".dateline-export-") as scratch:
        partial = Path(scratch) / archive.name
        counts, missing = _write_export(partial, Path(scratch) / CONTENT)
        _publish(partial, archive, force)
    click.echo(f"Exported {_counted(counts)} to {archive}.")
    if missing:
        click.echo(
            f"Warning: {len(missing)} image(s) named by the content are missing from"
            f" {images.media_dir()}: {', '.join(sorted(missing))}"
        )


@click.command("import-archive")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_archive(archive: Path) -> None:
    """Take ARCHIVE, written by ``export``, into this empty site, all or nothing."""
    if found := _contents_found():
        raise click.ClickException(
            f"this site is not empty: it has {found}. Import into a new database"
            " (set SQLALCHEMY_DATABASE_URI, or remove the SQLite file, and run init-db)."
            " Nothing was changed."
        )
    media = images.media_dir()
    media.mkdir(parents=True, exist_ok=True)
    # Staged beside the media folder, so that placing each file is a rename on one disk.
    with tempfile.TemporaryDirectory(dir=media.parent, prefix=".dateline-import-") as scratch:
        staged = Path(scratch)
        try:
            content = _unpack(archive, staged)
            rows = _checked_rows(content)
        except BadArchive as problem:
            raise click.ClickException(
                f"cannot import {archive}: {problem}. Nothing was changed."
            ) from problem
        placed = _place(staged / MEDIA, media)
        try:
            rerendered, indexed = _insert(rows)
        except BaseException as error:
            db.session.rollback()
            for path in placed:
                path.unlink(missing_ok=True)
            if isinstance(error, sa.exc.DBAPIError):
                raise click.ClickException(
                    f"cannot import {archive}: the database refused it ({error.orig})."
                    " Nothing was changed."
                ) from error
            raise
    counts = {kind: len(records) for kind, records in rows.items()}
    counts[FILES] = len(content["files"])
    click.echo(f"Imported {_counted(counts)} from {archive}; the search index holds {indexed}.")
    for line in _advice(content, rows, rerendered):
        click.echo(line)


def _counted(counts: dict[str, int]) -> str:
    """``counts`` as words: ``3 users, 12 articles, ...``."""
    return ", ".join(f"{count} {LABELS.get(kind, kind)}" for kind, count in counts.items())


def _write_export(archive: Path, content: Path) -> tuple[dict[str, int], set[str]]:
    """Write the archive; return the count of each kind and the image names without a file."""
    session = db.session
    if db.engine.dialect.name == "postgresql":
        connection = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        connection = session.connection()
        # pysqlite starts no transaction for reads: without one, each kind would be read from
        # a different moment.
        connection.exec_driver_sql("BEGIN")
    counts: dict[str, int] = {}
    named: set[str] = set()
    try:
        with content.open("w", encoding="utf-8") as out:
            out.write(f'{{"format": {FORMAT},\n"created": {json.dumps(utcnow().isoformat())},\n')
            settings = {name: current_app.config.get(name) or "" for name in SETTINGS}
            out.write(f'"settings": {json.dumps(settings)},\n')
            for kind in KINDS:
                records = _records(connection, kind)
                counts[kind] = _write_list(out, kind, _noting_images(kind, records, named))
                out.write(",\n")
            # Uploads are written before the rows naming them are committed and never change,
            # so the files listed after the rows were read include every one they name.
            files = _media_files()
            with tarfile.open(archive, mode="w:gz") as tar:
                entries = [_add_file(tar, f"{MEDIA}/{path.name}", path) for path in files]
                _write_list(out, "files", iter(entries))
                out.write("}\n")
                out.close()
                _add_file(tar, CONTENT, content)
    finally:
        session.rollback()
    counts[FILES] = len(files)
    return counts, named - {path.name for path in files}


def _records(connection: sa.Connection, kind: str) -> Iterator[dict[str, Any]]:
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


def _write_list(out: IO[str], key: str, records: Iterator[dict[str, Any]]) -> int:
    """Write ``"key": [records]`` one record a line, streaming; return how many."""
    out.write(f'"{key}": [')
    count = 0
    for count, record in enumerate(records, 1):
        out.write(("\n" if count == 1 else ",\n") + json.dumps(record, sort_keys=True))
    out.write("\n]" if count else "]")
    return count


def _media_files() -> list[Path]:
    """Every upload and rendition in MEDIA_DIR (files being written are skipped)."""
    folder = images.media_dir()
    found = folder.iterdir() if folder.is_dir() else iter(())
    return sorted(path for path in found if images.FILE_NAME.match(path.name) and path.is_file())


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    """Add the file at ``path`` as ``name``; return its entry: name, size and SHA-256."""
    with path.open("rb") as source:
        stat = os.fstat(source.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
        digest = Digesting(source)
        tar.addfile(info, digest)
    return {"name": path.name, "size": info.size, "sha256": digest.hexdigest()}


def _publish(partial: Path, target: Path, force: bool) -> None:
    """Give the finished archive its name; an existing file only goes with ``force``."""
    try:
        if force:
            os.replace(partial, target)
        else:
            os.link(partial, target)  # fails, rather than replaces, if the name was taken
    except FileExistsError as error:
        raise click.ClickException(
            f"{target} exists; choose another name or add --force"
        ) from error
    except OSError as error:
        raise click.ClickException(f"cannot write {target}: {error}") from error


def _contents_found() -> str:
    """What the site already holds, as words (``1 users, 12 articles``), or ""."""
    found = {
        kind: count
        for kind, table in KINDS.items()
        if (count := db.session.scalar(sa.select(sa.func.count()).select_from(table)))
    }
    return _counted(found)


def _unpack(archive: Path, staged: Path) -> dict[str, Any]:
    """Check ``archive`` and unpack its media into ``staged``; return its parsed content."""
    room = shutil.disk_usage(staged).free * 9 // 10
    total = 0
    found: dict[str, tuple[int, str]] = {}
    data: bytes | None = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                name = checked_member(member, staged, (CONTENT,))
                if name in found or (name == CONTENT and data is not None):
                    raise BadArchive(f"it holds {name} twice")
                # Headers state sizes before the data: an archive that would fill the disk (a
                # gzip bomb) is refused before its data is decompressed.
                total += member.size
                if total > room:
                    raise BadArchive(
                        f"it would unpack to more than the {room} bytes this disk can spare"
                    )
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has contents
                if name == CONTENT:
                    data = source.read()
                    continue
                file_name = name.removeprefix(f"{MEDIA}/")
                if not images.FILE_NAME.match(file_name):
                    raise BadArchive(f"it holds {name}, which is not the name of an upload")
                try:
                    found[file_name] = _copy(source, staged / name)
                except OSError as error:
                    raise BadArchive(f"{name} cannot be unpacked ({error.strerror})") from error
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BadArchive(f"it is not a complete .tar.gz archive ({error})") from error
    if data is None:
        raise BadArchive(f"it has no {CONTENT}, so it is not a Dateline export")
    content = _parsed(data)
    listed = {entry["name"]: (entry["size"], entry["sha256"]) for entry in content["files"]}
    for name in sorted(found.keys() | listed.keys()):
        if name not in listed:
            raise BadArchive(f"{MEDIA}/{name} is not listed in {CONTENT}")
        if name not in found:
            raise BadArchive(f"{MEDIA}/{name} is listed in {CONTENT} but missing")
        if found[name] != listed[name]:
            raise BadArchive(
                f"the size or checksum of {MEDIA}/{name} does not match: it is damaged"
            )
        _check_image(staged / MEDIA / name)
    return content


def _parsed(data: bytes) -> dict[str, Any]:
    """``content.json``'s top level, if it is an export this version reads."""
    try:
        content = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadArchive(f"its {CONTENT} is not valid JSON ({error})") from error
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
    files = content.get("files")
    if not isinstance(files, list) or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and isinstance(entry.get("size"), int)
        and isinstance(entry.get("sha256"), str)
        for entry in files
    ):
        raise BadArchive("its list of files is malformed: each needs a name, size and sha256")
    return content


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


def _checked_rows(content: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every record of the archive as a row to insert, checked; BadArchive names a bad one."""
    rows: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, set[Any]] = {}
    for kind, table in KINDS.items():
        records = content.get(kind, [])
        if not isinstance(records, list):
            raise BadArchive(f"its {kind} are not a list")
        unique = {column.name: set[Any]() for column in columns(kind) if column.unique}
        primary = [column.name for column in table.primary_key.columns]
        keys[kind] = set()
        rows[kind] = []
        for index, record in enumerate(records):
            where = f"{kind}[{index}]"
            if isinstance(record, dict) and isinstance(record.get("id"), int):
                where += f" (id {record['id']})"
            row = _row(kind, record, where)
            key = tuple(row.get(name) for name in primary)
            if key in keys[kind]:
                raise BadArchive(f"{where} repeats the key of an earlier record")
            keys[kind].add(key)
            for name, seen in unique.items():
                if row.get(name) is not None and row[name] in seen:
                    raise BadArchive(f"{where}: {name} {row[name]!r} is taken by an earlier record")
                seen.add(row.get(name))
            for column in columns(kind):
                for foreign in column.foreign_keys:
                    target = foreign.column.table.name
                    value = row.get(column.name)
                    if value is not None and (value,) not in keys[target]:
                        raise BadArchive(f"{where}: {column.name} {value} is not in its {target}")
            rows[kind].append(row)
    return rows


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
    elif isinstance(type_, sa.String):
        if not isinstance(value, str):
            raise ValueError("must be text")
        if "\0" in value:
            raise ValueError("holds a NUL character")
        if type_.length is not None and len(value) > type_.length:
            raise ValueError(f"is longer than {type_.length} characters")
        _check_text(kind, column.name, value)
    return value


def _check_text(kind: str, name: str, value: str) -> None:
    """Refuse text outside the choices or the form that the field takes."""
    choices = CHOICES.get((kind, name))
    if choices is not None and value not in choices:
        raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
    if (kind, name) in IMAGE_FIELDS and not images.NAME.match(value):
        raise ValueError(f"{value!r} is not the name of an uploaded image")
    if (kind, name) == ("users", "username") and not USERNAME.match(value):
        raise ValueError(f"{value!r} is not a username Dateline takes")


def _place(staged: Path, media: Path) -> list[Path]:
    """Move the staged media into ``media``, leaving files already there; return those moved."""
    placed: list[Path] = []
    try:
        for path in sorted(staged.iterdir()) if staged.is_dir() else []:
            target = media / path.name
            if not target.exists():
                shutil.move(path, target)
                placed.append(target)
    except OSError as error:
        for path in placed:
            path.unlink(missing_ok=True)
        raise click.ClickException(
            f"cannot copy the media: {error}. Nothing was changed."
        ) from error
    return placed


def _insert(rows: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """Insert every row in one transaction with the search index; return how many bodies
    rendered differently from the archive's HTML, and the count of indexed articles.
    """
    rerendered = 0
    for row in rows["articles"]:
        rerendered += _render(row)
    for row in rows["users"]:
        # A password nobody knows, until the person chooses one through a set-password link.
        locked = User()
        locked.set_password(secrets.token_urlsafe(32))
        row["password_hash"], row["session_token"] = locked.password_hash, locked.session_token
    connection = db.session.connection()
    for kind, table in KINDS.items():
        for group in _alike(rows[kind]):
            db.session.execute(table.insert(), group)
    if connection.dialect.name == "postgresql":
        # The ids came from the archive: each table's sequence continues after the largest.
        for table in KINDS.values():
            if "id" in table.c:
                sequence = sa.func.pg_get_serial_sequence(table.name, "id")
                after = sa.func.coalesce(sa.func.max(table.c.id), 0) + 1
                db.session.execute(sa.select(sa.func.setval(sequence, after, False)))
    return rerendered, reindex_all()  # commits


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


def _alike(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in groups with the same fields, each inserted by one statement."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        for start in range(0, len(group), BATCH):
            yield group[start : start + BATCH]


def _advice(
    content: dict[str, Any], rows: dict[str, list[dict[str, Any]]], rerendered: int
) -> Iterator[str]:
    """What the person who imported should do next, line by line."""
    if rerendered:
        yield (
            f"{rerendered} article bodies were rendered from their Markdown into HTML that"
            " differs from the archive's (made by another version of Dateline, or edited)."
        )
    files = {entry["name"] for entry in content["files"]}
    named = {row[field] for kind, field in IMAGE_FIELDS for row in rows[kind] if row.get(field)}
    if missing := sorted(named - files):
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
    admins = sorted(
        row["username"]
        for row in rows["users"]
        if row.get("role") == "admin" and row.get("active", True)
    )
    if rows["users"]:
        yield (
            "Imported people have no password (an archive carries none). Give an admin one with"
            f" `flask --app app set-password {admins[0] if admins else 'USERNAME'}`, sign in,"
            ' and send the others their set-password links with "Reset password" on the'
            " People page (/admin/people)."
        )

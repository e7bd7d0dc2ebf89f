"""Backup and restore: one .tar.gz with a snapshot of the SQLite database and every upload."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import click
from alembic.script import ScriptDirectory
from flask import Flask
from flask.cli import with_appcontext

from blog.database import MIGRATIONS
from blog.dates import utcnow
from blog.extensions import db
from blog.storage import current_media, sync_folder
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
    reading,
)

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "dateline.db"
STAMP = "%Y%m%dT%H%M%SZ"
MANIFEST_LIMIT = 16 * MIB
EXISTS = "a backup never replaces a file"


def init_app(app: Flask) -> None:
    """Add ``backup`` and ``restore`` to ``flask``."""
    app.cli.add_command(backup)
    app.cli.add_command(restore)


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(path_type=Path))
def backup(dest: Path) -> None:
    """Write the database and the media to one archive at DEST (a file or a folder).

    The site may keep serving and saving meanwhile. An existing file is never overwritten.
    """
    live = _sqlite_path()
    if not live.is_file():
        raise click.ClickException(f"there is no database at {live}")
    target = _archive_path(dest)
    # The scratch space sits beside the archive, so finishing it is a rename on one disk.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".dateline-backup-") as scratch:
        snapshot = Path(scratch) / DATABASE
        _snapshot(live, snapshot)
        # Uploads are written before the article that names them is committed and are never
        # changed, so listing them after the snapshot finds every image the snapshot uses.
        media = current_media()
        uploads = [(f"{MEDIA}/{name}", media.folder / name) for name in media.names()]
        members = [(DATABASE, snapshot), *uploads]
        partial = Path(scratch) / target.name
        _write_archive(partial, members, _revision(snapshot))
        publish(partial, target, exists=EXISTS)
    click.echo(f"Backed up the database and {len(members) - 1} media file(s) to {target}")


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current data without asking.")
def restore(archive: Path, yes: bool) -> None:
    """Put the backup ARCHIVE back on a stopped site, keeping the current data aside."""
    live, media = _sqlite_path(), current_media().folder
    live.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=live.parent, prefix=".dateline-restore-") as scratch:
        staged = Path(scratch)
        try:
            manifest = _unpack(archive, staged)
            advice = _schema_advice(_revision(staged / DATABASE))
        except BadArchive as problem:
            message = f"cannot restore {archive}: {problem}. Nothing was changed."
            raise click.ClickException(message) from problem
        if not yes:
            click.confirm(
                f"Replace {live} and {media} with the backup made {manifest['created']}?",
                abort=True,
            )
        db.engine.dispose()  # this process keeps no connection to the database it replaces
        # The lock is held until the renames are done, so no site can start in between and
        # go on writing to the database being set aside.
        with _exclusive(live):
            aside = _set_aside(live, media)
            if aside:
                kept = ", ".join(str(new) for _old, new in aside if not _is_sidecar(new))
                click.echo(f"Keeping the current data as {kept}")
            try:
                _swap_in(staged, live, media, aside)
            except OSError as error:
                raise click.ClickException(
                    f"cannot restore {archive}: {error}. The current data was put back."
                    " Nothing was changed."
                ) from error
        sync_folder(live.parent)
    count = len(manifest["files"]) - 1
    click.echo(f"Restored the database and {count} media file(s) from {archive}.")
    if advice:
        click.echo(advice)


def _sqlite_path() -> Path:
    """The file of the site's SQLite database; a clear error for any other database."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            f"backup and restore work with SQLite only; this site uses {url.get_backend_name()}."
            " Use that database's own tools (pg_dump and pg_restore for PostgreSQL) and copy"
            f" the media folder {current_media().folder} beside the dump."
        )
    if url.database in (None, "", ":memory:"):
        raise click.ClickException("the database lives in memory; backups need a database file")
    return Path(url.database).absolute()


def _archive_path(dest: Path) -> Path:
    """``dest``, or a timestamped name in it when it is a folder; never an existing file."""
    target = dest / f"dateline-{utcnow():{STAMP}}.tar.gz" if dest.is_dir() else dest
    check_target(target, EXISTS)
    return target


def _snapshot(live: Path, copy: Path) -> None:
    """Copy the live database with SQLite's online backup API into a self-contained file."""
    # mode=ro: a backup never writes to the live database. The copy is made inside one read
    # transaction begun first: in WAL mode writers carry on meanwhile, and the copy is of the
    # moment the transaction began, however the copy is stepped.
    with (
        closing(sqlite3.connect(f"{live.as_uri()}?mode=ro", uri=True, timeout=15)) as source,
        closing(sqlite3.connect(copy)) as target,
    ):
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_schema").fetchall()
        source.backup(target)
        source.rollback()
        target.execute("PRAGMA journal_mode = DELETE")  # no -wal file beside the copy
        problems = _integrity_problems(target)
    if problems:
        raise click.ClickException(f"the live database fails its integrity check: {problems}")


def _integrity_problems(connection: sqlite3.Connection) -> str:
    """What ``PRAGMA integrity_check`` reports, or an empty string when it says "ok"."""
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return "" if rows == ["ok"] else "; ".join(rows[:5])


def _revision(database: Path) -> str | None:
    """The Alembic schema revision recorded in ``database``."""
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            return None
    return row[0] if row else None


def _write_archive(archive: Path, members: list[tuple[str, Path]], revision: str | None) -> None:
    """Write ``members`` and a manifest of their sizes and SHA-256 sums, synced to disk."""
    entries = []
    with create_private(archive) as file:
        with tarfile.open(fileobj=file, mode="w:gz") as tar:
            for name, path in members:
                size, digest = add_file(tar, name, path)
                entries.append({"name": name, "size": size, "sha256": digest})
            manifest = {
                "format": FORMAT,
                "created": utcnow().isoformat(timespec="seconds"),
                "schema_revision": revision,
                "files": entries,
            }
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
        file.flush()
        os.fsync(file.fileno())


def _unpack(archive: Path, staged: Path) -> dict[str, Any]:
    """Check ``archive``, extract it into ``staged`` and check that too; return its manifest."""
    with reading(archive) as tar:
        members, manifest = _listing(tar, staged)
        (staged / MEDIA).mkdir()
        found = {name: extract(tar, member, staged) for name, member in members.items()}
    check_listed(found, manifest["files"], MANIFEST)
    try:
        with closing(sqlite3.connect(f"{(staged / DATABASE).as_uri()}?mode=ro", uri=True)) as con:
            problems = _integrity_problems(con)
    except sqlite3.DatabaseError as error:
        problems = str(error)
    if problems:
        raise BadArchive(f"its database fails SQLite's integrity check: {problems}")
    return manifest


def _listing(
    tar: tarfile.TarFile, staged: Path
) -> tuple[dict[str, tarfile.TarInfo], dict[str, Any]]:
    """Read every member's header and the manifest, writing nothing; refuse what won't fit."""
    members: dict[str, tarfile.TarInfo] = {}
    manifest = None
    for member in checked_members(tar, staged, (MANIFEST, DATABASE)):
        if member.name == MANIFEST:
            manifest = _parsed_manifest(read_json(tar, member, MANIFEST_LIMIT))
        else:
            members[member.name] = member
    if manifest is None:
        raise BadArchive(f"it has no {MANIFEST}, so it is not a Dateline backup")
    # The sums are known once the files are unpacked; the sizes already.
    check_listed(
        {name: (info.size, None) for name, info in members.items()}, manifest["files"], MANIFEST
    )
    if DATABASE not in members:
        raise BadArchive(f"it holds no {DATABASE}")
    return members, manifest


def _parsed_manifest(manifest: Any) -> dict[str, Any]:
    """The manifest, if it is one this version understands, its files as name: (size, sum)."""
    try:
        version = manifest["format"]
        if not isinstance(manifest["created"], str):
            raise TypeError(manifest["created"])
        files = manifest["files"]
    except (KeyError, TypeError) as error:
        raise BadArchive(f"its {MANIFEST} is malformed") from error
    if version != FORMAT:
        raise BadArchive(f"it has backup format {version!r}; this version reads {FORMAT}")
    return {**manifest, "files": file_list(files, MANIFEST)}


def _schema_advice(revision: str | None) -> str:
    """What to run after restoring a database at ``revision``, if anything."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    heads = scripts.get_heads()
    if revision in heads:
        return ""
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BadArchive(
            f"its schema revision {revision!r} is unknown to this version of Dateline;"
            " restore it with the version that made it"
        )
    return (
        f"The backup's schema (revision {revision}) is older than this version's"
        f" ({', '.join(heads)}): run `flask --app app init-db` now to upgrade it."
    )


@contextmanager
def _exclusive(live: Path) -> Iterator[None]:
    """Hold an exclusive lock on the database; refuse while any process has it open."""
    if not live.exists():
        yield
        return
    with closing(sqlite3.connect(live, timeout=0)) as connection:
        try:
            connection.execute("PRAGMA locking_mode = EXCLUSIVE")
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as error:
            raise click.ClickException(
                f"the database is in use ({error}): stop the site, then restore again."
                " Nothing was changed."
            ) from error
        try:
            yield
        finally:
            connection.rollback()


def _set_aside(live: Path, media: Path) -> list[tuple[Path, Path]]:
    """The renames that keep the current database (with its -wal and -shm) and media aside."""
    suffix = f".before-restore-{utcnow():{STAMP}}"
    kept_db = live.with_name(live.name + suffix)
    # The -wal file keeps SQLite's naming so that the kept database opens with its last saves.
    moves = [
        (live, kept_db),
        *((Path(f"{live}{end}"), Path(f"{kept_db}{end}")) for end in ("-wal", "-shm")),
        (media, media.with_name(media.name + suffix)),
    ]
    moves = [(old, new) for old, new in moves if old.exists()]
    if taken := [new for _old, new in moves if new.exists()]:
        raise click.ClickException(f"{taken[0]} exists; try again in a second")
    return moves


def _is_sidecar(path: Path) -> bool:
    """Whether ``path`` is SQLite's -wal or -shm file, which goes with its database."""
    return path.name.endswith(("-wal", "-shm"))


def _swap_in(staged: Path, live: Path, media: Path, aside: list[tuple[Path, Path]]) -> None:
    """Rename the current data aside and the staged data in; on failure, undo all of it."""
    done: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for old, new in aside:
            old.rename(new)
            done.append((old, new))
        # The database arrives by rename of a complete, synced file: never half-written.
        placed.append(live)
        os.replace(staged / DATABASE, live)
        media.parent.mkdir(parents=True, exist_ok=True)
        # On another disk the media are copied, so a failure can leave part of them behind.
        placed.append(media)
        shutil.move(staged / MEDIA, media)
    except OSError as error:
        try:
            for path in placed:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            for old, new in reversed(done):
                new.rename(old)
        except OSError as undo:
            raise click.ClickException(
                f"the restore failed ({error}) and so did putting the current data back ({undo}):"
                " it is kept under the names printed above"
            ) from undo
        raise

"""Backup and restore: a snapshot taken while articles are being saved, and damaged archives."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import threading
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

import blog.backup
from blog import create_app
from blog.backup import DATABASE, MANIFEST
from blog.database import MIGRATIONS
from blog.extensions import db
from blog.models import Article
from tests.conftest import Auth, body_for, csrf_token

# Backups are SQLite's: a snapshot of its file (other databases are sent to their own tools).
pytestmark = pytest.mark.sqlite

WRITERS = 3
Member = tuple[tarfile.TarInfo, bytes]


def picture(writer: int, n: int) -> io.BytesIO:
    """A PNG different for every save."""
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), (writer * 60, n % 256, n // 256)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def sqlite_file(app: Flask) -> Path:
    """The database file of ``app``."""
    with app.app_context():
        return Path(db.engine.url.database)


def files_under(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256, to show that nothing changed."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def members_of(archive: Path) -> list[Member]:
    """The members of an archive with their contents."""
    with tarfile.open(archive, "r:gz") as tar:
        return [(info, tar.extractfile(info).read()) for info in tar]


def pack(archive: Path, members: list[Member]) -> Path:
    """Write ``members`` as a .tar.gz archive."""
    with tarfile.open(archive, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return archive


def with_manifest(members: list[Member]) -> list[Member]:
    """``members`` with the manifest's file list made to match them again."""
    manifest_info, manifest_data = members[-1]
    manifest = json.loads(manifest_data)
    manifest["files"] = [
        {"name": info.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for info, data in members[:-1]
    ]
    return [*members[:-1], (manifest_info, json.dumps(manifest).encode())]


def with_database(members: list[Member], change: Callable[[Path], None], scratch: Path) -> bytes:
    """The archive's database after ``change`` was applied to a copy of it."""
    copy = scratch / "changed.db"
    copy.write_bytes(dict((info.name, data) for info, data in members)[DATABASE])
    change(copy)
    return copy.read_bytes()


def replaced(members: list[Member], name: str, data: bytes) -> list[Member]:
    """``members`` with the contents of ``name`` swapped for ``data``."""
    return [(info, data if info.name == name else old) for info, old in members]


def signed_in_clients(client: FlaskClient, auth: Auth, count: int) -> tuple[list[FlaskClient], str]:
    """``count`` clients sharing one editor's session, and that session's CSRF token."""
    auth.login("editor")
    token = csrf_token(client, "/editor/articles/new")
    clients = [client.application.test_client() for _ in range(count)]
    for other in clients:
        other.set_cookie("session", client.get_cookie("session").value)
    return clients, token


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """A second site with its own, still empty, database and media folders."""
    folder = tmp_path / "fresh"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'dateline.db'}",
            "MEDIA_DIR": str(folder / "media"),
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def archive(app: Flask, runner, make_article, tmp_path: Path) -> Path:
    """A backup of a site with two articles and one upload."""
    make_article("First")
    make_article("Second")
    media = Path(app.config["MEDIA_DIR"])
    media.mkdir(parents=True)
    (media / f"{'a' * 32}.png").write_bytes(picture(0, 0).getvalue())
    path = tmp_path / "archives" / "site.tar.gz"
    path.parent.mkdir()
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return path


class _PausingSqlite:
    """blog.backup's sqlite3, whose database copies stop part-way once to run ``pause``."""

    def __init__(self, pause: Callable[[], None]) -> None:
        self.pause = pause
        self.paused = False
        sqlite = self

        class Connection(sqlite3.Connection):
            """A connection whose backup copies one page at a time, pausing after the first."""

            def backup(self, target: sqlite3.Connection, **options: Any) -> None:
                """Copy in single pages, running ``pause`` once, between two of them."""
                super().backup(target, **options, pages=1, progress=sqlite.step)

        self.connection = Connection

    def __getattr__(self, name: str) -> Any:
        """Everything else is the real module's."""
        return getattr(sqlite3, name)

    def connect(self, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        """A real connection that pauses its backup part-way."""
        return sqlite3.connect(*args, **kwargs, factory=self.connection)

    def step(self, _status: int, remaining: int, _total: int) -> None:
        """After the first page of the first copy, run ``pause``."""
        if remaining and not self.paused:
            self.paused = True
            self.pause()


def test_backup_taken_during_a_burst_of_saves_restores_a_consistent_prefix(
    client, auth, runner, fresh_app, tmp_path, monkeypatch
):
    clients, token = signed_in_clients(client, auth, WRITERS)
    saved = [0] * WRITERS
    progress = threading.Condition()
    stop = threading.Event()

    def write(writer: int) -> None:
        """Save articles one after another, each with its own picture, until told to stop."""
        client = clients[writer]
        try:
            while not stop.is_set():
                title = f"Writer {writer} save {saved[writer]:04}"
                response = client.post(
                    "/editor/articles/new",
                    data={
                        "csrf_token": token,
                        "title": title,
                        "body": body_for(title),
                        "status": "published",
                        "hero_image": (picture(writer, saved[writer]), "picture.png"),
                        "hero_alt": f"Picture of {title}",
                    },
                )
                assert response.status_code == 303, response.text
                assert client.get(response.headers["Location"]).status_code == 200
                with progress:
                    saved[writer] += 1
                    progress.notify_all()
        finally:
            stop.set()  # a writer that fails stops the others and the waiting below
            with progress:
                progress.notify_all()

    def saves_beyond(counts: list[int]) -> bool:
        """Wait until every writer has saved more than ``counts``; False if one stopped."""
        with progress:
            progress.wait_for(
                lambda: stop.is_set() or all(map(int.__gt__, saved, counts)), timeout=30
            )
        return not stop.is_set()

    during_copy: list[int] = []

    def let_two_saves_each_complete() -> None:
        """Wait, mid-copy, until every writer has finished two more saves."""
        if saves_beyond(list(saved)) and saves_beyond(list(saved)):
            during_copy.extend(saved)

    monkeypatch.setattr(blog.backup, "sqlite3", _PausingSqlite(let_two_saves_each_complete))
    archive = tmp_path / "during.tar.gz"
    backup = None
    with ThreadPoolExecutor(WRITERS) as pool:
        writers = [pool.submit(write, n) for n in range(WRITERS)]
        try:
            if saves_beyond([1] * WRITERS):
                backup = runner.invoke(args=["backup", str(archive)])
        finally:
            stop.set()
        for writer in writers:
            writer.result()
    assert backup is not None and backup.exit_code == 0, backup and backup.output
    # Saves completed while the copy was under way, so a backup that shut writers out fails.
    assert len(during_copy) == WRITERS

    restored = fresh_app.test_cli_runner().invoke(args=["restore", "--yes", str(archive)])
    assert restored.exit_code == 0, restored.output
    with closing(sqlite3.connect(sqlite_file(fresh_app))) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    media = Path(fresh_app.config["MEDIA_DIR"])
    with fresh_app.app_context():
        articles = list(db.session.scalars(sa.select(Article)))
        by_writer: dict[int, list[int]] = {n: [] for n in range(WRITERS)}
        for article in articles:
            assert article.body == body_for(article.title)
            assert f"Paragraph 7 of {article.title}." in article.body_html
            image = (media / article.hero_image).read_bytes()
            assert hashlib.sha256(image).hexdigest()[:32] == article.hero_image.split(".")[0]
            _, writer, _, n = article.title.split()
            by_writer[int(writer)].append(int(n))
    # Each writer saves one article after another, so a snapshot of one moment holds,
    # for each writer, their first saves and none after a gap. Of the two saves each writer
    # completed during the copy, the first may have been in flight when it began; not both.
    for writer, numbers in by_writer.items():
        assert sorted(numbers) == list(range(len(numbers)))
        assert 0 < len(numbers) < during_copy[writer]


def test_backup_into_a_folder_names_the_file_and_lists_every_file(app, runner, archive):
    result = runner.invoke(args=["backup", str(archive.parent)])
    assert result.exit_code == 0, result.output
    [made] = [path for path in archive.parent.iterdir() if path != archive]
    assert made.name.startswith("dateline-") and made.name.endswith(".tar.gz")
    assert str(made) in result.output
    assert made.stat().st_mode & 0o077 == 0
    members = members_of(made)
    manifest = json.loads(members[-1][1])
    with closing(sqlite3.connect(sqlite_file(app))) as connection:
        [(revision,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert manifest["format"] == 1 and manifest["created"]
    assert manifest["schema_revision"] == revision
    assert manifest["files"] == [
        {"name": info.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for info, data in members[:-1]
    ]
    assert [entry["name"] for entry in manifest["files"]] == [DATABASE, f"media/{'a' * 32}.png"]


def test_backup_never_overwrites_a_file(runner, archive):
    before = archive.read_bytes()
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code != 0 and "exists" in result.output
    assert archive.read_bytes() == before


def test_backup_and_restore_send_other_databases_to_their_own_tools(archive, tmp_path):
    site = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+pg8000://news@db.example/dateline",
            # A stand-in driver: the commands must refuse before connecting to anything.
            "SQLALCHEMY_ENGINE_OPTIONS": {"module": types.SimpleNamespace(paramstyle="format")},
            "MEDIA_DIR": str(tmp_path / "media"),
        }
    )
    runner = site.test_cli_runner()
    for args in (["backup", str(tmp_path)], ["restore", "--yes", str(archive)]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert "SQLite only" in result.output and "pg_dump" in result.output


def test_restore_keeps_the_current_data_aside(app, runner, archive, make_article):
    make_article("Written after the backup")
    live = sqlite_file(app)
    media = Path(app.config["MEDIA_DIR"])
    (media / f"{'b' * 32}.png").write_bytes(picture(1, 1).getvalue())

    result = runner.invoke(args=["restore", "--yes", str(archive)])

    assert result.exit_code == 0, result.output
    with app.app_context():
        titles = set(db.session.scalars(sa.select(Article.title)))
    assert titles == {"First", "Second"}
    assert sorted(path.name for path in media.iterdir()) == [f"{'a' * 32}.png"]
    [kept_db] = live.parent.glob(f"{live.name}.before-restore-*[0-9]Z")
    [kept_media] = media.parent.glob(f"{media.name}.before-restore-*")
    assert str(kept_db) in result.output and str(kept_media) in result.output
    with closing(sqlite3.connect(kept_db)) as connection:
        assert ("Written after the backup",) in connection.execute("SELECT title FROM articles")
    assert (kept_media / f"{'b' * 32}.png").exists()
    assert "init-db" not in result.output


def test_restore_asks_first_and_changes_nothing_when_told_no(app, runner, archive, tmp_path):
    before = files_under(tmp_path)
    result = runner.invoke(args=["restore", str(archive)], input="n\n")
    assert result.exit_code != 0 and "Replace" in result.output
    assert files_under(tmp_path) == before


def test_restore_refuses_while_the_site_has_the_database_open(app, runner, archive, tmp_path):
    with closing(sqlite3.connect(sqlite_file(app))) as site:
        site.execute("SELECT count(*) FROM articles").fetchall()
        before = files_under(tmp_path)
        result = runner.invoke(args=["restore", "--yes", str(archive)])
        assert files_under(tmp_path) == before
    assert result.exit_code != 0 and "stop the site" in result.output


def test_restore_of_an_older_schema_says_to_run_init_db(runner, archive, tmp_path):
    scripts = ScriptDirectory(str(MIGRATIONS))
    older = scripts.get_revision(scripts.get_current_head()).down_revision

    def downgrade_label(database: Path) -> None:
        """Record the previous revision, as a backup made before the last upgrade would."""
        with closing(sqlite3.connect(database)) as connection, connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (older,))

    members = members_of(archive)
    data = with_database(members, downgrade_label, tmp_path)
    old = pack(tmp_path / "old.tar.gz", with_manifest(replaced(members, DATABASE, data)))

    result = runner.invoke(args=["restore", "--yes", str(old)])

    assert result.exit_code == 0, result.output
    assert f"revision {older}" in result.output and "init-db" in result.output


def corrupt_pages(database: Path) -> None:
    """Overwrite the middle of the file with noise, leaving the header intact."""
    data = bytearray(database.read_bytes())
    data[4096 : len(data) - 4096] = b"\x5a" * (len(data) - 8192)
    database.write_bytes(bytes(data))


def relabel_revision(database: Path) -> None:
    """Record a schema revision this version of Dateline has never heard of."""
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dcafe0000'")


def halved(data: bytes) -> bytes:
    """The first half of ``data``, as a copy cut short would be."""
    return data[: len(data) // 2]


def link(name: str) -> tarfile.TarInfo:
    """A symbolic link member pointing outside."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return info


def extra(name: str) -> tuple[tarfile.TarInfo, bytes]:
    """A plain file member called ``name``."""
    return tarfile.TarInfo(name), b"owned"


BAD_ARCHIVES: dict[str, tuple[Callable[[list[Member], Path], list[Member] | bytes], str]] = {
    "truncated": (
        lambda members, scratch: halved(pack(scratch / "whole.tar.gz", members).read_bytes()),
        "not a complete .tar.gz archive",
    ),
    "not an archive": (lambda members, scratch: b"name,title\n1,Hello\n", "not a complete"),
    "wrong checksum": (
        lambda members, scratch: replaced(
            members, f"media/{'a' * 32}.png", b"x" * len(members[1][1])
        ),
        "checksum of media/",
    ),
    "wrong size": (
        lambda members, scratch: replaced(members, f"media/{'a' * 32}.png", b"x" * 100),
        "size of media/",
    ),
    "a file and a folder of one name": (
        lambda members, scratch: with_manifest(
            [extra("media/x"), extra("media/x/y.png"), *members]
        ),
        "media/x/y.png cannot be unpacked",
    ),
    "parent traversal": (
        lambda members, scratch: with_manifest([extra("../evil.txt"), *members]),
        "'../evil.txt', a name outside",
    ),
    "traversal inside media": (
        lambda members, scratch: with_manifest([extra("media/../../evil.txt"), *members]),
        "a name outside",
    ),
    "absolute path": (
        lambda members, scratch: with_manifest([extra(f"{scratch}/evil.txt"), *members]),
        "a name outside",
    ),
    "symbolic link": (
        lambda members, scratch: [(link("media/evil.png"), b""), *members],
        "not a plain file",
    ),
    "no manifest": (lambda members, scratch: members[:-1], f"no {MANIFEST}"),
    "unlisted file": (
        lambda members, scratch: [extra(f"media/{'c' * 32}.png"), *members],
        "is not listed",
    ),
    "listed file missing": (
        lambda members, scratch: [m for m in members if not m[0].name.startswith("media/")],
        "listed in manifest.json but missing",
    ),
    "deeply nested manifest": (
        lambda members, scratch: [*members[:-1], (members[-1][0], b"[" * 100_000)],
        f"its {MANIFEST} nests lists or objects too deeply",
    ),
    "malformed manifest": (
        lambda members, scratch: [*members[:-1], (members[-1][0], b'{"format": 1}')],
        "malformed",
    ),
    "damaged database": (
        lambda members, scratch: with_manifest(
            replaced(members, DATABASE, with_database(members, corrupt_pages, scratch))
        ),
        "integrity check",
    ),
    "unknown schema": (
        lambda members, scratch: with_manifest(
            replaced(members, DATABASE, with_database(members, relabel_revision, scratch))
        ),
        "unknown to this version",
    ),
}


@pytest.mark.parametrize("case", BAD_ARCHIVES)
def test_restore_refuses_a_bad_archive_and_changes_nothing(runner, archive, tmp_path, case):
    make, problem = BAD_ARCHIVES[case]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    made = make(members_of(archive), scratch)
    bad = tmp_path / "archives" / "bad.tar.gz"
    if isinstance(made, bytes):
        bad.write_bytes(made)
    else:
        pack(bad, made)
    before = files_under(tmp_path)

    result = runner.invoke(args=["restore", "--yes", str(bad)])

    assert result.exit_code != 0
    assert problem in result.output and "Nothing was changed" in result.output
    assert files_under(tmp_path) == before


def test_restore_of_a_manifest_without_a_date_refuses_instead_of_crashing(
    runner, archive, tmp_path
):
    members = members_of(archive)
    manifest = json.loads(members[-1][1])
    del manifest["created"]
    bad = pack(
        tmp_path / "undated.tar.gz",
        [*members[:-1], (members[-1][0], json.dumps(manifest).encode())],
    )
    before = files_under(tmp_path)

    result = runner.invoke(args=["restore", str(bad)], input="y\n")

    assert result.exit_code == 1 and "malformed" in result.output
    assert "Nothing was changed" in result.output
    assert files_under(tmp_path) == before


def test_restore_refuses_an_archive_larger_than_the_disk_can_spare_before_writing(
    runner, archive, tmp_path, monkeypatch
):
    zeros = b"\0" * (4 * 1024 * 1024)  # a few kilobytes once compressed
    bomb = pack(
        tmp_path / "bomb.tar.gz",
        with_manifest([(tarfile.TarInfo(f"media/{'d' * 32}.png"), zeros), *members_of(archive)]),
    )
    written: list[tarfile.TarInfo] = []
    monkeypatch.setattr(
        blog.backup, "extract", lambda _tar, member, _staged: written.append(member)
    )
    room = types.SimpleNamespace(total=10 * len(zeros), used=9 * len(zeros), free=len(zeros))
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: room)
    before = files_under(tmp_path)

    result = runner.invoke(args=["restore", "--yes", str(bomb)])

    assert result.exit_code == 1 and "this disk can spare" in result.output
    assert "Nothing was changed" in result.output
    assert written == [] and files_under(tmp_path) == before


def files_and_rows(app: Flask, folder: Path) -> tuple[dict[str, str], list[str]]:
    """Every file under ``folder`` but the database's, and the database's contents as SQL."""
    # Closing SQLite's last connection folds the -wal file into the database: same rows.
    live = sqlite_file(app)
    with closing(sqlite3.connect(live)) as connection:
        rows = list(connection.iterdump())
    files = {
        name: digest
        for name, digest in files_under(folder).items()
        if name not in (live.name, f"{live.name}-wal", f"{live.name}-shm")
    }
    return files, rows


def fail_part_way(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """Make restoring's ``step`` fail as a full disk would, after doing part of its work."""
    if step == "database":

        def replace(source: Path, target: Path) -> None:
            """Refuse to put the database in place."""
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "replace", replace)
    else:

        def move(source: Path, target: Path) -> None:
            """Copy one file across, as a move to another disk would, then run out of room."""
            Path(target).mkdir()
            first = next(Path(source).iterdir())
            shutil.copy(first, Path(target) / first.name)
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(shutil, "move", move)


@pytest.mark.parametrize("step", ["database", "media"])
def test_restore_that_fails_part_way_puts_the_current_data_back(
    app, runner, archive, make_article, tmp_path, monkeypatch, step
):
    make_article("Written after the backup")
    before = files_and_rows(app, tmp_path)
    fail_part_way(monkeypatch, step)

    result = runner.invoke(args=["restore", "--yes", str(archive)])

    assert result.exit_code == 1
    assert "No space left on device" in result.output and "put back" in result.output
    assert "Keeping the current data as" in result.output
    assert files_and_rows(app, tmp_path) == before


def test_restore_keeps_the_database_locked_until_it_is_set_aside(
    app, runner, archive, tmp_path, monkeypatch
):
    live = sqlite_file(app)
    move = shutil.move
    attempts: list[str] = []

    def open_the_set_aside_database(source: Path, target: Path) -> None:
        """Try to read the set-aside database, as a site started just now would, then move."""
        [kept] = live.parent.glob(f"{live.name}.before-restore-*[0-9]Z")
        with closing(sqlite3.connect(kept, timeout=0)) as site:
            try:
                site.execute("SELECT count(*) FROM articles").fetchall()
                attempts.append("opened")
            except sqlite3.OperationalError as error:
                attempts.append(str(error))
        move(source, target)

    monkeypatch.setattr(shutil, "move", open_the_set_aside_database)
    result = runner.invoke(args=["restore", "--yes", str(archive)])

    assert result.exit_code == 0, result.output
    assert attempts == ["database is locked"]


def refuse_hard_links(source: Path, target: Path) -> None:
    """Fail as os.link does on a drive without hard links."""
    raise OSError(errno.EPERM, "Operation not permitted")


def test_backup_to_a_drive_without_hard_links_copies_the_archive(
    runner, archive, fresh_app, monkeypatch
):
    monkeypatch.setattr(os, "link", refuse_hard_links)
    copy = archive.with_name("copy.tar.gz")

    result = runner.invoke(args=["backup", str(copy)])

    assert result.exit_code == 0, result.output
    assert copy.stat().st_mode & 0o077 == 0
    assert [info.name for info, _ in members_of(copy)] == [i.name for i, _ in members_of(archive)]
    restored = fresh_app.test_cli_runner().invoke(args=["restore", "--yes", str(copy)])
    assert restored.exit_code == 0, restored.output


def test_backup_to_a_drive_without_hard_links_still_never_overwrites(runner, archive, monkeypatch):
    copy = archive.with_name("copy.tar.gz")

    def another_writer_takes_the_name(source: Path, target: Path) -> None:
        """Let something else create the file first, then fail as a drive without links does."""
        Path(target).write_bytes(b"someone else's")
        refuse_hard_links(source, target)

    monkeypatch.setattr(os, "link", another_writer_takes_the_name)
    result = runner.invoke(args=["backup", str(copy)])

    assert result.exit_code == 1 and "exists" in result.output
    assert copy.read_bytes() == b"someone else's"

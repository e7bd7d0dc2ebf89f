"""Media storage: whole writes, listing, deleting, serving, checked names, the shared kind's
syncs, the MEDIA_STORAGE setting, and two servers sharing one folder.
"""

from __future__ import annotations

import io
import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from werkzeug.exceptions import NotFound

from blog import create_app, images, storage
from blog.extensions import db
from blog.models import MediaItem, User
from blog.storage import LocalStorage, SharedStorage, current_media, throwaway_media
from tests.conftest import Auth
from tests.test_library import picture, upload

HASH = "0123456789abcdef" * 2
NAME = f"{HASH}.jpg"
RENDITIONS = [f"{HASH}-480.jpg", f"{HASH}-480.webp"]
KINDS = [LocalStorage, SharedStorage]


@pytest.mark.parametrize("kind", KINDS)
def test_a_write_appears_whole_under_its_name_or_not_at_all(tmp_path, monkeypatch, kind):
    media = kind(tmp_path / "media")
    seen = []
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        seen.append(
            (Path(source).name, Path(source).read_bytes(), media.exists(NAME), media.names())
        )
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    media.write(NAME, b"the whole picture")

    [(partial, data, visible, listed)] = seen
    assert partial.startswith(f".{NAME}.{socket.gethostname()}.{os.getpid()}.")
    assert partial.endswith(".part")
    assert (data, visible, listed) == (b"the whole picture", False, [])
    with media.open(NAME) as file:
        assert file.read() == b"the whole picture"
    assert stat.S_IMODE((media.folder / NAME).stat().st_mode) == 0o644
    assert sorted(path.name for path in media.folder.iterdir()) == [NAME]


@pytest.mark.parametrize(
    ("kind", "step"),
    [
        (LocalStorage, "fchmod"),
        (LocalStorage, "replace"),
        (SharedStorage, "fchmod"),
        (SharedStorage, "fsync"),
        (SharedStorage, "replace"),
    ],
)
def test_a_write_that_fails_part_way_leaves_nothing(tmp_path, monkeypatch, kind, step):
    """Each step comes after the data went into the temporary file."""

    def full_disk(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, step, full_disk)
    media = kind(tmp_path / "media")
    with pytest.raises(OSError, match="No space left"):
        media.write(NAME, b"half a picture")
    assert list(media.folder.iterdir()) == []
    assert not media.exists(NAME)


def test_names_lists_media_files_and_those_of_one_image(tmp_path):
    media = LocalStorage(tmp_path / "media")
    assert media.names() == []  # no folder yet
    other = f"{'f' * 32}.png"
    for name in [NAME, *RENDITIONS, other]:
        media.write(name, b"x")
    (media.folder / "notes.txt").write_text("not ours")
    (media.folder / f".{NAME}.host.1.abc.part").write_bytes(b"being written")
    (media.folder / f"{'e' * 32}.gif").mkdir()  # a folder, whatever its name

    assert media.names() == sorted([NAME, *RENDITIONS, other])
    assert media.names(HASH) == sorted([NAME, *RENDITIONS])
    assert media.names("f" * 32) == [other]
    assert media.names("a" * 32) == []


def test_delete_removes_one_file_and_a_missing_one_is_no_error(tmp_path):
    media = LocalStorage(tmp_path / "media")
    for name in [NAME, *RENDITIONS]:
        media.write(name, b"x")
    media.delete(RENDITIONS[0])
    media.delete(RENDITIONS[0])
    assert media.names() == sorted([NAME, RENDITIONS[1]])
    with pytest.raises(FileNotFoundError):
        media.open(RENDITIONS[0])


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../" + NAME,
        f"sub/{NAME}",
        "/etc/passwd",
        f"{NAME}\n",
        f"{HASH}.svg",
        f"{HASH.upper()}.jpg",
    ],
)
@pytest.mark.parametrize(
    "use",
    [
        lambda media, name: media.write(name, b"x"),
        lambda media, name: media.open(name),
        lambda media, name: media.exists(name),
        lambda media, name: media.delete(name),
        lambda media, name: media.response(name, 60),
    ],
    ids=["write", "open", "exists", "delete", "response"],
)
def test_names_outside_the_pattern_never_reach_the_disk(
    tmp_path, name: str, use: Callable[[LocalStorage, str], object]
):
    (tmp_path / NAME).write_bytes(b"outside the folder")
    media = LocalStorage(tmp_path / "media")
    with pytest.raises(ValueError, match="is not the name of a media file"):
        use(media, name)
    assert not media.folder.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_response_serves_the_file_with_its_type_for_good(app, tmp_path, kind):
    media = kind(tmp_path / "media")
    media.write(RENDITIONS[1], b"RIFF....WEBP")
    with app.test_request_context(), media.response(RENDITIONS[1], 3600) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.headers["Cache-Control"] == "public, max-age=3600, immutable"
        assert response.content_length == len(b"RIFF....WEBP")
    with app.test_request_context(), pytest.raises(NotFound):
        media.response(NAME, 3600)


def syncs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What os.fsync and os.replace are asked to do from now on, in order."""
    done: list[tuple[str, Any]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        done.append(("folder" if stat.S_ISDIR(info.st_mode) else "file", info.st_ino))
        real_fsync(fd)

    def replace(source: str, target: str) -> None:
        done.append(("rename", Path(target).name))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return done


def test_the_shared_kind_syncs_the_file_before_its_rename_and_the_folder_after(
    tmp_path, monkeypatch
):
    media = SharedStorage(tmp_path / "media")
    done = syncs(monkeypatch)
    media.write(NAME, b"picture")
    file, folder = media.folder / NAME, media.folder
    # The rename keeps the inode: the file synced is the one now under its name.
    assert done == [
        ("file", file.stat().st_ino),
        ("rename", NAME),
        ("folder", folder.stat().st_ino),
    ]


def test_the_local_kind_leaves_syncing_to_the_system(tmp_path, monkeypatch):
    done = syncs(monkeypatch)
    LocalStorage(tmp_path / "media").write(NAME, b"picture")
    assert done == [("rename", NAME)]


def test_the_shared_kind_reads_the_folder_anew_each_time(tmp_path):
    here, there = SharedStorage(tmp_path / "media"), SharedStorage(tmp_path / "media")
    assert there.names() == [] and not there.exists(NAME)
    here.write(NAME, b"picture")
    assert there.names(HASH) == [NAME] and there.exists(NAME)
    here.delete(NAME)
    assert there.names() == [] and not there.exists(NAME)


def test_local_storage_at_media_dir_is_the_default(app):
    with app.app_context():
        media = current_media()
    assert type(media) is LocalStorage
    assert media.folder == Path(app.config["MEDIA_DIR"])


def test_shared_storage_is_chosen_by_the_setting(tmp_path):
    site = Flask(__name__)
    site.config.update(MEDIA_STORAGE="shared", MEDIA_DIR=str(tmp_path / "media"))
    storage.init_app(site)
    with site.app_context():
        media = current_media()
    assert type(media) is SharedStorage
    assert media.folder == tmp_path / "media"


@pytest.mark.parametrize("setting", ["nfs", "Shared", ""])
def test_an_unknown_media_storage_stops_the_app_with_the_choices(tmp_path, setting):
    message = rf"MEDIA_STORAGE is '{setting}'; choose local or shared"
    with pytest.raises(ValueError, match=message):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'site.db'}",
                "MEDIA_STORAGE": setting,
            }
        )


def test_throwaway_media_lasts_for_the_block_only(app):
    with app.app_context():
        kept = current_media()
        with throwaway_media():
            inside = current_media()
            inside.write(NAME, b"picture")
            assert inside.folder != kept.folder and inside.names() == [NAME]
        assert current_media() is kept
    assert not inside.folder.exists() and kept.names() == []


@pytest.fixture
def servers(app: Flask) -> Iterator[tuple[Flask, Flask]]:
    """Two app servers on the test app's database and media folder, as shared storage."""
    settings = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MEDIA_DIR", "CACHE_STAMP_FILE")
    config = {key: app.config[key] for key in settings} | {"MEDIA_STORAGE": "shared"}
    pair = (create_app(config), create_app(config))
    yield pair
    for server in pair:
        with server.app_context():
            db.engine.dispose()


def test_an_image_uploaded_on_one_server_is_served_by_the_other_with_its_renditions(
    servers, make_user: Callable[..., User]
):
    one, two = servers
    newsroom = one.test_client()
    Auth(newsroom, make_user).login("editor")
    assert upload(newsroom, picture(size=(1000, 600)), alt="The harbour").status_code == 303
    with two.app_context():
        item = db.session.scalars(sa.select(MediaItem)).one()
        image = images.StoredImage(item.name, item.width, item.height)

    reader = two.test_client()
    names = [image.name, *(rendition.name for rendition in images.renditions(image))]
    assert len(names) == 7  # 480, 960 and 1000 (its own width) wide, in JPEG and WebP
    for name in names:
        with reader.get(f"/media/{name}") as served, newsroom.get(f"/media/{name}") as source:
            assert served.status_code == 200, name
            assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert served.data == source.data
            with Image.open(io.BytesIO(served.data)) as opened:
                assert opened.format == images.ENCODERS[name.rsplit(".", 1)[1]]

"""Where uploads and their renditions live: a folder on this server, or one that several app
servers share (``MEDIA_STORAGE``), both at ``MEDIA_DIR``.

Code reaches media files only through the app's storage (``current_media()``), by names that
``images.FILE_NAME`` accepts, so nothing a person types ever becomes a path. Every kind keeps
its files in a folder of this machine (a mounted one, when shared): backups and exports put
those files in tarballs, and restore swaps the folder whole.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, Response, current_app, send_from_directory

from blog import images

EXTENSION = "dateline.media"


class MediaStorage(Protocol):
    """What the app asks of the place media files live; each method refuses (ValueError) a
    name that ``images.FILE_NAME`` does not accept.
    """

    folder: Path  # where the files are on this machine; messages name the storage by it

    def write(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, whole or not at all."""

    def open(self, name: str) -> BinaryIO:
        """The file ``name``, open for reading; FileNotFoundError when there is none."""

    def exists(self, name: str) -> bool:
        """Whether ``name`` is stored."""

    def delete(self, name: str) -> None:
        """Remove ``name``, if it is there."""

    def names(self, stem: str = "") -> list[str]:
        """The stored names starting with ``stem`` (an image's hash: it and its renditions)."""

    def response(self, name: str, max_age: int) -> Response:
        """``name`` served with its type, kept by caches ``max_age`` seconds unasked."""


class LocalStorage:
    """A folder on this server's disk, made when the first file arrives."""

    # Whether a write is on the disk before it counts as done, not only in this kernel's cache.
    durable = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, name: str, data: bytes) -> None:
        """Write a private temporary file, then rename it to ``name``: readers see all of it
        or nothing. Two writers of one name (a content hash) both win with the same bytes.
        """
        path = self._path(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        # The host and process keep servers sharing the folder apart. A writer killed mid-way
        # leaves its hidden .part file, which nothing lists or serves.
        prefix = f".{name}.{socket.gethostname()}.{os.getpid()}."
        fd, partial = tempfile.mkstemp(dir=self.folder, prefix=prefix, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                os.fchmod(file.fileno(), 0o644)
                if self.durable:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        if self.durable:
            sync_folder(self.folder)

    def open(self, name: str) -> BinaryIO:
        """The file ``name``, open for reading."""
        return self._path(name).open("rb")

    def exists(self, name: str) -> bool:
        """Whether the file ``name`` is there."""
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        """Remove the file ``name``, if it is there."""
        self._path(name).unlink(missing_ok=True)

    def names(self, stem: str = "") -> list[str]:
        """The media files starting with ``stem``, read from the folder on every call."""
        if not self.folder.is_dir():
            return []
        with os.scandir(self.folder) as entries:
            return sorted(
                entry.name
                for entry in entries
                if entry.name.startswith(stem)
                and images.FILE_NAME.match(entry.name)
                and entry.is_file()
            )

    def response(self, name: str, max_age: int) -> Response:
        """``name`` sent from the folder; its name holds its content hash, so it never changes."""
        path = self._path(name)
        mimetype = images.MIMETYPES[path.suffix.removeprefix(".")]
        response = send_from_directory(self.folder, path.name, mimetype=mimetype, max_age=max_age)
        response.cache_control.immutable = True
        return response

    def _path(self, name: str) -> Path:
        """The file of ``name``; a name that is not a media file's is refused."""
        if not images.FILE_NAME.match(name):
            raise ValueError(f"{name!r} is not the name of a media file")
        return self.folder / name


class SharedStorage(LocalStorage):
    """A folder that several app servers mount (NFS and the like). Like the local kind, a file
    appears whole or not at all (a temporary name, then a rename); besides, the file and the
    rename reach the file server's disk before a write returns, so an image another server
    has already shown is not lost when the file server or the writer crashes.
    """

    durable = True


KINDS: dict[str, type[LocalStorage]] = {"local": LocalStorage, "shared": SharedStorage}


def init_app(app: Flask) -> None:
    """Refuse an unknown ``MEDIA_STORAGE``; keep the app's storage at ``MEDIA_DIR``."""
    kind = app.config["MEDIA_STORAGE"]
    if kind not in KINDS:
        raise ValueError(f"MEDIA_STORAGE is {kind!r}; choose {' or '.join(KINDS)}")
    app.extensions[EXTENSION] = KINDS[kind](Path(app.config["MEDIA_DIR"]))


def current_media() -> MediaStorage:
    """The app's media storage."""
    return current_app.extensions[EXTENSION]


@contextmanager
def throwaway_media() -> Iterator[None]:
    """Keep media in a temporary folder until the block ends, then delete it (dry runs)."""
    extensions = current_app.extensions
    kept = extensions[EXTENSION]
    with tempfile.TemporaryDirectory(prefix="dateline-dry-run-") as folder:
        extensions[EXTENSION] = LocalStorage(Path(folder))
        try:
            yield
        finally:
            extensions[EXTENSION] = kept


def sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

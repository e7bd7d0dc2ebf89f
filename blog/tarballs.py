"""What backups (``blog.backup``) and portable archives (``blog.archive``) share: writing
and publishing a ``.tar.gz`` of checksummed files, and reading one that nobody vouches for
(safe member names, room on the disk, bounded JSON, files that match their listing).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import zlib
from collections.abc import Container, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

import click

MEDIA = "media"
MIB = 1024 * 1024
CHUNK = MIB  # bytes copied at a time


class BadArchive(Exception):
    """The file is not a complete, undamaged archive; the message says what is wrong."""


@contextmanager
def reading(archive: Path) -> Iterator[tarfile.TarFile]:
    """``archive`` open for reading; a damaged or cut-off one raises ``BadArchive``."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            yield tar
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BadArchive(f"it is not a complete .tar.gz archive ({error})") from error


def check_target(target: Path, exists: str, replace: bool = False) -> None:
    """Refuse to write ``target`` where it exists (unless ``replace``) or has no folder."""
    if (target.exists() or target.is_symlink()) and not replace:
        raise click.ClickException(f"{target} exists; {exists}")
    if not target.parent.is_dir():
        raise click.ClickException(f"there is no folder {target.parent}")


def create_private(path: Path) -> BinaryIO:
    """A new file at ``path`` that only its owner may read; never an existing one."""
    # Owner-only: backups hold password hashes, exports drafts and the audit log.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> tuple[int, str]:
    """Add the file at ``path`` to ``tar`` as ``name``; return its size and SHA-256."""
    with path.open("rb") as source:
        stat = os.fstat(source.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
        digest = Digesting(source)
        tar.addfile(info, digest)
    return info.size, digest.hexdigest()


class Digesting:
    """A reader that keeps the SHA-256 of what has been read through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Read from the source, adding the bytes to the sum."""
        data = self.source.read(size)
        self.hash.update(data)
        return data

    def hexdigest(self) -> str:
        """The SHA-256 of everything read so far."""
        return self.hash.hexdigest()


def publish(partial: Path, target: Path, *, exists: str, replace: bool = False) -> None:
    """Give the finished archive its name, replacing a file that has it only if ``replace``;
    ``exists`` ends the message that refuses a name already taken.
    """
    try:
        if replace:
            os.replace(partial, target)
            return
        try:
            os.link(partial, target)  # fails, rather than replaces, if the name was taken
        except FileExistsError:
            raise
        except OSError:
            # FAT and exFAT drives and some network shares have no hard links: claim the name
            # exclusively and copy into it instead.
            _copy_exclusive(partial, target)
    except FileExistsError as error:
        raise click.ClickException(f"{target} exists; {exists}") from error
    except OSError as error:
        raise click.ClickException(f"cannot write {target}: {error}") from error


def _copy_exclusive(source: Path, target: Path) -> None:
    """Copy ``source`` to a new file ``target``, synced; remove the part written on failure."""
    file = create_private(target)
    try:
        with file, source.open("rb") as data:
            shutil.copyfileobj(data, file, CHUNK)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        target.unlink()
        raise


def checked_members(
    tar: tarfile.TarFile, staged: Path, files: Container[str]
) -> Iterator[tarfile.TarInfo]:
    """Each member of ``tar`` in turn, refusing one that is not a plain file with a safe name
    (see ``checked_member``), a name seen before, and more data than the disk under ``staged``
    can spare.
    """
    # Headers state each member's size before its data, so an archive that would unpack to more
    # than the disk can spare (a gzip bomb) is refused before its data is even decompressed.
    room, total = shutil.disk_usage(staged).free * 9 // 10, 0
    seen: set[str] = set()
    for member in tar:
        name = checked_member(member, staged, files)
        if name in seen:
            raise BadArchive(f"it holds {name} twice")
        seen.add(name)
        total += member.size
        if total > room:
            raise BadArchive(
                f"it would unpack to more than the {max(room, 0)} bytes this disk can spare"
            )
        yield member


def checked_member(member: tarfile.TarInfo, staged: Path, files: Container[str]) -> str:
    """The member's name, if it is a plain file that lands inside ``staged``: one of ``files``
    at the top, or a file under ``media/``.
    """
    name = member.name
    if not member.isreg():
        raise BadArchive(f"{name!r} is not a plain file (links and devices are refused)")
    parts = PurePosixPath(name).parts
    plain = (
        str(PurePosixPath(name)) == name
        and "\\" not in name
        and not any(part in ("..", ".") for part in parts)
        and (name in files or (len(parts) > 1 and parts[0] == MEDIA))
    )
    if not plain or not (staged / name).resolve().is_relative_to(staged.resolve()):
        raise BadArchive(f"it holds {name!r}, a name outside the archive's layout")
    return name


def extract(tar: tarfile.TarFile, member: tarfile.TarInfo, staged: Path) -> tuple[int, str]:
    """Write ``member`` to a new file of its name under ``staged``, synced; return its size and
    SHA-256.
    """
    path = staged / member.name
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has contents
    digest, size = hashlib.sha256(), 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except OSError as error:
        raise BadArchive(f"{member.name} cannot be unpacked ({error.strerror})") from error
    return size, digest.hexdigest()


def read_json(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> Any:
    """The JSON document in ``member``, refused when it is over ``limit`` bytes (counted as it
    is read, so that a lying header cannot make it read more) or nests too deeply to parse.
    """
    name = member.name
    too_large = BadArchive(
        f"its {name} is larger than the {limit // MIB:,} MiB this version of Dateline reads"
    )
    if member.size > limit:
        raise too_large
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has contents
    data = source.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return _decoded(data, name)


def read_json_lines(path: Path, name: str, limit: int) -> Iterator[tuple[int, int, Any]]:
    """Each line of the JSON Lines file at ``path`` (``name`` in the archive) as its number,
    length in bytes and value, one at a time; a line over ``limit`` bytes is refused unparsed.
    """
    with path.open("rb") as lines:
        number = 0
        while line := lines.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith(b"\n"):  # limit + 1 without its end
                raise BadArchive(
                    f"its {name} line {number} is longer than the {limit // MIB:,} MiB"
                    " this version of Dateline reads"
                )
            yield number, len(line), _decoded(line, f"{name} line {number}")


def _decoded(data: bytes, name: str) -> Any:
    """The JSON document ``data``, or BadArchive naming ``name``."""
    try:
        return json.loads(data)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadArchive(f"its {name} is not valid JSON ({error})") from error
    except RecursionError as error:
        raise BadArchive(f"its {name} nests lists or objects too deeply to be read") from error


def file_list(entries: object, index: str) -> dict[str, tuple[int, str]]:
    """The files listed in ``index`` as name: (size, SHA-256), if the list is well formed."""
    malformed = BadArchive(
        f"its list of files in {index} is malformed: each needs a name, size and sha256"
    )
    if not isinstance(entries, list):
        raise malformed
    listed: dict[str, tuple[int, str]] = {}
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise malformed
        if entry["name"] in listed:
            raise BadArchive(f"its {index} lists {entry['name']} twice")
        listed[entry["name"]] = (entry["size"], entry["sha256"])
    return listed


def check_listed(
    found: Mapping[str, tuple[int, str | None]],
    listed: Mapping[str, tuple[int, str]],
    index: str,
) -> None:
    """Refuse unless the files ``found`` are those ``listed`` in ``index``, with the same
    sizes and SHA-256 sums (a sum of None, not yet known, is not compared).
    """
    for name in sorted(found.keys() | listed.keys()):
        if name not in listed:
            raise BadArchive(f"{name} is not listed in {index}")
        if name not in found:
            raise BadArchive(f"{name} is listed in {index} but missing")
        (size, digest), (listed_size, listed_digest) = found[name], listed[name]
        if size != listed_size:
            raise BadArchive(f"the size of {name} does not match {index}: it is damaged")
        if digest is not None and digest != listed_digest:
            raise BadArchive(f"the checksum of {name} does not match {index}: it is damaged")

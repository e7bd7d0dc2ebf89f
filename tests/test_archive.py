"""export and import-archive: a whole site carried to a fresh one, page for page, and bad
archives refused without a trace.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import tarfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image

import blog.archive
from blog import images
from blog.archive import CONTENT, KINDS, LEFT_OUT, RECORDS, SECRET, columns
from blog.dates import utcnow
from blog.extensions import db
from blog.models import (
    Article,
    ArticleNote,
    AuditEvent,
    Autosave,
    LegacyPath,
    MediaItem,
    Revision,
    Section,
    SlugRedirect,
    User,
)
from blog.tarballs import MIB, BadArchive, read_json
from tests.conftest import PASSWORD

DOCS = Path(__file__).parent.parent / "docs" / "archive-format.md"
# Where a reader page may lead: links, images, lazy fragments, sitemap entries.
LINK = re.compile(r'(?:href|src|hx-get)="([^"]+)"|srcset="([^"]+)"|<loc>([^<]+)</loc>')
NOT_FOR_READERS = ("/editor", "/admin", "/auth")
Member = tuple[tarfile.TarInfo, bytes]


def picture(shade: int, size: tuple[int, int] = (1200, 800)) -> io.BytesIO:
    """A JPEG of one shade, large enough for renditions."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade, 120, 200 - shade)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def build_site(app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]):
    """A newsroom with a bit of everything a reader or an editor could see."""
    ada = make_user("ada", role="admin", display_name="Ada Núñez", bio="Editor.\n\nSails.")
    ben = make_user("ben", role="editor", bio="Covers the port.")
    cy = make_user("cy", role="writer", active=False)
    now = utcnow()
    with app.app_context():
        hero = images.store(picture(10))
        inline = images.store(picture(80))
        portrait = images.store(picture(150, (600, 600)))
        person = db.session.get(User, ada.id)
        person.photo, person.photo_width, person.photo_height = portrait.name, 600, 600
        MediaItem.keep(hero, person, alt="Boats at the quay", caption="Dawn", credit="Ada")
        MediaItem.keep(inline, person, alt="A crane")
        db.session.add_all(
            [
                Section(name="Culture", slug="culture", position=2),
                Section(name="Local", slug="local", position=1),
                Section(name="Sport", slug="sport", position=3, in_navigation=False),
            ]
        )
        db.session.commit()
    body = f"Intro.\n\n![A crane](/media/{inline.name})\n\n## One\n\nText.\n\n## Two\n\nMore."
    lead = make_article(
        "Café reopens – harbour «news»",
        slug="cafe-reopens",
        author_id=ada.id,
        section="Local",
        tags=["Harbour", "Food"],
        featured=True,
        dateline="Odesa, Ukraine",
        body=body,
        hero_image=hero.name,
        hero_width=hero.width,
        hero_height=hero.height,
        hero_alt="Boats at the quay",
        hero_caption="Dawn",
        hero_credit="Ada",
        imported_from="wordpress:https://old.example/?p=7",
    )
    gone = make_article("Purged", author_id=ben.id)
    for n in range(12):
        make_article(
            f"Tide report {n}",
            author_id=ben.id if n % 2 else ada.id,
            section=("Local", "Culture", "Sport")[n % 3],
            tags=["Harbour"] if n % 2 else ["Music"],
            featured=n == 5,
        )
    make_article("A draft", status="draft", published_at=None, author_id=cy.id)
    make_article("In review", status="review", published_at=None, author_id=cy.id)
    make_article("Tomorrow", published_at=now + timedelta(days=1), section="Local")
    trashed = make_article("Binned", status="draft", deleted_at=now - timedelta(minutes=3))
    with app.app_context():
        db.session.delete(db.session.get(Article, gone.id))  # ids now have a gap
        db.session.add_all(
            [
                ArticleNote(
                    article_id=lead.id,
                    kind="correction",
                    text="A name was misspelt.",
                    author_id=ben.id,
                    created_at=now - timedelta(minutes=20),
                ),
                Revision(
                    article_id=lead.id,
                    version=1,
                    editor_id=ada.id,
                    fields={"title": lead.title, "status": "published"},
                    note="first",
                ),
                SlugRedirect(old_slug="cafe-to-reopen", article_id=lead.id),
                LegacyPath(path="/2024/03/05/cafe-reopens", article_id=lead.id),
                AuditEvent(action="trash", actor_id=ada.id, article_id=trashed.id, target="Binned"),
                Autosave(user_id=ben.id, article_id=lead.id, fields={"title": "Unsaved"}),
            ]
        )
        db.session.get(Article, lead.id).revised_at = now
        db.session.commit()


def crawl(client: Any) -> dict[str, tuple[int, str | None, bytes]]:
    """Every reader address reachable from the front page, feeds and sitemaps, answered."""
    queue = ["/", "/robots.txt", "/sitemap.xml", "/sitemaps/news.xml", "/feed.xml", "/feed.rss"]
    queue += ["/search?q=harbour", "/search/results?q=tide", "/articles/cafe-to-reopen"]
    queue += ["/2024/03/05/cafe-reopens", "/latest?page=2"]
    seen: dict[str, tuple[int, str | None, bytes]] = {}
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = (response.status_code, response.headers.get("Location"), response.data)
        response.close()  # media are sent as open files
        if response.mimetype.startswith("image/"):
            continue
        for match in LINK.finditer(response.get_data(as_text=True)):
            for found in (match[1], match[3], *(match[2] or "").split(",")):
                address = urlsplit((found or "").strip().split(" ")[0].replace("&amp;", "&"))
                local = address.path + (f"?{address.query}" if address.query else "")
                ours = address.netloc in ("", "localhost") and address.path.startswith("/")
                if ours and not local.startswith(NOT_FOR_READERS) and local not in seen:
                    queue.append(local)
    return seen


def export(app: Flask, path: Path, *options: str) -> Any:
    """Run ``export`` on ``app``."""
    return app.test_cli_runner().invoke(args=["export", str(path), *options])


def import_into(app: Flask, path: Path) -> Any:
    """Run ``import-archive`` on ``app``."""
    return app.test_cli_runner().invoke(args=["import-archive", str(path)])


def counts(app: Flask) -> dict[str, int]:
    """The rows of each kind the archive carries."""
    with app.app_context():
        return {
            kind: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for kind, table in KINDS.items()
        }


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def archive(app, make_user, make_article, tmp_path) -> Path:
    """The export of a rich site."""
    build_site(app, make_user, make_article)
    path = tmp_path / "site.tar.gz"
    result = export(app, path)
    assert result.exit_code == 0, result.output
    return path


def test_a_fresh_site_serves_the_same_pages_byte_for_byte_after_import(app, other_app, archive):
    result = import_into(other_app, archive)

    assert result.exit_code == 0, result.output
    assert "0 articles" not in result.output and "rendered" not in result.output
    before, after = crawl(app.test_client()), crawl(other_app.test_client())
    assert sorted(before) == sorted(after)
    assert len(before) > 60 and any(url.startswith("/media/") for url in before)
    for url, answer in before.items():
        assert after[url] == answer, url
    assert before["/articles/cafe-to-reopen"][0] == 301
    assert before["/2024/03/05/cafe-reopens"][0] == 301
    assert counts(other_app) == counts(app)


def test_the_import_keeps_every_field_but_passwords_and_leaves_autosaves(app, other_app, archive):
    import_into(other_app, archive)

    for kind in KINDS:
        query = sa.select(*columns(kind)).order_by(*KINDS[kind].primary_key.columns)
        with app.app_context():
            source = [dict(row) for row in db.session.execute(query).mappings()]
        with other_app.app_context():
            assert [dict(row) for row in db.session.execute(query).mappings()] == source, kind
    with other_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Autosave)) == 0
        ada = db.session.scalar(sa.select(User).where(User.username == "ada"))
        assert not ada.check_password(PASSWORD)


def test_the_archive_holds_a_header_and_one_json_lines_file_per_kind_in_table_order(app, archive):
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        content = json.loads(tar.extractfile(CONTENT).read())
        lines = {kind: tar.extractfile(name).read().splitlines() for kind, name in RECORDS.items()}

    assert names[: len(KINDS)] == [f"content/{kind}.jsonl" for kind in KINDS]
    assert names[-1] == CONTENT and all(n.startswith("media/") for n in names[len(KINDS) : -1])
    assert content["format"] == 2 and set(content) == {
        "format",
        "created",
        "settings",
        "counts",
        "files",
    }
    assert content["counts"] == {kind: len(found) for kind, found in lines.items()}
    assert content["counts"] == counts(app) and content["counts"]["articles"] == 17
    ids = [json.loads(line)["id"] for line in lines["articles"]]
    assert ids == sorted(ids)


def test_the_archive_carries_no_password_hash_or_session_token(app, archive):
    with tarfile.open(archive) as tar:
        content = json.loads(tar.extractfile(CONTENT).read())
        users = [json.loads(line) for line in tar.extractfile(RECORDS["users"])]
    with app.app_context():
        secrets = [
            value
            for user in db.session.scalars(sa.select(User))
            for value in (user.password_hash, user.session_token)
        ]
    text = json.dumps([content, users])
    assert not any(secret in text for secret in secrets)
    assert all(SECRET["users"].isdisjoint(user) for user in users)
    assert len(users) == len(secrets) // 2
    assert content["settings"]["SITE_NAME"] == "Dateline"


def test_the_import_says_how_people_get_a_password(other_app, archive):
    output = import_into(other_app, archive).output

    assert "flask --app app set-password ada" in output and "/admin/people" in output


def test_different_site_settings_are_reported_as_lines_for_the_config(
    app, other_app, tmp_path, make_user
):
    app.config.update(SITE_NAME="Harbour Gazette", TIMEZONE="Europe/Kyiv")
    export(app, tmp_path / "a.tar.gz")

    output = import_into(other_app, tmp_path / "a.tar.gz").output

    assert "SITE_NAME = 'Harbour Gazette'" in output and "TIMEZONE = 'Europe/Kyiv'" in output
    assert "rerender-articles" in output and "LANGUAGE =" not in output


def test_import_refuses_a_site_that_is_not_empty(other_app, archive):
    with other_app.app_context():
        db.session.add(User(username="zoe", display_name="Zoe", password_hash="x"))
        db.session.commit()

    result = import_into(other_app, archive)

    assert result.exit_code == 1
    assert "not empty: it has 1 users" in result.output and "Nothing was changed" in result.output
    assert counts(other_app)["articles"] == 0


def test_export_never_replaces_a_file_unless_forced(app, tmp_path):
    path = tmp_path / "taken.tar.gz"
    path.write_bytes(b"keep me")

    refused = export(app, path)

    assert refused.exit_code == 1 and "exists" in refused.output
    assert path.read_bytes() == b"keep me"
    assert export(app, path, "--force").exit_code == 0
    assert tarfile.is_tarfile(path)


def test_untrusted_html_in_the_archive_is_replaced_by_the_body_rendered_again(
    other_app, archive, tmp_path
):
    scripted = with_records("articles", lambda r: r[0].update(body_html="<script>1</script>"))

    result = import_into(other_app, rewritten(archive, tmp_path, scripted))

    assert result.exit_code == 0, result.output
    assert "1 article bodies were rendered" in result.output
    with other_app.app_context():
        html = db.session.scalar(sa.select(Article.body_html).order_by(Article.id).limit(1))
    assert "<script" not in html and "<picture>" in html


def rewritten(archive: Path, folder: Path, change: Callable[[list[Member]], list[Member]]) -> Path:
    """A copy of ``archive`` with its members changed by ``change``."""
    with tarfile.open(archive) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar.getmembers()]
    path = folder / "changed.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for info, data in change(members):
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def with_member(
    name: str, edit: Callable[[bytes], bytes]
) -> Callable[[list[Member]], list[Member]]:
    """A change of the member ``name``'s bytes by ``edit``."""

    def change(members: list[Member]) -> list[Member]:
        return [(info, edit(data) if info.name == name else data) for info, data in members]

    return change


def with_content(
    edit: Callable[[dict[str, Any]], object],
) -> Callable[[list[Member]], list[Member]]:
    """A change of ``content.json`` by ``edit``."""

    def edited(data: bytes) -> bytes:
        content = json.loads(data)
        edit(content)
        return json.dumps(content).encode()

    return with_member(CONTENT, edited)


def with_records(
    kind: str, edit: Callable[[list[dict[str, Any]]], object]
) -> Callable[[list[Member]], list[Member]]:
    """A change of the records of ``kind`` by ``edit``, written back one a line."""

    def edited(data: bytes) -> bytes:
        records = [json.loads(line) for line in data.splitlines()]
        edit(records)
        return b"".join(json.dumps(record).encode() + b"\n" for record in records)

    return with_member(RECORDS[kind], edited)


def with_line(kind: str, line: bytes) -> Callable[[list[Member]], list[Member]]:
    """The records of ``kind`` with ``line`` put first."""
    return with_member(RECORDS[kind], lambda data: line + b"\n" + data)


def symlink(members: list[Member]) -> list[Member]:
    """A symbolic link in the media."""
    info = tarfile.TarInfo("media/evil.png")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return [(info, b""), *members]


BAD: dict[str, tuple[Callable[[list[Member]], list[Member]], str]] = {
    "not JSON": (with_member(CONTENT, lambda _data: b"{not json"), "not valid JSON"),
    "deeply nested JSON": (
        with_member(CONTENT, lambda _data: b"[" * 100_000 + b"]" * 100_000),
        "its content.json nests lists or objects too deeply to be read",
    ),
    "a record that is not JSON": (
        with_line("tags", b'{"id": 9,'),
        "its content/tags.jsonl line 1 is not valid JSON",
    ),
    "a deeply nested record": (
        with_line("tags", b"[" * 100_000 + b"]" * 100_000),
        "its content/tags.jsonl line 1 nests lists or objects too deeply to be read",
    ),
    "a record that is not an object": (
        with_line("tags", b"[1, 2]"),
        "content/tags.jsonl line 1 is not an object",
    ),
    "deeply nested field": (
        with_records("revisions", lambda r: r[0].update(fields=json.loads("[" * 101 + "]" * 101))),
        "revisions.jsonl line 1 (id 1): fields: nests lists or objects more than 100 levels",
    ),
    "a record missing from its file": (
        with_records("articles", lambda r: r.pop()),
        "its content/articles.jsonl holds 16 records where content.json counts 17",
    ),
    "a kind missing": (
        lambda m: [pair for pair in m if pair[0].name != RECORDS["sections"]],
        "its content/sections.jsonl holds 0 records where content.json counts 3",
    ),
    "counts that are not numbers": (
        with_content(lambda c: c["counts"].update(users="3")),
        "its content.json must count the records of each kind in whole numbers",
    ),
    "a file listed twice": (
        with_content(lambda c: c["files"].append(c["files"][0])),
        "its content.json lists ",
    ),
    "parent traversal": (
        lambda m: [(tarfile.TarInfo("../evil.txt"), b"x"), *m],
        "'../evil.txt', a name outside",
    ),
    "a records file of no kind": (
        lambda m: [(tarfile.TarInfo("content/autosaves.jsonl"), b"{}\n"), *m],
        "'content/autosaves.jsonl', a name outside",
    ),
    "symbolic link": (symlink, "not a plain file"),
    "newer format": (with_content(lambda c: c.update(format=3)), "archive format 3"),
    "format 1, read whole": (
        with_content(lambda c: c.update(format=1)),
        "it has archive format 1; this version reads 2",
    ),
    "missing media file": (
        lambda m: [pair for pair in m if not pair[0].name.endswith("-480.webp")],
        "is listed in content.json but missing",
    ),
    "damaged media file": (
        lambda m: [(i, d[:-1] + b"x" if i.name.startswith("media/") else d) for i, d in m],
        "does not match content.json: it is damaged",
    ),
    "unknown status": (
        with_records("articles", lambda r: r[2].update(status="live")),
        "content/articles.jsonl line 3 (id 4): status: 'live' is not one of draft, review,",
    ),
    "author not in the archive": (
        with_records("articles", lambda r: r[0].update(author_id=99)),
        "content/articles.jsonl line 1 (id 1): author_id 99 is not in its users",
    ),
    "a repeated key": (
        with_records("article_tags", lambda r: r.append(r[0])),
        "repeats the key of an earlier record",
    ),
    "time without offset": (
        with_records("users", lambda r: r[0].update(created_at="2025-02-24T08:30:00")),
        "content/users.jsonl line 1 (id 1): created_at: '2025-02-24T08:30:00' has no UTC offset",
    ),
    "password hash": (
        with_records("users", lambda r: r[0].update(password_hash="x")),
        "content/users.jsonl line 1 (id 1) has a field this version does not know: 'password_",
    ),
    "repeated slug": (
        with_records("articles", lambda r: r[1].update(slug="cafe-reopens")),
        "slug 'cafe-reopens' is taken by an earlier record",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_archive_is_refused_with_its_reason_and_changes_nothing(
    other_app, archive, tmp_path, case
):
    change, problem = BAD[case]
    bad = rewritten(archive, tmp_path, change)
    media = Path(other_app.config["MEDIA_DIR"])

    result = import_into(other_app, bad)

    assert result.exit_code == 1
    assert problem in result.output and "Nothing was changed" in result.output
    assert set(counts(other_app).values()) == {0}
    assert files_under(media) == {} and list(media.parent.glob(".dateline-import-*")) == []


def test_a_failure_while_writing_rolls_back_and_takes_the_media_away(
    other_app, archive, monkeypatch
):
    def broken() -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("blog.archive.reindex_all", broken)

    result = import_into(other_app, archive)

    assert isinstance(result.exception, RuntimeError)
    assert set(counts(other_app).values()) == {0}
    assert files_under(Path(other_app.config["MEDIA_DIR"])) == {}


def test_a_content_json_over_the_limit_is_refused_and_changes_nothing(
    other_app, archive, tmp_path, monkeypatch
):
    padded = rewritten(archive, tmp_path, with_member(CONTENT, lambda data: data + b" " * MIB))
    monkeypatch.setattr(blog.archive, "CONTENT_LIMIT", MIB)

    result = import_into(other_app, padded)

    assert result.exit_code == 1
    assert "its content.json is larger than the 1 MiB this version of Dateline reads" in (
        result.output
    )
    assert set(counts(other_app).values()) == {0}
    assert files_under(Path(other_app.config["MEDIA_DIR"])) == {}


def test_a_record_over_the_line_limit_is_refused_and_changes_nothing(
    other_app, archive, tmp_path, monkeypatch
):
    padded = rewritten(archive, tmp_path, with_line("tags", b'{"id": 9}' + b" " * MIB))
    monkeypatch.setattr(blog.archive, "LINE_LIMIT", MIB)

    result = import_into(other_app, padded)

    assert result.exit_code == 1
    assert "its content/tags.jsonl line 1 is longer than the 1 MiB this version" in result.output
    assert set(counts(other_app).values()) == {0}


def test_a_record_of_exactly_the_line_limit_is_read(other_app, archive, tmp_path, monkeypatch):
    with tarfile.open(archive) as tar:
        first = tar.extractfile(RECORDS["articles"]).readline()
    monkeypatch.setattr(blog.archive, "LINE_LIMIT", len(first) - 1)  # its newline not counted

    result = import_into(other_app, archive)

    assert result.exit_code == 0, result.output


def test_records_are_inserted_in_batches_across_which_nothing_is_lost(
    app, other_app, archive, monkeypatch
):
    monkeypatch.setattr(blog.archive, "BATCH", 2)
    monkeypatch.setattr(blog.archive, "BATCH_BYTES", 3000)  # an article or two

    result = import_into(other_app, archive)

    assert result.exit_code == 0, result.output
    assert counts(other_app) == counts(app)
    with app.app_context():
        html = db.session.scalars(sa.select(Article.body_html).order_by(Article.id)).all()
    with other_app.app_context():
        assert db.session.scalars(sa.select(Article.body_html).order_by(Article.id)).all() == html


def test_json_is_read_no_further_than_the_limit_whatever_the_header_says(archive, monkeypatch):
    with tarfile.open(archive) as tar:
        member = tar.getmember(CONTENT)
        # A reader giving more than the header states: only limit + 1 bytes may be taken.
        endless = io.BytesIO(b" " * (10 * MIB))
        monkeypatch.setattr(tar, "extractfile", lambda _member: endless)
        with pytest.raises(BadArchive, match="larger than the 1 MiB"):
            read_json(tar, member, MIB)
    assert endless.tell() == MIB + 1


def test_the_export_is_readable_by_its_owner_only(app, archive):
    assert archive.stat().st_mode & 0o077 == 0


def test_export_to_a_drive_without_hard_links_copies_the_archive(
    app, other_app, tmp_path, monkeypatch
):
    def refuse_hard_links(source: Path, target: Path) -> None:
        """Fail as os.link does on a FAT drive."""
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse_hard_links)
    path = tmp_path / "usb" / "site.tar.gz"
    path.parent.mkdir()

    result = export(app, path)

    assert result.exit_code == 0, result.output
    assert [p.name for p in path.parent.iterdir()] == ["site.tar.gz"]
    assert path.stat().st_mode & 0o077 == 0
    assert import_into(other_app, path).exit_code == 0


def test_every_table_is_carried_or_left_out_on_purpose():
    assert set(db.metadata.tables) == set(KINDS) | set(LEFT_OUT)


def test_the_format_page_names_every_field_of_every_kind():
    page = DOCS.read_text()
    for kind in KINDS:
        section = page.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        for column in columns(kind):
            assert f"| `{column.name}` |" in section, (kind, column.name)


@pytest.mark.sqlite
def test_round_trip_onto_postgresql_continues_the_ids_after_the_imported_ones(
    app, postgres_app, archive
):
    result = import_into(postgres_app, archive)

    assert result.exit_code == 0, result.output
    before, after = crawl(app.test_client()), crawl(postgres_app.test_client())
    assert sorted(before) == sorted(after)
    for url, answer in before.items():
        # Each database has its own search engine, which ranks and cuts snippets its own way.
        if not url.startswith("/search"):
            assert after[url] == answer, url
    with postgres_app.app_context():
        largest = db.session.scalar(sa.select(sa.func.max(Article.id)))
        author = db.session.scalar(sa.select(User.id).limit(1))
        added = Article(title="New", slug="new", author_id=author)
        db.session.add(added)
        db.session.commit()
        assert added.id == largest + 1

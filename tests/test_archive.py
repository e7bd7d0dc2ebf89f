"""export and import-archive: a whole site carried to a fresh one, page for page, and bad
archives refused without a trace.
"""

from __future__ import annotations

import io
import json
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

from blog import images
from blog.archive import CONTENT, KINDS, LEFT_OUT, SECRET, columns
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


def test_the_archive_carries_no_password_hash_or_session_token(app, archive):
    with tarfile.open(archive) as tar:
        content = json.loads(tar.extractfile(CONTENT).read())
    with app.app_context():
        secrets = [
            value
            for user in db.session.scalars(sa.select(User))
            for value in (user.password_hash, user.session_token)
        ]
    text = json.dumps(content)
    assert not any(secret in text for secret in secrets)
    assert all(SECRET["users"].isdisjoint(user) for user in content["users"])
    assert content["format"] == 1 and content["settings"]["SITE_NAME"] == "Dateline"


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
    def scripted(members: list[Member]) -> list[Member]:
        content = json.loads(members[-1][1])
        content["articles"][0]["body_html"] = "<script>alert(1)</script>"
        return [*members[:-1], (members[-1][0], json.dumps(content).encode())]

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


def with_content(
    edit: Callable[[dict[str, Any]], object],
) -> Callable[[list[Member]], list[Member]]:
    """A change of ``content.json`` by ``edit``."""

    def change(members: list[Member]) -> list[Member]:
        content = json.loads(members[-1][1])
        edit(content)
        return [*members[:-1], (members[-1][0], json.dumps(content).encode())]

    return change


def symlink(members: list[Member]) -> list[Member]:
    """A symbolic link in the media."""
    info = tarfile.TarInfo("media/evil.png")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return [(info, b""), *members]


BAD: dict[str, tuple[Callable[[list[Member]], list[Member]], str]] = {
    "not JSON": (lambda m: [*m[:-1], (m[-1][0], b"{not json")], "not valid JSON"),
    "parent traversal": (
        lambda m: [(tarfile.TarInfo("../evil.txt"), b"x"), *m],
        "'../evil.txt', a name outside",
    ),
    "symbolic link": (symlink, "not a plain file"),
    "newer format": (with_content(lambda c: c.update(format=2)), "archive format 2"),
    "missing media file": (
        lambda m: [pair for pair in m if not pair[0].name.endswith("-480.webp")],
        "is listed in content.json but missing",
    ),
    "damaged media file": (
        lambda m: [(i, d[:-1] + b"x" if i.name.startswith("media/") else d) for i, d in m],
        "does not match: it is damaged",
    ),
    "unknown status": (
        with_content(lambda c: c["articles"][2].update(status="live")),
        "articles[2] (id 4): status: 'live' is not one of draft, review, published",
    ),
    "author not in the archive": (
        with_content(lambda c: c["articles"][0].update(author_id=99)),
        "articles[0] (id 1): author_id 99 is not in its users",
    ),
    "time without offset": (
        with_content(lambda c: c["users"][0].update(created_at="2025-02-24T08:30:00")),
        "users[0] (id 1): created_at: '2025-02-24T08:30:00' has no UTC offset",
    ),
    "password hash": (
        with_content(lambda c: c["users"][0].update(password_hash="x")),
        "users[0] (id 1) has a field this version does not know: 'password_hash'",
    ),
    "repeated slug": (
        with_content(lambda c: c["articles"][1].update(slug="cafe-reopens")),
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


def test_every_table_is_carried_or_left_out_on_purpose():
    assert set(db.metadata.tables) == set(KINDS) | set(LEFT_OUT)


def test_the_format_page_names_every_field_of_every_kind():
    page = DOCS.read_text()
    for kind in KINDS:
        section = page.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        for column in columns(kind):
            assert f"| `{column.name}` |" in section, (kind, column.name)


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

"""import-ghost: a Ghost JSON export in, with its images and its old addresses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from blog import ghost
from blog.extensions import db
from blog.models import Article, LegacyPath, MediaItem, Section, Tag, User
from tests.test_wordpress import article, count, state

DATA = Path(__file__).parent / "data" / "ghost"
EXPORT = DATA / "export.json"
IMAGES = DATA / "images"
HARBOUR_UUID = "2f6a4b1e-1c1d-4c5e-9a51-0d2a8e1b0001"


def run(runner, *args: str, export: Path = EXPORT):
    """``flask import-ghost`` on ``export`` with ``args``; the result."""
    return runner.invoke(args=["import-ghost", str(export), *args])


def imported(runner, *args: str, export: Path = EXPORT) -> str:
    """Import ``export`` with the test images; the report printed."""
    result = run(runner, "--media", str(IMAGES), *args, export=export)
    assert result.exit_code == 0, result.output
    return result.output


def one_post_export(folder: Path, post: dict[str, Any], **tables: list[dict[str, Any]]) -> Path:
    """A Ghost 5 export of ``post`` (and ``tables``) written in ``folder``."""
    row = {"id": "p1", "uuid": "u-1", "type": "post", "status": "published", **post}
    data = {"posts": [row], "users": [{"id": "1", "name": "Ana", "slug": "ana"}], **tables}
    export = folder / "one.json"
    export.write_text(json.dumps({"db": [{"meta": {"version": "5.82.0"}, "data": data}]}))
    return export


def test_report_counts_every_kind_and_lists_what_was_skipped_or_changed(runner):
    report = imported(runner)
    counts = dict(line.strip().rsplit(None, 1) for line in report.splitlines()[1:8])
    assert counts == {
        "posts imported": "8",
        "pages skipped": "1",
        "authors": "3",
        "sections": "3",
        "tags": "2",
        "images": "2",
        "redirects": "16",
    }
    for line in (
        "post harbour-reopens “Harbour reopens after the storm”: co-author 'Богдан Шевчук' left"
        " out (one author per article)",
        "post harbour-reopens “Harbour reopens after the storm”: internal tag '#wide-hero' left",
        "post council-budget-first-draft “Council budget, first draft”: image"
        " 2024/03/missing.jpg not imported: no such file",
        "page about “About us”: skipped: pages are not imported",
        "post reader-letters “Reader letters”: featured image"
        " https://images.unsplash.example/photo-1.jpg is not the site's: left out",
        "post inside-the-council-vote “Inside the council vote”: members-only on Ghost:"
        " imported as a draft",
        "post ferry-timetable “Ferry timetable changes”: no HTML in the export: its plain text"
        " imported, as a draft",
        "post harbour-letter-week-12 “Harbour letter, week 12”: sent only as a newsletter:"
        " imported as a draft",
    ):
        assert line in report


def test_posts_keep_their_status_dates_and_featured_flag(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    assert harbour.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert (harbour.state, harbour.featured) == ("published", True)
    assert harbour.summary == "The gates opened three days after the storm."
    assert harbour.imported_from == f"ghost:{HARBOUR_UUID}"
    festival = article(app, "festival-preview")
    assert (festival.state, festival.featured) == ("scheduled", False)
    assert festival.published_at == datetime(2099, 6, 1, 9, tzinfo=UTC)
    draft = article(app, "council-budget-first-draft")
    assert (draft.state, draft.published_at) == ("draft", None)
    assert article(app, "gavan").title == "Гавань знову відкрита"
    with app.app_context():
        assert not db.session.scalar(sa.select(Article).where(Article.title == "About us"))


def test_members_only_and_newsletter_only_posts_come_in_as_drafts(app, runner):
    imported(runner)
    for slug in ("inside-the-council-vote", "harbour-letter-week-12"):
        found = article(app, slug)
        assert (found.state, found.published_at) == ("draft", None)


def test_a_post_without_html_comes_in_as_a_draft_of_its_plain_text(app, runner):
    imported(runner)
    ferry = article(app, "ferry-timetable")
    assert ferry.state == "draft"
    assert ferry.body_html == (
        "<p>The ferry leaves earlier from April.</p>  <p>Tickets &lt;stay&gt; the same.</p>"
    )


def test_primary_tag_is_the_section_and_the_other_public_tags_are_tags(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    assert harbour.section.name == "News"
    assert [tag.name for tag in harbour.tags] == ["harbour", "Weather"]
    # The internal tag came first for this post: the first public one is the section.
    assert article(app, "reader-letters").section.name == "News"
    assert article(app, "gavan").section.name == "Новини"
    assert article(app, "festival-preview").section.name == "Culture & Arts"
    assert article(app, "council-budget-first-draft").section is None
    with app.app_context():
        assert db.session.scalar(sa.select(Tag).where(Tag.name.contains("wide-hero"))) is None
        assert db.session.scalar(sa.select(Tag).where(Tag.name == "News")) is None
        assert count(app, Section) == 3


def test_authors_become_inactive_writers_with_their_bio_and_photo(app, runner):
    imported(runner)
    with app.app_context():
        people = db.session.scalars(sa.select(User).order_by(User.username)).all()
        assert [(u.username, u.display_name, u.role, u.active, u.bio) for u in people] == [
            ("ana", "Ana Kovalenko", "writer", False, "Harbour and weather reporter."),
            ("bohdan", "Богдан Шевчук", "writer", False, ""),
            ("olena-koval", "Olena Koval", "writer", False, ""),
        ]
        ana = people[0]
        assert (ana.photo_width, ana.photo_height) == (32, 32)
        assert (Path(app.config["MEDIA_DIR"]) / ana.photo).is_file()
        assert people[1].photo is None
    # The first of the post's authors, not the first in the file.
    assert article(app, "harbour-reopens").author.username == "ana"
    assert article(app, "gavan").author.username == "bohdan"
    # A post of an older export names its author with author_id.
    assert article(app, "harbour-letter-week-12").author.username == "ana"


def test_feature_image_comes_with_its_alt_and_caption_as_the_hero(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    assert (harbour.hero_alt, harbour.hero_caption) == (
        "Fishing boats moored in the harbour",
        "The harbour at dawn",
    )
    assert (harbour.hero_width, harbour.hero_height) == (64, 48)
    with app.app_context():
        item = db.session.scalar(sa.select(MediaItem).where(MediaItem.name == harbour.hero_image))
        assert (item.alt, item.caption) == (
            "Fishing boats moored in the harbour",
            "The harbour at dawn",
        )
    page = app.test_client().get("/articles/harbour-reopens").text
    hero = page[page.index('<figure class="hero">') :]
    hero = hero[: hero.index("</figure>")]
    assert "<picture>" in hero and f"/media/{item.hash}" in hero
    assert 'alt="Fishing boats moored in the harbour"' in hero
    assert "<figcaption>The harbour at dawn</figcaption>" in hero


def test_body_image_joins_the_library_and_shows_as_a_picture_with_its_caption(app, runner):
    imported(runner)
    html = article(app, "harbour-reopens").body_html
    with app.app_context():
        boats = db.session.scalar(sa.select(MediaItem).where(MediaItem.alt == "Boats at the quay"))
    assert (boats.width, boats.height) == (60, 40)
    assert f'<figure><picture><source type="image/webp" srcset="/media/{boats.hash}-60.webp' in html
    assert "<figcaption>Boats back at the quay</figcaption></figure>" in html
    assert "__GHOST_URL__" not in html and "content/images" not in html


def test_links_to_the_old_site_become_links_to_its_old_addresses(app, runner):
    imported(runner)
    html = article(app, "harbour-reopens").body_html
    assert '<a href="/gavan/">the story in Ukrainian</a>' in html
    assert app.test_client().get("/gavan/").headers["Location"] == "/articles/gavan"


def test_cards_read_as_plain_html(app, runner):
    imported(runner)
    html = article(app, "harbour-reopens").body_html
    assert (
        '<p><a href="https://port-authority.example/notices/12" rel="noopener noreferrer">'
        "Notice to mariners 12</a><br>Night opening of the harbour gates.</p>"
    ) in html
    assert "favicon" not in html and "kg-" not in html and "<!--" not in html
    assert "High tide 06:40  Low tide 12:55" in html


def test_code_keeps_its_blank_lines_and_text_is_not_read_as_markdown(app, runner, tmp_path):
    source = "<p>Run *this*:</p>\n\n<pre><code>one\n\n    two</code></pre><p>_Done_</p>"
    imported(
        runner, export=one_post_export(tmp_path, {"slug": "code", "title": "Code", "html": source})
    )
    html = article(app, "code").body_html
    assert "<p>Run *this*:</p>" in html and "<p>_Done_</p>" in html
    assert "<pre><code>one\n\n    two</code></pre>" in html


def test_unsafe_markup_is_taken_out(app, runner):
    imported(runner)
    letters = article(app, "reader-letters")
    page = app.test_client().get("/articles/reader-letters").text
    for html in (letters.body_html, page):
        assert "stolen" not in html and "onerror" not in html and "onclick" not in html
        assert "evil.example" not in html and "<script>fetch" not in html
    assert "<p>Write to us at the harbour office.</p>" in letters.body_html


@pytest.mark.parametrize(
    ("address", "slug"),
    [
        ("/harbour-reopens/", "harbour-reopens"),
        ("/harbour-reopens", "harbour-reopens"),
        (f"/p/{HARBOUR_UUID}/", "harbour-reopens"),
        ("/gavan/", "gavan"),
        ("/p/2f6a4b1e-1c1d-4c5e-9a51-0d2a8e1b0002/", "gavan"),
        ("/reader-letters/", "reader-letters"),
    ],
)
def test_ghost_addresses_answer_301_with_the_article(app, runner, address, slug):
    imported(runner)
    response = app.test_client().get(address)
    assert response.status_code == 301
    assert response.headers["Location"] == f"/articles/{slug}"


@pytest.mark.parametrize(
    "address", ["/inside-the-council-vote/", "/p/2f6a4b1e-1c1d-4c5e-9a51-0d2a8e1b0003/", "/about/"]
)
def test_old_address_of_a_draft_or_a_page_is_404(app, runner, address):
    imported(runner)
    assert app.test_client().get(address).status_code == 404


def test_dry_run_changes_neither_the_database_nor_the_media_folder(app, runner):
    before = state(app)
    report = imported(runner, "--dry-run")
    assert report.startswith("Import of export.json (dry run: nothing was changed)")
    assert "posts imported       8" in report and "images               2" in report
    assert state(app) == before


def test_a_second_run_adds_nothing(app, runner):
    imported(runner)
    before = state(app)
    report = imported(runner)
    assert "already imported     8" in report and "posts imported" not in report
    assert "post gavan “Гавань знову відкрита”: already imported" in report
    assert state(app) == before


def test_without_a_media_folder_posts_come_in_and_missing_images_are_reported(app, runner):
    result = run(runner)
    assert result.exit_code == 0, result.output
    assert "image 2024/03/harbour.jpg not imported: no media folder given" in result.output
    assert "author ana: image 2024/03/ana.jpg not imported: no media folder given" in result.output
    assert count(app, Article) == 8 and count(app, MediaItem) == 0
    assert article(app, "harbour-reopens").hero_image is None


def test_an_older_export_with_the_site_address_and_image_sizes_is_read(app, runner, tmp_path):
    site = "https://harbour-times.example/content/images"
    export = tmp_path / "old.json"
    post = {
        "id": 7,
        "uuid": "old-7",
        "title": "Boats",
        "slug": "boats",
        "html": f'<p>Boats.</p><p><img src="{site}/size/w600/2024/03/boats.jpg" alt="Boats"></p>',
        "page": False,
        "status": "published",
        "author_id": 1,
        "published_at": "2016-05-04 10:00:00",
    }
    users = [{"id": 1, "name": "Ana", "slug": "ana"}]
    export.write_text(
        json.dumps({"meta": {"version": "1.25.0"}, "data": {"posts": [post], "users": users}})
    )
    report = imported(runner, export=export)
    assert "posts imported       1" in report and "images               1" in report
    boats = article(app, "boats")
    assert boats.published_at == datetime(2016, 5, 4, 10, tzinfo=UTC)
    assert boats.author.username == "ana" and "/media/" in boats.body_html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"db": [{"data": {"posts": [',
            "broken.json is not readable JSON: Expecting value (line 1",
        ),
        ('{"posts": []}', "broken.json is not a Ghost export: no data.posts"),
        ('{"db": [{"data": {"posts": {}}}]}', "broken.json is not a Ghost export: no data.posts"),
        ("[1, 2]", "broken.json is not a Ghost export: no data.posts"),
        ("[" * 100_000 + "]" * 100_000, "broken.json is not readable JSON: nested too deeply"),
    ],
)
def test_a_file_that_is_not_a_ghost_export_is_refused_and_changes_nothing(
    app, runner, tmp_path, text, message
):
    broken = tmp_path / "broken.json"
    broken.write_text(text)
    before = state(app)
    result = run(runner, "--media", str(IMAGES), export=broken)
    assert result.exit_code == 1
    assert message in result.output and "Nothing was imported." in result.output
    assert state(app) == before


def test_an_export_that_is_not_text_is_refused(app, runner, tmp_path):
    broken = tmp_path / "export.json"
    broken.write_bytes(b"\xff\xfe\x00{")
    result = run(runner, export=broken)
    assert result.exit_code == 1
    assert "export.json is not readable JSON: not UTF-8 text" in result.output


def test_text_loses_nul_and_what_xml_cannot_carry_before_it_is_read(app, runner, tmp_path):
    post = {
        "title": "Null\x00 story\x0b",
        "slug": "nul",
        "html": None,
        "plaintext": "Before\n\n\x005\x00\n\nafter\ufffe",
    }
    imported(runner, export=one_post_export(tmp_path, post))
    nul = article(app, "nul")
    assert nul.title == "Null story"
    assert "<p>5</p>" in nul.body and "\x00" not in nul.body


@pytest.mark.parametrize(
    ("post", "users"),
    [
        ({"feature_image": "http://[x/content/images/2024/03/harbour.jpg"}, []),
        ({"html": '<p><img src="http://[x/content/images/a.jpg" alt="A"></p>'}, []),
        (
            {"author_id": "1"},
            [{"id": "1", "name": "Ana", "slug": "ana", "profile_image": "http://[x/a.jpg"}],
        ),
        ({"feature_image": "__GHOST_URL__/content/images/2024/03/har%00bour.jpg"}, []),
    ],
)
def test_an_address_that_cannot_be_read_leaves_the_post_in(app, runner, tmp_path, post, users):
    row = {"title": "Boats", "slug": "boats", "html": "<p>Boats.</p>", **post}
    tables = {"users": users} if users else {}
    report = imported(runner, export=one_post_export(tmp_path, row, **tables))
    assert "posts imported       1" in report
    assert count(app, Article) == 1


def test_a_feature_image_address_that_cannot_be_read_is_reported_as_such(app, runner, tmp_path):
    row = {
        "title": "Boats",
        "slug": "boats",
        "html": "<p>Boats.</p>",
        "feature_image": "http://[x/a.jpg",
    }
    report = imported(runner, export=one_post_export(tmp_path, row))
    assert (
        "post boats “Boats”: featured image http://[x/a.jpg is not a readable address: left out"
    ) in report


def test_posts_without_an_id_are_skipped(app, runner, tmp_path):
    rows = [
        {"title": title, "slug": title.lower(), "status": "published", "html": "<p>Text.</p>"}
        for title in ("One", "Two")
    ]
    export = tmp_path / "no-id.json"
    export.write_text(json.dumps({"db": [{"data": {"posts": rows, "users": []}}]}))
    report = imported(runner, export=export)
    assert "post one “One”: skipped: no id (id or uuid)" in report
    assert "post two “Two”: skipped: no id (id or uuid)" in report
    assert "already imported" not in report and count(app, Article) == 0


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_post_that_fails_is_reported_and_skipped_leaving_nothing_behind(
    app, runner, monkeypatch, dry_run
):
    sort_tags = ghost._sort_tags

    def failing(tag_ids, export, post, report):
        if post.label.startswith("post harbour-reopens "):
            raise ValueError("boom")
        sort_tags(tag_ids, export, post, report)

    monkeypatch.setattr(ghost, "_sort_tags", failing)
    before = state(app)
    report = imported(runner, *(["--dry-run"] if dry_run else []))
    assert "post harbour-reopens “Harbour reopens after the storm”: skipped: boom" in report
    assert "posts imported       7" in report and "posts skipped        1" in report
    if dry_run:
        assert state(app) == before
        return
    assert count(app, Article) == 7
    with app.app_context():
        paths = db.session.scalars(sa.select(LegacyPath.path)).all()
        assert "/harbour-reopens" not in paths
    # Its two images went too, files and all; the author photo another post brought stays.
    assert "  images " not in report and count(app, MediaItem) == 0
    with app.app_context():
        photos = db.session.scalars(sa.select(User.photo).where(User.photo.is_not(None))).all()
    stems = {photo.rsplit(".", 1)[0] for photo in photos}
    assert stems and {name.split(".")[0].split("-")[0] for name in state(app)["media"]} == stems

"""import-wordpress: a WordPress export (WXR) in, with its images and its old addresses."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from blog import caching, migrating, wordpress
from blog.database import MIGRATIONS
from blog.extensions import db
from blog.migrating import autop
from blog.models import Article, LegacyPath, MediaItem, Section, Tag, User
from tests.conftest import app_at_revision, csrf_token

DATA = Path(__file__).parent / "data" / "wordpress"
EXPORT = DATA / "export.xml"
UPLOADS = DATA / "uploads"


def run(runner, *args: str, export: Path = EXPORT):
    """``flask import-wordpress`` on ``export`` with ``args``; the result."""
    return runner.invoke(args=["import-wordpress", str(export), *args])


def imported(runner, *args: str, export: Path = EXPORT) -> str:
    """Import ``export`` with the test uploads; the report printed."""
    result = run(runner, "--media", str(UPLOADS), *args, export=export)
    assert result.exit_code == 0, result.output
    return result.output


def article(app, slug: str) -> Article:
    """The article at ``slug``, with what the tests read of it loaded."""
    with app.app_context():
        found = Article.by_slug(slug)
        assert found is not None, slug
        found.author, found.section, found.tags  # noqa: B018 (loaded before the session ends)
        db.session.expunge_all()
        return found


def state(app) -> dict[str, object]:
    """Every row of every table, and every file of the media folder."""
    with app.app_context():
        tables = {
            table.name: sorted(map(repr, db.session.execute(sa.select(table)).all()))
            for table in db.metadata.sorted_tables
        }
    media = Path(app.config["MEDIA_DIR"])
    files = (
        sorted(str(path.relative_to(media)) for path in media.rglob("*")) if media.exists() else []
    )
    return {"tables": tables, "media": files}


def count(app, model: type) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_report_counts_every_kind_and_lists_what_was_skipped_or_changed(runner):
    report = imported(runner)
    counts = dict(line.strip().rsplit(None, 1) for line in report.splitlines()[1:9])
    assert counts == {
        "posts imported": "7",
        "posts skipped": "1",
        "pages skipped": "1",
        "attachments read": "2",
        "other items skipped": "1",
        "authors": "3",
        "sections": "4",
        "tags": "3",
    }
    assert "  images               3" in report and "  redirects            19" in report
    for line in (
        "post 10 “Harbour reopens after the storm”: shortcode [gallery] kept as text",
        "post 10 “Harbour reopens after the storm”: category 'Local' became a tag",
        "post 11 “Гавань знову відкрита”: slug 'гавань' became 'gavan'",
        "post 12 “Council budget, first draft”: image 2024/03/missing.jpg not imported: no such",
        "post 16 “An old mistake”: skipped: in the trash",
        "post 17 “Staff notes”: private post imported as a draft",
        "page 30 “About us”: skipped: page items are not imported",
        "nav_menu_item 40 “Home”: skipped: nav_menu_item items are not imported",
        "author Olena K: username became 'olena-k'",
    ):
        assert line in report


def test_posts_keep_their_status_dates_and_sticky_flag(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    # The GMT date, not the site's local one two hours later.
    assert harbour.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert (harbour.state, harbour.featured) == ("published", True)
    assert harbour.summary == "The gates opened three days after the storm."
    assert article(app, "festival-preview").state == "scheduled"
    assert article(app, "festival-preview").published_at == datetime(2099, 6, 1, 9, tzinfo=UTC)
    assert article(app, "ferry-timetable").state == "review"
    draft = article(app, "council-budget-first-draft")
    assert (draft.state, draft.published_at) == ("draft", None)
    assert article(app, "staff-notes").state == "draft"
    assert article(app, "gavan").title == "Гавань знову відкрита"
    with app.app_context():
        assert Article.by_slug("old-mistake__trashed") is None
        assert not db.session.scalar(sa.select(Article).where(Article.title == "About us"))


def test_first_category_is_the_section_and_other_categories_and_tags_are_tags(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    assert harbour.section.name == "News"
    assert [tag.name for tag in harbour.tags] == ["harbour", "Local", "Weather"]
    assert article(app, "gavan").section.name == "Новини"
    assert article(app, "festival-preview").section.name == "Culture & Arts"
    assert article(app, "council-budget-first-draft").section is None  # "Uncategorized"
    with app.app_context():
        assert db.session.scalar(sa.select(Section).where(Section.name == "Local")) is None


def test_authors_become_inactive_writers_nobody_can_sign_in_as(app, runner, client):
    imported(runner)
    with app.app_context():
        people = db.session.scalars(sa.select(User).order_by(User.username)).all()
        assert [(u.username, u.display_name, u.role, u.active) for u in people] == [
            ("ana", "Ana Kovalenko", "writer", False),
            ("bohdan", "Богдан Шевчук", "writer", False),
            ("olena-k", "Olena Koval", "writer", False),
        ]
    assert article(app, "gavan").author.username == "bohdan"
    assert article(app, "ferry-timetable").author.username == "olena-k"


def test_an_admin_can_send_an_imported_author_a_set_password_link(app, runner, client, auth):
    imported(runner)
    auth.login("admin")
    with app.app_context():
        ana = db.session.scalar(sa.select(User).where(User.username == "ana"))
    token = csrf_token(client, "/admin/people")
    assert (
        client.post(f"/admin/people/{ana.id}/reactivate", data={"csrf_token": token}).status_code
        == 303
    )
    page = client.post(f"/admin/people/{ana.id}/reset-password", data={"csrf_token": token})
    assert page.status_code == 200 and "/auth/set-password/" in page.text


def test_featured_image_comes_from_an_attachment_later_in_the_file(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    assert harbour.hero_image is not None
    assert (harbour.hero_alt, harbour.hero_caption) == (
        "Fishing boats moored in the harbour",
        "The harbour at dawn",
    )
    assert (harbour.hero_width, harbour.hero_height) == (64, 48)
    assert (Path(app.config["MEDIA_DIR"]) / harbour.hero_image).is_file()


def test_body_images_join_the_library_and_show_as_pictures(app, runner):
    imported(runner)
    harbour = article(app, "harbour-reopens")
    assert "harbour-times.example" not in harbour.body_html
    assert harbour.body_html.count("<picture>") == 2
    with app.app_context():
        described = {item.alt: item for item in db.session.scalars(sa.select(MediaItem))}
    # The original upload, not the smaller size WordPress made of it.
    market = described["Stalls at the fish market"]
    assert (market.width, market.height) == (60, 40)
    assert f"/media/{market.hash}" in harbour.body_html
    assert sorted(described) == [
        "Boats at the quay",
        "Fishing boats moored in the harbour",
        "Stalls at the fish market",
    ]
    page = app.test_client().get("/articles/harbour-reopens").text
    assert f'<img src="/media/{market.hash}-60.jpg"' in page


def test_wordpress_text_keeps_its_paragraphs_line_breaks_and_asterisks(app, runner):
    imported(runner)
    html = article(app, "harbour-reopens").body_html
    assert (
        "<p>The harbour opened again on Tuesday morning, *three days* after the storm.<br>" in html
    )
    assert '<h2 id="h-what-the-harbour-master-said">' in html
    assert "<p>The gates will stay open at night from next week.</p>" in html


def test_caption_shortcode_becomes_a_figure_with_its_caption(app, runner):
    imported(runner)
    html = article(app, "harbour-reopens").body_html
    assert "[caption" not in html
    assert "<figcaption>Boats back at the quay</figcaption>" in html
    assert html.index("<figure><picture>") < html.index("<figcaption>")


def test_unknown_shortcode_stays_visible_as_text(app, runner):
    imported(runner)
    page = app.test_client().get("/articles/harbour-reopens").text
    assert '<p>[gallery ids="20,21" columns="2"]</p>' in page


def test_unsafe_markup_is_taken_out(app, runner):
    imported(runner)
    letters = article(app, "reader-letters")
    page = app.test_client().get("/articles/reader-letters").text
    for html in (letters.body_html, page):
        assert "stolen" not in html and "onerror" not in html and "onclick" not in html
    assert "<p>Write to us at the harbour office.</p>" in letters.body_html


OLD_ADDRESSES = [
    ("/?p=10", "harbour-reopens"),
    ("/?p=10&utm_source=newsletter", "harbour-reopens"),
    ("/?page_id=10", None),
    ("/2024/03/05/harbour-reopens/", "harbour-reopens"),
    ("/2024/03/05/harbour-reopens", "harbour-reopens"),
    ("/2024/03/05/harbour-reopens/?amp=1", "harbour-reopens"),
    ("/harbour-reopens/", "harbour-reopens"),
    ("/harbour-reopens", "harbour-reopens"),
    ("/Harbour-Reopens/", "harbour-reopens"),
    ("/?p=11", "gavan"),
    ("/2024/03/06/%D0%B3%D0%B0%D0%B2%D0%B0%D0%BD%D1%8C/", "gavan"),
    ("/2024/03/06/%d0%b3%d0%b0%d0%b2%d0%b0%d0%bd%d1%8c", "gavan"),
    ("/гавань/", "gavan"),
    ("/2024/03/09/reader-letters/", "reader-letters"),
]


@pytest.mark.parametrize(("address", "slug"), OLD_ADDRESSES)
def test_old_addresses_answer_301_with_the_article(app, runner, address, slug):
    imported(runner)
    response = app.test_client().get(address)
    if slug is None:  # a page id of a post: WordPress's pages are not imported
        assert response.status_code == 200
    else:
        assert response.status_code == 301
        assert response.headers["Location"] == f"/articles/{slug}"


@pytest.mark.parametrize("address", ["/staff-notes/", "/festival-preview", "/ferry-timetable/"])
def test_old_address_of_an_article_readers_cannot_see_is_404(app, runner, address):
    imported(runner)
    assert app.test_client().get(address).status_code == 404


def test_query_permalink_of_an_article_readers_cannot_see_shows_the_front_page(app, runner):
    imported(runner)
    response = app.test_client().get("/?p=12")
    assert response.status_code == 200 and 'class="lead' in response.text


def test_old_address_leads_to_the_current_slug(app, runner, client, auth):
    imported(runner)
    with app.app_context():
        harbour = Article.by_slug("harbour-reopens")
        harbour.slug = "harbour-open-again"
        db.session.commit()
    assert app.test_client().get("/?p=10").headers["Location"] == "/articles/harbour-open-again"


def test_only_reading_follows_an_old_address(app, runner, client):
    imported(runner)
    assert client.post("/harbour-reopens/").status_code in {400, 404, 405}


def test_a_new_old_address_is_not_hidden_by_a_kept_front_page(app, make_article):
    article = make_article("Harbour", slug="harbour")
    assert app.test_client().get("/?p=99").status_code == 200  # now kept by the page cache
    with app.app_context():
        db.session.add(LegacyPath(path="/?p=99", article_id=article.id))
        db.session.commit()
    assert app.test_client().get("/?p=99").status_code == 301


def test_legacy_path_changes_renew_the_content_stamp(app, make_article):
    article = make_article("Harbour", slug="harbour")
    with app.app_context():
        before = caching.content_stamp()
        db.session.add(LegacyPath(path="/harbour", article_id=article.id))
        db.session.commit()
        assert caching.content_stamp() != before


def test_dry_run_changes_neither_the_database_nor_the_media_folder(app, runner):
    before = state(app)
    report = imported(runner, "--dry-run")
    assert report.startswith("Import of export.xml (dry run: nothing was changed)")
    assert "posts imported       7" in report and "images               3" in report
    assert state(app) == before


def test_a_second_run_adds_nothing(app, runner):
    imported(runner)
    before = state(app)
    report = imported(runner)
    assert "already imported     7" in report and "posts imported" not in report
    assert "post 10 “Harbour reopens after the storm”: already imported" in report
    assert state(app) == before


def test_a_taken_slug_gives_a_free_one_and_the_old_address_still_leads_there(
    app, runner, make_article
):
    make_article("Another harbour story", slug="harbour-reopens")
    report = imported(runner)
    assert "slug 'harbour-reopens' already taken: 'harbour-reopens-2' used" in report
    response = app.test_client().get("/2024/03/05/harbour-reopens/")
    assert response.headers["Location"] == "/articles/harbour-reopens-2"


def test_without_a_media_folder_posts_come_in_and_missing_images_are_reported(app, runner):
    result = run(runner)
    assert result.exit_code == 0, result.output
    assert "image 2024/03/harbour.jpg not imported: no media folder given" in result.output
    assert count(app, Article) == 7 and count(app, MediaItem) == 0
    # An image left on the old site becomes a link to it.
    assert 'href="https://harbour-times.example/wp-content/uploads/2024/03/boats.jpg"' in (
        article(app, "reader-letters").body_html
    )


def test_broken_export_fails_naming_the_line_and_changes_nothing(app, runner, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text(EXPORT.read_text(encoding="utf-8")[:6000], encoding="utf-8")
    before = state(app)
    result = run(runner, "--media", str(UPLOADS), export=broken)
    assert result.exit_code != 0
    assert "broken.xml is not readable XML:" in result.output
    assert re.search(r"line \d+", result.output)
    assert "Nothing was imported." in result.output
    assert state(app) == before


def test_a_file_that_is_not_a_wordpress_export_is_refused(app, runner, tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text('<rss version="2.0"><channel><title>A feed</title></channel></rss>')
    result = run(runner, export=feed)
    assert result.exit_code != 0
    assert "feed.xml is not a WordPress export (WXR)" in result.output
    assert count(app, Tag) == 0


def test_a_bad_post_is_skipped_and_the_others_come_in(app, runner, tmp_path):
    export = tmp_path / "export.xml"
    long_body = "x" * 200_001  # 200,008 characters once made a paragraph
    export.write_text(
        EXPORT.read_text(encoding="utf-8").replace(
            "The ferry leaves earlier from April.", long_body
        ),
        encoding="utf-8",
    )
    result = run(runner, export=export)
    assert result.exit_code == 0, result.output
    assert "post 13 “Ferry timetable changes”: skipped: body: The body is 200,008 characters" in (
        result.output
    )
    assert count(app, Article) == 6


def test_posts_are_committed_in_batches_as_the_import_goes(app, runner, monkeypatch):
    monkeypatch.setattr(migrating, "BATCH_SIZE", 2)
    commits: list[int] = []

    def note(connection: sa.Connection) -> None:
        commits.append(len(commits))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "commit", note)
    try:
        imported(runner)
    finally:
        sa.event.remove(engine, "commit", note)
    assert len(commits) == 4  # after posts 2, 4 and 6, and at the end
    assert count(app, Article) == 7


@pytest.mark.parametrize(
    ("address", "path"),
    [
        ("https://old.example/2024/03/05/harbour-reopens/", "/2024/03/05/harbour-reopens"),
        ("/harbour-reopens/", "/harbour-reopens"),
        ("https://old.example/?p=123", "/?p=123"),
        ("/news/?page_id=7&utm_source=x", "/news?page_id=7"),
        ("/%D0%B3%D0%B0%D0%B2%D0%B0%D0%BD%D1%8C/", "/%d0%b3%d0%b0%d0%b2%d0%b0%d0%bd%d1%8c"),
        ("/гавань", "/%d0%b3%d0%b0%d0%b2%d0%b0%d0%bd%d1%8c"),
        ("https://old.example", "/"),
    ],
)
def test_old_addresses_are_stored_in_one_form(address, path):
    assert LegacyPath.normalize(address) == path


def test_autop_makes_paragraphs_and_line_breaks_as_wordpress_shows_them():
    text = "One\ntwo\n\n<h2>Head</h2>\nThree\n\n<pre>a\n\nb</pre>\n\n<ul>\n<li>x</li>\n</ul>"
    assert autop(text) == (
        "<p>One<br>\ntwo</p>\n\n<h2>Head</h2>\n\n<p>Three</p>\n\n<pre>a\n\nb</pre>\n\n"
        "<ul>\n\n<li>x</li>\n\n</ul>"
    )


def test_upgrade_to_imports_keeps_every_article_and_its_history(tmp_path: Path):
    app = app_at_revision(tmp_path, "9de17a5184c6")
    with app.app_context():
        for statement in (
            "INSERT INTO users (id, username, display_name, password_hash, role, active,"
            " created_at, session_token) VALUES (1, 'ada', 'Ada', 'x', 'writer', 1, :t, 't')",
            "INSERT INTO articles (id, title, slug, summary, dateline, body, body_html, toc,"
            " author_id, featured, status, created_at, updated_at, hero_alt, hero_caption,"
            " hero_credit, version) VALUES (7, 'Old story', 'old-story', '', '', 'Body.',"
            " '<p>Body.</p>', '[]', 1, 0, 'draft', :t, :t, '', '', '', 1)",
            "INSERT INTO revisions (article_id, version, created_at, fields, note)"
            " VALUES (7, 1, :t, '{}', '')",
        ):
            db.session.execute(sa.text(statement), {"t": datetime(2025, 2, 24, 8, 30)})
        db.session.commit()
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        article = db.session.get(Article, 7)
        assert (len(article.revisions), article.imported_from) == (1, None)
        db.engine.dispose()


def export_with(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """The test export with each ``(old, new)`` change made once, written in ``tmp_path``."""
    text = EXPORT.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    export = tmp_path / "export.xml"
    export.write_text(text, encoding="utf-8")
    return export


def export_of(tmp_path: Path, *items: str) -> Path:
    """An export of the test site with only ``items``."""
    head = EXPORT.read_text(encoding="utf-8").split("<item>", 1)[0]
    export = tmp_path / "export.xml"
    export.write_text(f"{head}{''.join(items)}</channel></rss>", encoding="utf-8")
    return export


def post_item(post_id: str, title: str, body: str = "Text.", creator: str = "ana") -> str:
    """A published post of an export."""
    return f"""<item><title>{title}</title><dc:creator><![CDATA[{creator}]]></dc:creator>
<content:encoded><![CDATA[{body}]]></content:encoded><wp:post_id>{post_id}</wp:post_id>
<wp:post_date>2024-03-08 12:00:00</wp:post_date><wp:post_name>{slugify_title(title)}</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>"""


def slugify_title(title: str) -> str:
    """The slug the tests give a post titled ``title``."""
    return title.lower().replace(" ", "-")


def test_a_password_protected_post_comes_in_as_a_draft_and_is_reported(app, runner, tmp_path):
    export = export_with(
        tmp_path,
        (
            "<wp:post_password><![CDATA[]]></wp:post_password>",
            "<wp:post_password><![CDATA[members]]></wp:post_password>",
        ),
    )
    report = imported(runner, export=export)
    assert (
        "post 10 “Harbour reopens after the storm”: password-protected on WordPress:"
        " imported as a draft"
    ) in report
    assert article(app, "harbour-reopens").status == "draft"
    assert app.test_client().get("/2024/03/05/harbour-reopens/").status_code == 404


BOATS_URL = "https://harbour-times.example/wp-content/uploads/2024/03/boats.jpg"
ATTACHMENT_URL = "https://harbour-times.example/wp-content/uploads/2024/03/harbour.jpg"


@pytest.mark.parametrize(
    "change",
    [
        (BOATS_URL + '" alt="Boats"', 'http://[x/wp-content/uploads/boats.jpg" alt="B"'),
        (BOATS_URL, BOATS_URL.replace("boats", "bo%00ats")),
        (
            "<link>https://harbour-times.example/2024/03/09/reader-letters/</link>",
            "<link>http://[x/2024/03/09/reader-letters/</link>",
        ),
        (
            "<wp:attachment_url><![CDATA[https://harbour-times.example/wp-content/uploads/2024/03/"
            "harbour.jpg",
            "<wp:attachment_url><![CDATA[http://[x/wp-content/uploads/2024/03/harbour.jpg",
        ),
    ],
)
def test_an_address_that_cannot_be_read_is_left_as_it_was(app, runner, tmp_path, change):
    report = imported(runner, export=export_with(tmp_path, change))
    assert "posts imported       7" in report
    assert count(app, Article) == 7


def test_a_featured_image_whose_file_was_refused_is_reported_as_such(app, runner, tmp_path):
    export = export_with(
        tmp_path, (ATTACHMENT_URL, "http://[x/wp-content/uploads/2024/03/harbour.jpg")
    )
    report = imported(runner, export=export)
    assert (
        "post 10 “Harbour reopens after the storm”: featured image 20 not imported: its address"
        " http://[x/wp-content/uploads/2024/03/harbour.jpg is not the site's uploads"
    ) in report


def failing_for(label: str, function):
    """``function``, raising ValueError("boom") for the post named ``label``."""

    def failing(item, post, *args):
        if label in post.label:
            raise ValueError("boom")
        return function(item, post, *args)

    return failing


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_post_that_fails_is_reported_and_skipped_leaving_nothing_behind(
    app, runner, monkeypatch, dry_run
):
    monkeypatch.setattr(wordpress, "_sort_terms", failing_for("Reader", wordpress._sort_terms))
    before = state(app)
    report = imported(runner, *(["--dry-run"] if dry_run else []))
    assert "post 15 “Reader letters”: skipped: boom" in report
    assert "posts imported       6" in report and "posts skipped        2" in report
    if dry_run:
        assert state(app) == before
    else:
        assert count(app, Article) == 6


def test_a_post_refused_by_the_form_leaves_no_author_image_or_file(app, runner, tmp_path):
    body = "x" * 200_001 + f'\n\n<img src="{BOATS_URL}" alt="Boats">'
    export = export_of(
        tmp_path, post_item("50", "Too long", body, creator="zed"), post_item("51", "Fine")
    )
    report = imported(runner, export=export)
    assert "post 50 “Too long”: skipped: body:" in report
    assert "posts imported       1" in report and "authors              1" in report
    assert "images" not in report
    with app.app_context():
        assert db.session.scalars(sa.select(User.username)).all() == ["ana"]
    assert count(app, MediaItem) == 0
    assert state(app)["media"] == []


def test_posts_without_an_id_are_skipped(app, runner, tmp_path):
    export = export_of(tmp_path, post_item("", "One"), post_item("", "Two"))
    report = imported(runner, export=export)
    assert "post  “One”: skipped: no id (wp:post_id)" in report
    assert "post  “Two”: skipped: no id (wp:post_id)" in report
    assert "already imported" not in report and count(app, Article) == 0


def test_old_slugs_lead_to_the_article(app, runner, tmp_path):
    old_slugs = "".join(
        f"<wp:postmeta><wp:meta_key>_wp_old_slug</wp:meta_key><wp:meta_value>{slug}"
        "</wp:meta_value></wp:postmeta>"
        for slug in ("harbor-reopens", "harbour-opens")
    )
    sticky = "<wp:is_sticky>1</wp:is_sticky>"
    export = export_with(tmp_path, (sticky, sticky + old_slugs))
    imported(runner, export=export)
    client = app.test_client()
    for address in (
        "/harbor-reopens/",
        "/harbour-opens",
        "/2024/03/05/harbor-reopens/",
        "/2024/03/05/harbour-opens/",
    ):
        response = client.get(address)
        assert response.status_code == 301, address
        assert response.headers["Location"] == "/articles/harbour-reopens"


def test_a_featured_image_on_another_host_comes_from_the_media_folder(app, runner, tmp_path):
    cdn = "https://cdn.example.net/wp-content/uploads/2024/03/"
    export = export_with(
        tmp_path,
        (ATTACHMENT_URL, cdn + "harbour.jpg"),
        (BOATS_URL, cdn + "boats.jpg"),
    )
    imported(runner, export=export)
    harbour = article(app, "harbour-reopens")
    assert harbour.hero_image is not None
    # A body image on the host the site's attachments are on is the site's too.
    assert "cdn.example.net" not in harbour.body_html


def test_a_body_image_on_another_site_stays_a_link(app, runner, tmp_path):
    elsewhere = "https://elsewhere.example/wp-content/uploads/2024/03/boats.jpg"
    imported(runner, export=export_with(tmp_path, (BOATS_URL, elsewhere)))
    assert f'href="{elsewhere}"' in article(app, "harbour-reopens").body_html


def test_an_export_declaring_entities_is_refused(app, runner, tmp_path):
    export = export_with(
        tmp_path, ("<rss version", '<!DOCTYPE rss [<!ENTITY who "Ana">]>\n<rss version')
    )
    before = state(app)
    result = run(runner, export=export)
    assert result.exit_code == 1
    assert (
        "export.xml declares XML entities, which a WordPress export never does. Nothing was"
        " imported."
    ) in result.output
    assert state(app) == before


@pytest.mark.parametrize("backend", ["sqlite_app", "postgres_app"])
def test_an_old_address_leads_to_the_article_with_its_exact_spelling(request, backend):
    site = request.getfixturevalue(backend)
    with site.app_context():
        author = User(username="ana", display_name="Ana", role="writer")
        author.set_password("a long enough password")
        lower, upper = (
            Article(title=title, slug=title.lower(), body="Text.", author=author)
            for title in ("Lower", "Upper")
        )
        lower.legacy_paths.append(LegacyPath(path="/harbour"))
        upper.legacy_paths.append(LegacyPath(path="/Harbour"))
        db.session.add_all([lower, upper])
        db.session.commit()
        # PostgreSQL's collation sorts "/harbour" before "/Harbour".
        assert Article.at_legacy_path("/Harbour") is upper
        assert Article.at_legacy_path("/harbour") is lower
        assert Article.at_legacy_path("/HARBOUR") is lower

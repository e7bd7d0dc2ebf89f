"""Revisions: one per save with every field, the history page, its diff, and restoring."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import html5lib
import pytest
import sqlalchemy as sa
from PIL import Image

from blog.extensions import db
from blog.models import Article, AuditEvent, Revision, SlugRedirect
from tests.conftest import PASSWORD, csrf_token


def form_fields(page: str) -> dict[str, str]:
    """The values the article form on ``page`` would send, as a browser fills them."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    form = next(f for f in tree.iter("form") if "article-form" in f.get("class", ""))
    fields: dict[str, str] = {}
    for element in form.iter("input"):
        kind = element.get("type", "text")
        unchecked = kind in {"checkbox", "radio"} and element.get("checked") is None
        if kind in {"file", "submit"} or unchecked or not element.get("name"):
            continue
        fields[element.get("name")] = element.get("value", "y" if kind == "checkbox" else "")
    for element in form.iter("textarea"):
        # html5lib keeps the newline after <textarea>, which browsers drop.
        fields[element.get("name")] = (element.text or "").removeprefix("\n")
    for element in form.iter("select"):
        options = list(element.iter("option"))
        chosen = [o for o in options if o.get("selected") is not None] or options[:1]
        fields[element.get("name")] = chosen[0].get("value", chosen[0].text or "")
    return fields


def edit(client, article_id: int, **changes: str):
    """Open the article's form, change some fields, and save it."""
    data = form_fields(client.get(f"/editor/articles/{article_id}/edit").text) | changes
    return client.post(f"/editor/articles/{article_id}/edit", data=data)


# Long enough to pass the publish checks.
BODY = "The council voted.\n\n" + "Seven members voted for it after a long debate. " * 8


def create(client, **fields: str) -> int:
    """Write a new article through the form; its id."""
    data = {
        "csrf_token": csrf_token(client, "/editor/articles/new"),
        "title": "Council approves budget",
        "summary": "A short dek.",
        "dateline": "Millbrook",
        "body": BODY,
        "section": "Local",
        "tags": "council, budget",
        "status": "published",
        **fields,
    }
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 303, response.text
    return int(response.headers["Location"].split("/")[-2])


def revisions_of(app, article_id: int) -> list[Revision]:
    """The article's revisions, oldest first."""
    with app.app_context():
        query = sa.select(Revision).where(Revision.article_id == article_id).order_by(Revision.id)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def stored(app, article_id: int) -> Article:
    """The article as saved, with its tags and section loaded."""
    with app.app_context():
        article = db.session.get(Article, article_id)
        _ = article.tags, article.section
        db.session.expunge(article)
        return article


def jpeg() -> io.BytesIO:
    """A small JPEG upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 80, 200)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def test_every_save_keeps_a_revision_with_every_field(app, client, auth):
    editor = auth.login("editor")
    article_id = create(client)
    assert edit(client, article_id, title="Council passes budget", tags="money").status_code == 303

    first, second = revisions_of(app, article_id)
    article = stored(app, article_id)
    assert (first.version, second.version, article.version) == (1, 2, 2)
    assert first.editor_id == second.editor_id == editor.id
    assert first.fields["title"] == "Council approves budget"
    assert sorted(first.fields["tags"]) == ["budget", "council"]
    assert second.fields == {
        "title": "Council passes budget",
        "slug": "council-approves-budget",
        "summary": "A short dek.",
        "dateline": "Millbrook",
        "body": BODY,
        "section": "Local",
        "tags": ["money"],
        "featured": False,
        "status": "published",
        "published_at": article.published_at.isoformat(),
        "hero_image": None,
        "hero_width": None,
        "hero_height": None,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }


def test_history_lists_versions_newest_first_with_who_when_and_note(app, client, auth):
    app.config["TIMEZONE"] = "Asia/Tokyo"
    auth.login("editor", username="ana")
    article_id = create(client)
    edit(client, article_id, title="Second headline")
    older, newer = revisions_of(app, article_id)

    page = client.get(f"/editor/articles/{article_id}/history")
    assert page.status_code == 200
    tree = html5lib.parse(page.text, namespaceHTMLElements=False)
    rows = tree.findall(".//table[@class='articles-table']/tbody/tr")
    assert [row.find("td").text.strip() for row in rows] == ["2 (latest)", "1"]
    assert all("Ana" in "".join(row.itertext()) for row in rows)
    tokyo = newer.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M}" in "".join(rows[0].itertext())
    checked = {
        element.get("name"): element.get("value")
        for element in tree.iter("input")
        if element.get("type") == "radio" and element.get("checked") is not None
    }
    assert checked == {"a": str(older.id), "b": str(newer.id)}
    assert "From version 1 to version 2" in page.text
    # The form lists the tags in another order than they were typed: that is no change.
    changed = [row.findtext("th") for row in tree.findall(".//table[@class='changes']/tbody/tr")]
    assert changed == ["Headline"]
    assert "Second headline" in page.text and "Council approves budget" in page.text


def test_article_form_links_to_its_history(client, auth, make_article):
    auth.login("editor")
    article = make_article()
    page = client.get(f"/editor/articles/{article.id}/edit").text
    assert f'href="/editor/articles/{article.id}/history"' in page
    history = client.get(f"/editor/articles/{article.id}/history")
    assert history.status_code == 200 and "No saved versions yet" in history.text


def test_diff_marks_removed_and_added_words_and_escapes_html(app, client, auth):
    auth.login("editor")
    article_id = create(
        client, status="draft", body="Hello <b>world</b> & friends.\n\nUnchanged paragraph."
    )
    edit(
        client,
        article_id,
        body="Hello <script>alert(1)</script> & friends.\n\nUnchanged paragraph.",
    )
    first, second = revisions_of(app, article_id)

    page = client.get(f"/editor/articles/{article_id}/history?a={first.id}&b={second.id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    tree = html5lib.parse(page.text, namespaceHTMLElements=False)
    body_row = next(row for row in tree.iter("tr") if (row.findtext("th") or "").strip() == "Body")
    removed = ["".join(d.itertext()) for d in body_row.iter("del")]
    added = ["".join(i.itertext()) for i in body_row.iter("ins")]
    assert removed == ["<b>world</b> "]
    assert added == ["<script>alert(1)</script> "]
    assert "Unchanged paragraph." in "".join(body_row.itertext())
    assert tree.find(".//script[@src]") is not None  # only the page's own script
    assert not [s for s in tree.iter("script") if s.get("src") is None]


def test_diff_folds_long_unchanged_stretches(app, client, auth):
    auth.login("editor")
    paragraphs = [f"Paragraph {n}." for n in range(30)]
    article_id = create(client, status="draft", body="\n\n".join(paragraphs))
    paragraphs[15] = "Paragraph fifteen."
    edit(client, article_id, body="\n\n".join(paragraphs))
    page = client.get(f"/editor/articles/{article_id}/history").text
    assert "… 13 unchanged lines …" in page and "… 12 unchanged lines …" in page
    assert "Paragraph 14." in page and "Paragraph 2." not in page


def test_comparing_a_version_with_itself_says_nothing_changed(app, client, auth):
    auth.login("editor")
    article_id = create(client)
    (only,) = revisions_of(app, article_id)
    page = client.get(f"/editor/articles/{article_id}/history?a={only.id}&b={only.id}")
    assert page.status_code == 200 and "The two versions have the same content." in page.text


def test_restore_makes_a_new_revision_and_changes_the_article(app, client, auth):
    auth.login("editor", username="ed")
    article_id = create(client, status="draft", body="## Original\n\nFirst *text*. " + BODY)
    edit(
        client,
        article_id,
        title="Rewritten",
        slug="rewritten",
        body="Other text. " * 60,
        section="Sport",
        tags="",
        status="published",
    )
    first, _second = revisions_of(app, article_id)
    published = stored(app, article_id).published_at

    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    response = client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/editor/articles/{article_id}/history")
    page = client.get(response.headers["Location"]).text
    assert "Restored version 1 as version 3." in page
    assert "The status and publication time are unchanged." in page

    article = stored(app, article_id)
    assert (article.title, article.slug) == ("Council approves budget", "council-approves-budget")
    assert article.body == "## Original\n\nFirst *text*. " + BODY
    assert "<em>text</em>" in article.body_html and 'id="h-original"' in article.body_html
    assert article.section.name == "Local"
    assert sorted(tag.name for tag in article.tags) == ["budget", "council"]
    assert (article.status, article.published_at) == ("published", published)
    newest = revisions_of(app, article_id)[-1]
    assert (newest.version, newest.note) == (3, "Restored version 1")
    assert newest.fields["title"] == "Council approves budget"
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="revert"))
        assert (event.article_id, event.detail) == (article_id, "Restored version 1")


def test_restoring_a_public_article_keeps_its_old_address_working(app, client, auth):
    auth.login("editor")
    article_id = create(client, slug="first-address")
    edit(client, article_id, slug="second-address")
    first, _second = revisions_of(app, article_id)
    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore", data={"csrf_token": token}
    )
    assert stored(app, article_id).slug == "first-address"
    with app.app_context():
        redirects = db.session.scalars(sa.select(SlugRedirect.old_slug)).all()
    assert redirects == ["second-address"]


def test_restore_brings_back_the_hero_image(app, client, auth):
    auth.login("editor")
    article_id = create(
        client, hero_image=(jpeg(), "photo.jpg"), hero_alt="The river", hero_credit="Ana"
    )
    image = stored(app, article_id).hero_image
    assert image
    edit(client, article_id, remove_hero="y", hero_alt="", hero_credit="")
    assert stored(app, article_id).hero_image is None
    first = revisions_of(app, article_id)[0]

    page = client.get(f"/editor/articles/{article_id}/history").text
    assert f'src="/media/{image}" alt="The river"' in page
    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore", data={"csrf_token": token}
    )
    article = stored(app, article_id)
    assert (article.hero_image, article.hero_alt, article.hero_credit) == (
        image,
        "The river",
        "Ana",
    )
    assert (article.hero_width, article.hero_height) == (40, 30)


def test_restore_keeps_the_current_image_when_the_old_file_is_gone(app, client, auth):
    auth.login("editor")
    article_id = create(client, hero_image=(jpeg(), "photo.jpg"), hero_alt="The river")
    old_image = stored(app, article_id).hero_image
    other = Image.new("RGB", (50, 20), (0, 0, 0))
    upload = io.BytesIO()
    other.save(upload, "PNG")
    upload.seek(0)
    edit(client, article_id, hero_image=(upload, "new.png"), hero_alt="A black bar")
    new_image = stored(app, article_id).hero_image
    (Path(app.config["MEDIA_DIR"]) / old_image).unlink()
    first = revisions_of(app, article_id)[0]
    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    response = client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "Its hero image is no longer stored, so the current one stays." in response.text
    article = stored(app, article_id)
    assert (article.hero_image, article.hero_alt) == (new_image, "The river")


def test_restore_that_would_break_a_rule_explains_why_and_changes_nothing(
    app, client, auth, make_article
):
    auth.login("editor")
    article_id = create(client, slug="taken-later")
    edit(client, article_id, slug="moved-on")
    make_article("Another story", slug="taken-later")
    first, _second = revisions_of(app, article_id)
    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    response = client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore", data={"csrf_token": token}
    )
    assert response.status_code == 422
    assert "The version was not restored" in response.text
    assert "Slug: Another article already uses this slug." in response.text
    assert 'name="override_reason"' not in response.text  # no check to override
    assert stored(app, article_id).slug == "moved-on"
    assert len(revisions_of(app, article_id)) == 2


def restore_form(page: str, revision_id: int):
    """The form on the history page that restores the revision ``revision_id``."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    action = f"/revisions/{revision_id}/restore"
    return next(f for f in tree.iter("form") if f.get("action", "").endswith(action))


def test_restoring_a_version_that_fails_the_publish_checks_offers_editors_an_override(
    app, client, auth
):
    auth.login("editor")
    article_id = create(client, body="Bridge closed.", override_reason="Breaking news")
    edit(client, article_id, body=BODY)
    edit(client, article_id, title="Bridge reopens")
    first = revisions_of(app, article_id)[0]
    assert first.note == "Breaking news"
    restore = f"/editor/articles/{article_id}/revisions/{first.id}/restore"
    token = csrf_token(client, f"/editor/articles/{article_id}/history")

    response = client.post(restore, data={"csrf_token": token})
    assert response.status_code == 422
    assert "Body: The body has 2 words" in response.text
    assert "does not pass the publish checks" in response.text
    assert "fix the problems marked" not in response.text  # the article form's advice
    # The page compares the refused version with the latest; the reason goes with its button.
    assert "From version 1 to version 3" in response.text
    field = restore_form(response.text, first.id).find(".//input[@name='override_reason']")
    assert field is not None and field.get("maxlength") == "300"
    assert stored(app, article_id).body == BODY
    assert len(revisions_of(app, article_id)) == 3

    reason = "The short version was right: the bridge story is still developing."
    response = client.post(restore, data={"csrf_token": token, "override_reason": reason})
    assert response.status_code == 303
    article = stored(app, article_id)
    assert (article.body, article.title, article.status) == (
        "Bridge closed.",
        "Council approves budget",
        "published",
    )
    newest = revisions_of(app, article_id)[-1]
    assert newest.note == f"Restored version 1; published despite the checks: {reason}"
    with app.app_context():
        details = db.session.scalars(sa.select(AuditEvent.detail).order_by(AuditEvent.id)).all()
    assert details[-2:] == [f"Published despite the checks: {reason}", newest.note]


def test_a_reason_to_restore_anyway_is_kept_in_its_field_when_too_long(app, client, auth):
    auth.login("editor")
    article_id = create(client, body="Bridge closed.", override_reason="Breaking news")
    edit(client, article_id, body=BODY)
    first = revisions_of(app, article_id)[0]
    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    reason = "Still developing. " * 20
    response = client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore",
        data={"csrf_token": token, "override_reason": reason},
    )
    assert response.status_code == 422
    field = restore_form(response.text, first.id).find(".//input[@name='override_reason']")
    assert field.get("value") == reason.strip() and field.get("aria-invalid") == "true"
    assert "Reason to publish anyway: Field cannot be longer than 300 characters." in response.text
    assert stored(app, article_id).body == BODY


def test_a_version_that_fails_the_checks_is_restored_into_a_draft_without_a_reason(
    app, client, auth
):
    auth.login("writer")
    article_id = create(client, status="draft", body="Bridge closed.")
    edit(client, article_id, body=BODY)
    first = revisions_of(app, article_id)[0]
    page = client.get(f"/editor/articles/{article_id}/history").text
    assert 'name="override_reason"' not in page
    token = csrf_token(client, f"/editor/articles/{article_id}/history")
    response = client.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore",
        data={"csrf_token": token, "override_reason": "Not needed"},
    )
    assert response.status_code == 303
    assert stored(app, article_id).body == "Bridge closed."
    assert revisions_of(app, article_id)[-1].note == "Restored version 1"


def test_writers_cannot_restore_into_their_published_article_even_with_a_reason(
    app, client, auth, make_user
):
    writer = make_user("wendy", role="writer")
    auth.login("editor")
    article_id = create(client, body="Bridge closed.", override_reason="Breaking news")
    edit(client, article_id, body=BODY)
    first = revisions_of(app, article_id)[0]
    with app.app_context():
        db.session.get(Article, article_id).author_id = writer.id
        db.session.commit()
    wendy = app.test_client()
    token = csrf_token(wendy, "/auth/login")
    login = {"username": "wendy", "password": PASSWORD, "csrf_token": token}
    assert wendy.post("/auth/login", data=login).status_code == 303
    assert wendy.get(f"/editor/articles/{article_id}/history").status_code == 403
    response = wendy.post(
        f"/editor/articles/{article_id}/revisions/{first.id}/restore",
        data={"csrf_token": csrf_token(wendy, "/editor/articles/new"), "override_reason": "Why"},
    )
    assert response.status_code == 403
    assert stored(app, article_id).body == BODY
    assert len(revisions_of(app, article_id)) == 2


def test_an_article_in_the_trash_is_taken_out_before_a_version_is_restored(app, client, auth):
    auth.login("editor")
    article_id = create(client, status="draft")
    edit(client, article_id, title="Changed")
    first, _second = revisions_of(app, article_id)
    with app.app_context():
        db.session.get(Article, article_id).deleted_at = datetime.now(UTC)
        db.session.commit()
    page = client.get(f"/editor/articles/{article_id}/history")
    assert page.status_code == 200 and "Restore version" not in page.text
    token = csrf_token(client, "/editor/articles/new")
    restore = f"/editor/articles/{article_id}/revisions/{first.id}/restore"
    response = client.post(restore, data={"csrf_token": token})
    assert response.status_code == 409 and "Take it out of the trash first." in response.text
    assert stored(app, article_id).title == "Changed"


def test_restore_needs_a_csrf_token(app, client, auth):
    auth.login("editor")
    article_id = create(client)
    edit(client, article_id, title="Changed")
    first, _second = revisions_of(app, article_id)
    response = client.post(f"/editor/articles/{article_id}/revisions/{first.id}/restore")
    assert response.status_code == 400
    assert stored(app, article_id).title == "Changed"
    assert len(revisions_of(app, article_id)) == 2


def test_writers_cannot_see_or_restore_the_history_of_others_work(
    app, client, auth, make_user, make_article
):
    other = make_user("other", role="writer")
    article = make_article(author_id=other.id, status="draft")
    with app.app_context():
        db.session.add(Revision(article_id=article.id, version=1, fields={"title": "Old"}))
        db.session.commit()
    (revision,) = revisions_of(app, article.id)
    auth.login("writer")
    assert client.get(f"/editor/articles/{article.id}/history").status_code == 403
    token = csrf_token(client, "/editor/articles/new")
    restore = f"/editor/articles/{article.id}/revisions/{revision.id}/restore"
    assert client.post(restore, data={"csrf_token": token}).status_code == 403
    assert stored(app, article.id).title == article.title


def test_writers_see_the_history_of_their_own_drafts(app, client, auth):
    auth.login("writer")
    article_id = create(client, status="draft")
    assert client.get(f"/editor/articles/{article_id}/history").status_code == 200


def test_history_needs_a_signed_in_user(client, make_article):
    article = make_article()
    response = client.get(f"/editor/articles/{article.id}/history")
    assert response.status_code in {302, 303}
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("query", ["a=999999", "b=abc", "a=0", "a=99999999999999", "b="])
def test_unknown_revision_ids_are_404(app, client, auth, query):
    auth.login("editor")
    article_id = create(client)
    assert client.get(f"/editor/articles/{article_id}/history?{query}").status_code == 404


def test_revisions_of_another_article_are_404(app, client, auth):
    auth.login("editor")
    mine = create(client, title="Mine")
    theirs = create(client, title="Theirs")
    (foreign,) = revisions_of(app, theirs)
    assert client.get(f"/editor/articles/{mine}/history?a={foreign.id}").status_code == 404
    token = csrf_token(client, "/editor/articles/new")
    restore = f"/editor/articles/{mine}/revisions/{foreign.id}/restore"
    assert client.post(restore, data={"csrf_token": token}).status_code == 404
    assert (
        client.post(
            f"/editor/articles/{mine}/revisions/999999/restore", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get("/editor/articles/999999/history").status_code == 404
    assert stored(app, mine).title == "Mine"

"""Corrections and updates on published articles, and the article page's metadata and banner."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from blog.dates import long_date, utcnow
from blog.extensions import db
from blog.models import Article, ArticleNote, AuditEvent
from tests.conftest import csrf_token


def add_note(client, article_id: int, **fields):
    url = f"/editor/articles/{article_id}/notes"
    data = {
        "note-csrf_token": csrf_token(client, url if fields.pop("via_page", False) else "/editor/"),
        "note-kind": "correction",
        "note-text": "An earlier version misspelled the mayor's name.",
    }
    data.update(fields)
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


def notes(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(n.kind, n.text) for n in db.session.scalars(sa.select(ArticleNote))]


def test_editor_adds_a_correction_shown_at_the_end_of_the_article(app, client, auth, make_article):
    article = make_article(
        "Council vote", section="Local", published_at=utcnow() - timedelta(days=3)
    )
    auth.login("editor")
    edit_page = client.get(f"/editor/articles/{article.id}/edit").text
    assert f'action="/editor/articles/{article.id}/notes"' in edit_page
    assert 'name="note-text"' in edit_page and 'id="note-kind"' in edit_page
    response = add_note(client, article.id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/articles/{article.id}/edit#notes"
    assert (
        "Added the correction to “Council vote”." in client.get(response.headers["Location"]).text
    )

    page = app.test_client().get(f"/articles/{article.slug}").text
    with app.app_context():
        note = db.session.scalar(sa.select(ArticleNote))
        stored = db.session.get(Article, article.id)
        assert stored.revised_at == note.created_at and stored.was_updated
        today = long_date(note.created_at)
    section = page.index('<section class="notes"')
    assert page.index('class="article-body"') < section < page.index('class="article__footer"')
    assert '<h2 id="notes-title">Corrections and updates</h2>' in page
    stamp = f'<time datetime="{note.created_at.isoformat()}">{today}</time>'
    assert f"<strong>Correction</strong>, {stamp}" in page
    assert "An earlier version misspelled the mayor&#39;s name." in page
    assert re.search(r"Updated <time datetime=\"[^\"]+\">" + today, page)
    assert (
        f'<meta property="article:modified_time" content="{note.created_at.isoformat()}">' in page
    )


def test_notes_keep_their_order_and_kind(app, client, auth, make_article):
    article = make_article("Storm")
    auth.login("editor")
    add_note(client, article.id, **{"note-kind": "update", "note-text": "Power is back."})
    add_note(client, article.id, **{"note-text": "The storm hit on Tuesday, not Monday."})
    assert notes(app) == [
        ("update", "Power is back."),
        ("correction", "The storm hit on Tuesday, not Monday."),
    ]
    page = client.get(f"/articles/{article.slug}").text
    assert page.index("Power is back.") < page.index("Tuesday, not Monday.")
    assert "<strong>Update</strong>" in page and "<strong>Correction</strong>" in page


def test_a_note_does_not_make_the_next_save_a_conflict(app, client, auth, make_article):
    article = make_article("Versioned")
    auth.login("editor")
    add_note(client, article.id)
    with app.app_context():
        assert db.session.get(Article, article.id).version == article.version


def test_note_text_is_plain_text(app, client, auth, make_article):
    article = make_article("Escaped")
    auth.login("editor")
    text = "Line one <script>alert(1)</script>\r\n**not bold**"
    add_note(client, article.id, **{"note-text": f"  {text}  "})
    assert notes(app) == [("correction", text.replace("\r\n", "\n"))]
    page = client.get(f"/articles/{article.slug}").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "**not bold**" in page


def test_writers_may_not_add_notes(app, client, auth, make_article):
    writer = auth.login("writer")
    article = make_article("Theirs", author_id=writer.id)
    assert add_note(client, article.id).status_code == 403
    assert client.get(f"/editor/articles/{article.id}/notes").status_code == 403
    assert notes(app) == []


def test_signed_out_people_may_not_add_notes(app, client, make_article):
    article = make_article("Anyone")
    response = client.post(
        f"/editor/articles/{article.id}/notes", data={"note-text": "Sneaky", "note-kind": "update"}
    )
    assert response.status_code == 401
    assert notes(app) == []


def test_a_note_without_a_valid_csrf_token_comes_back_with_its_text(
    app, client, auth, make_article
):
    article = make_article("Guarded")
    auth.login("editor")
    response = add_note(client, article.id, **{"note-csrf_token": "stale", "note-text": "Keep me"})
    assert response.status_code == 422
    assert "The form had expired" in response.text and "\nKeep me</textarea>" in response.text
    assert notes(app) == []


def test_bad_notes_come_back_422_with_the_text_kept_and_the_field_marked(
    app, client, auth, make_article
):
    article = make_article("Careful")
    auth.login("editor")
    response = add_note(client, article.id, **{"note-text": "   "})
    assert response.status_code == 422
    assert "Write what was corrected or what is new." in response.text
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*name="note-text"', response.text)
    long_text = "Too long. " * 201
    response = add_note(client, article.id, **{"note-text": long_text})
    assert response.status_code == 422
    assert "The note has 2,009 characters; the limit is 2,000." in response.text
    assert long_text.strip() in response.text
    assert "maxlength" not in response.text
    response = add_note(client, article.id, **{"note-kind": "retraction", "note-text": "Kept"})
    assert response.status_code == 422 and "\nKept</textarea>" in response.text
    assert 'id="note-kind-error"' in response.text
    assert notes(app) == []


def test_the_note_page_works_on_its_own(client, auth, make_article):
    article = make_article("Standalone")
    auth.login("editor")
    page = client.get(f"/editor/articles/{article.id}/notes")
    assert page.status_code == 200 and "<h1>Add a correction or update</h1>" in page.text
    response = add_note(client, article.id, via_page=True)
    assert response.status_code == 303


def test_notes_go_only_on_published_articles(app, client, auth, make_article):
    draft = make_article("Unfinished", status="draft", published_at=None)
    later = make_article("Tomorrow", published_at=utcnow() + timedelta(days=1))
    auth.login("editor")
    for article in (draft, later):
        response = add_note(client, article.id)
        assert response.status_code == 409
        assert "Corrections and updates go on published articles" in response.text
        page = client.get(f"/editor/articles/{article.id}/edit").text
        assert "/notes" not in page
    assert add_note(client, 4242).status_code == 404
    assert notes(app) == []


def test_adding_a_note_is_audited(app, client, auth, make_article):
    article = make_article("Audited")
    editor = auth.login("editor")
    add_note(client, article.id, **{"note-kind": "update", "note-text": "Word " * 100})
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "note"))
        assert (event.actor_id, event.article_id, event.target) == (
            editor.id,
            article.id,
            "Audited",
        )
        assert event.detail.startswith("Update: Word Word") and event.detail.endswith(" …")
        assert len(event.detail) < 220


def test_public_article_carries_its_publication_times(app, client, make_article):
    article = make_article("Timed")
    page = client.get(f"/articles/{article.slug}").text
    published = article.published_at.isoformat()
    assert f'<meta property="article:published_time" content="{published}">' in page
    assert f'<meta property="article:modified_time" content="{published}">' in page
    assert "Corrections and updates" not in page and "Updated" not in page


def test_staff_banner_names_the_state(app, client, auth, make_article):
    review = make_article("Waiting", status="review", published_at=None)
    trashed = make_article("Binned", status="draft", published_at=None, deleted_at=utcnow())
    later = make_article("Later", published_at=utcnow() + timedelta(days=1))
    draft = make_article("Rough", status="draft", published_at=None)
    auth.login("editor")
    expected = [
        (review, "This article is in review", True),
        (trashed, "This article is in the trash", False),
        (later, "Scheduled for", True),
        (draft, "This is a draft", True),
    ]
    for article, words, editable in expected:
        page = client.get(f"/articles/{article.slug}").text
        banner = re.search(r'<p class="banner" role="status">(.*?)</p>', page, re.S).group(1)
        assert "Not published." in banner and words in banner
        assert (f"/editor/articles/{article.id}/edit" in banner) is editable
        assert "article:published_time" not in page


def test_a_note_right_after_publication_still_shows_updated(app, client, auth, make_article):
    now = utcnow()  # published a minute ago, and today (even just after midnight)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    article = make_article("Fresh story", published_at=max(now - timedelta(minutes=1), midnight))
    auth.login("editor")
    assert add_note(client, article.id).status_code == 303
    page = app.test_client().get(f"/articles/{article.slug}").text
    byline = page[page.index('class="byline"') :].split("</p>")[0]
    with app.app_context():
        note = db.session.scalar(sa.select(ArticleNote))
        clock = f"at {note.created_at:%H:%M} UTC"  # the same day: the time, not the date again
    assert f'Updated <time datetime="{note.created_at.isoformat()}">{clock}</time>' in byline

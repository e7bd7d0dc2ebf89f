"""Autosave: private copies of the article form, offered back, restored, discarded, cleared."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from blog.extensions import db
from blog.forms import MAX_BODY_CHARS
from blog.models import Article, Autosave
from tests.conftest import csrf_token

SAVED_BODY = "What readers see."
TYPED_BODY = "What I typed before the crash."


def typed(article: Article | None = None, **changes: str) -> dict[str, str]:
    """What the form of ``article`` (a draft made by ``draft``) sends, with ``changes``."""
    data = {
        "article_id": str(article.id) if article else "",
        "version": str(article.version) if article else "",
        "title": article.title if article else "",
        "slug": article.slug if article else "",
        "summary": "",
        "dateline": "",
        "body": article.body if article else "",
        "section": "",
        "tags": "",
        "status": "draft",
        "published_at": "",
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    return data | changes


@pytest.fixture
def draft(make_article):
    """Make a draft with nothing but a headline, slug and body (so its form is easy to type)."""

    def make(**fields) -> Article:
        fields = {"body": SAVED_BODY, "status": "draft", "published_at": None} | fields
        return make_article("The saved headline", slug="saved", **fields)

    return make


@pytest.fixture
def autosave(client, hx):
    """Send the form to the autosave URL as htmx does, with the CSRF token in the header."""

    def send(data: dict[str, str], token: str | None = None, **headers: str):
        token = token or csrf_token(client, "/editor/articles/new")
        return hx.post("/editor/autosave", data=data, headers={"X-CSRFToken": token, **headers})

    return send


def copies(app) -> list[Autosave]:
    """Every autosaved copy, oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Autosave).order_by(Autosave.id)))
        db.session.expunge_all()
        return rows


def sign_out(client) -> None:
    token = csrf_token(client, "/editor/articles/new")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303


def stored(app, article_id: int) -> Article:
    with app.app_context():
        article = db.session.get(Article, article_id)
        db.session.expunge(article)
        return article


def test_autosave_keeps_a_private_copy_and_leaves_the_article_alone(
    app, client, auth, autosave, make_article
):
    editor = auth.login("editor")
    article = make_article("Budget passes", slug="budget", body=SAVED_BODY)
    fields = typed(article, status="published", body=TYPED_BODY, featured="y")
    fields["published_at"] = f"{article.published_at:%Y-%m-%dT%H:%M}"

    response = autosave(fields)

    assert response.status_code == 200 and "<html" not in response.text
    assert "Draft copy kept at <time" in response.text
    [copy] = copies(app)
    assert (copy.user_id, copy.article_id, copy.base_version) == (editor.id, article.id, 1)
    assert copy.fields["body"] == TYPED_BODY and copy.fields["featured"] is True
    after = stored(app, article.id)
    assert (after.body, after.version, after.updated_at) == (
        SAVED_BODY,
        article.version,
        article.updated_at,
    )
    page = client.get("/articles/budget").text
    assert SAVED_BODY in page and TYPED_BODY not in page


def test_status_line_tells_the_time_in_the_newsroom_zone(app, auth, autosave, draft):
    app.config["TIMEZONE"] = "Asia/Tokyo"
    auth.login("editor")
    response = autosave(typed(draft(), body=TYPED_BODY))
    moment, clock = re.search(
        r'<time datetime="([^"]+)">(\d\d:\d\d)</time>', response.text
    ).groups()
    assert clock == f"{datetime.fromisoformat(moment).astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}"


def test_a_second_autosave_updates_the_one_copy(app, auth, autosave, draft):
    auth.login("editor")
    article = draft()
    autosave(typed(article, body="First words"))
    autosave(typed(article, body="First words and more"))
    [copy] = copies(app)
    assert copy.fields["body"] == "First words and more"


def test_text_like_the_saved_article_keeps_no_copy(app, auth, autosave, draft):
    auth.login("editor")
    article = draft()
    autosave(typed(article, body=TYPED_BODY))
    # Typed back to what is saved, give or take spaces and the browser's line ends.
    response = autosave(typed(article, title=" The saved headline ", body=SAVED_BODY))
    assert response.status_code == 200 and "No changes since the last save." in response.text
    assert copies(app) == []


def test_writer_cannot_autosave_someone_elses_article(app, auth, autosave, draft):
    article = draft()  # by "reporter"
    auth.login("writer")
    assert autosave(typed(article, body=TYPED_BODY)).status_code == 403
    assert copies(app) == []


def test_writer_cannot_autosave_an_article_an_editor_published(app, auth, autosave, make_article):
    writer = auth.login("writer")
    article = make_article("Out now", author_id=writer.id)
    assert autosave(typed(article, body=TYPED_BODY)).status_code == 403
    assert copies(app) == []


@pytest.mark.parametrize("article_id", ["999", "abc", "0", "99999999999"])
def test_autosave_for_an_unknown_article_is_404(app, auth, autosave, article_id):
    auth.login("editor")
    response = autosave(typed(body=TYPED_BODY) | {"article_id": article_id})
    assert response.status_code == 404
    assert copies(app) == []


def test_signed_out_autosave_gets_the_session_notice_and_keeps_nothing(app, client, autosave):
    # The session cookie, and the CSRF token kept in it, are gone: the notice says to sign in.
    response = autosave(
        typed(body=TYPED_BODY),
        token="from-the-page",
        **{"HX-Current-URL": "http://localhost/editor/articles/new"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#session-notice"
    assert "You were signed out" in response.text
    assert 'href="/auth/login?next=/editor/articles/new" target="_blank"' in response.text
    assert copies(app) == []


def test_autosave_without_csrf_token_is_refused(app, client, auth, hx, draft):
    auth.login("editor")
    data = typed(draft(), body=TYPED_BODY)
    response = hx.post("/editor/autosave", data=data)
    assert response.headers["HX-Retarget"] == "#session-notice"
    assert "security token is out of date" in response.text
    assert client.post("/editor/autosave", data=data).status_code == 400
    response = hx.post("/editor/autosave", data=data, headers={"X-CSRFToken": "forged"})
    assert "security token is out of date" in response.text
    assert copies(app) == []


def test_body_over_the_limit_is_refused_with_a_message_and_nothing_kept(
    app, client, auth, autosave, draft
):
    auth.login("editor")
    article = draft()
    autosave(typed(article, body=TYPED_BODY))
    too_long = typed(article, body="x" * (MAX_BODY_CHARS + 1))

    response = autosave(too_long)
    assert response.status_code == 200  # htmx swaps only a 2xx answer into the status line
    assert "No draft copy kept: the body is 200,001 characters long" in response.text
    token = csrf_token(client, "/editor/articles/new")
    plain = client.post("/editor/autosave", data=too_long, headers={"X-CSRFToken": token})
    assert plain.status_code == 413

    [copy] = copies(app)
    assert copy.fields["body"] == TYPED_BODY


def test_a_field_far_over_its_limit_is_refused(app, auth, autosave):
    auth.login("editor")
    response = autosave(typed(title="x" * 2_001))
    assert "No draft copy kept: a field is over 2,000 characters long." in response.text
    assert copies(app) == []


def test_nul_characters_are_dropped_from_the_copy(app, auth, autosave):
    auth.login("editor")
    autosave(typed(title="Head\x00line", body="Bo\x00dy"))
    [copy] = copies(app)
    assert (copy.fields["title"], copy.fields["body"]) == ("Headline", "Body")


def test_edit_page_offers_the_copy_to_its_owner_only(client, auth, autosave, draft):
    article = draft()
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    assert "You have unsaved text" not in client.get(url).text
    autosave(typed(article, body=TYPED_BODY))

    page = client.get(url).text
    assert "You have unsaved text from <time" in page
    assert f'href="{url}?restore=autosave">Restore it</a>' in page
    assert 'action="/editor/autosave/discard"' in page and "Discard it" in page
    assert "has been saved since" not in page
    assert TYPED_BODY not in page

    sign_out(client)
    auth.login("editor", username="colleague")
    assert "You have unsaved text" not in client.get(url).text


def test_restore_fills_the_form_from_the_copy(app, client, auth, autosave, draft):
    article = draft()
    auth.login("editor")
    autosave(typed(article, title="A better headline", body=TYPED_BODY, featured="y"))

    page = client.get(f"/editor/articles/{article.id}/edit?restore=autosave")

    assert page.status_code == 200
    assert 'value="A better headline"' in page.text and TYPED_BODY in page.text
    assert re.search(r'<input checked id="featured" name="featured" type="checkbox"', page.text)
    assert "is back in the form. Readers see it only once you save." in page.text
    assert "You have unsaved text" not in page.text
    assert stored(app, article.id).body == SAVED_BODY


def test_copy_typed_over_an_older_version_is_restored_with_that_version(
    app, client, auth, autosave, draft
):
    article = draft()
    auth.login("editor")
    autosave(typed(article, body=TYPED_BODY))
    with app.app_context():  # a colleague saves meanwhile
        db.session.get(Article, article.id).title = "A colleague's headline"
        db.session.commit()
    url = f"/editor/articles/{article.id}/edit"

    assert "which has been saved since" in client.get(url).text
    page = client.get(f"{url}?restore=autosave").text
    assert re.search(r'id="version" name="version" type="hidden" value="1"', page)
    assert stored(app, article.id).version == 2


def test_restore_without_a_copy_says_so(client, auth, draft):
    article = draft()
    auth.login("editor")
    page = client.get(f"/editor/articles/{article.id}/edit?restore=autosave").text
    assert "There is no unsaved text to restore" in page and SAVED_BODY in page


def test_discard_removes_the_copy(app, client, auth, autosave, draft):
    article = draft()
    auth.login("editor")
    autosave(typed(article, body=TYPED_BODY))
    url = f"/editor/articles/{article.id}/edit"

    token = csrf_token(client, url)
    response = client.post(
        "/editor/autosave/discard", data={"csrf_token": token, "article_id": article.id}
    )

    assert response.status_code == 303 and response.headers["Location"] == url
    assert copies(app) == []
    page = client.get(url).text
    assert "The unsaved text is discarded." in page and "You have unsaved text" not in page


def test_discard_needs_a_csrf_token_and_the_right_to_edit(app, client, auth, autosave, draft):
    article = draft()
    auth.login("editor")
    autosave(typed(article, body=TYPED_BODY))
    assert (
        client.post("/editor/autosave/discard", data={"article_id": article.id}).status_code == 400
    )
    sign_out(client)
    auth.login("writer")
    token = csrf_token(client, "/editor/articles/new")
    response = client.post(
        "/editor/autosave/discard", data={"csrf_token": token, "article_id": article.id}
    )
    assert response.status_code == 403
    assert len(copies(app)) == 1


def test_a_successful_save_clears_the_copy_and_a_failed_one_keeps_it(
    app, client, auth, autosave, draft
):
    article = draft()
    auth.login("editor")
    autosave(typed(article, body=TYPED_BODY))
    url = f"/editor/articles/{article.id}/edit"
    form = typed(article, body=TYPED_BODY) | {"csrf_token": csrf_token(client, url)}

    assert client.post(url, data=form | {"title": ""}).status_code == 422
    assert len(copies(app)) == 1
    assert client.post(url, data=form).status_code == 303
    assert copies(app) == []
    assert stored(app, article.id).body == TYPED_BODY


def test_new_article_copy_is_offered_restored_and_cleared_on_save(app, client, auth, autosave):
    auth.login("writer")
    assert "You have unsaved text" not in client.get("/editor/articles/new").text
    autosave(typed(title="Storm warning", body="Wind"))
    autosave(typed(title="Storm warning", body=TYPED_BODY))
    [copy] = copies(app)
    assert copy.article_id is None and copy.base_version is None
    assert "featured" not in copy.fields  # writers do not feature

    page = client.get("/editor/articles/new").text
    assert 'href="/editor/articles/new?restore=autosave">Restore it</a>' in page
    restored = client.get("/editor/articles/new?restore=autosave").text
    assert 'value="Storm warning"' in restored and TYPED_BODY in restored

    form = typed(title="Storm warning", body=TYPED_BODY)
    form["csrf_token"] = csrf_token(client, "/editor/articles/new")
    assert client.post("/editor/articles/new", data=form).status_code == 303
    assert copies(app) == []


def test_an_empty_new_form_keeps_no_copy(app, auth, autosave):
    auth.login("editor")
    response = autosave(typed())
    assert "No changes since the last save." in response.text
    assert copies(app) == []


def test_stray_copies_of_a_new_article_become_one(app, auth, autosave):
    user = auth.login("editor")
    with app.app_context():  # two tabs at the same moment: NULL escapes the unique constraint
        for body in ("one", "two"):
            db.session.add(Autosave(user_id=user.id, article_id=None, fields=typed(body=body)))
        db.session.commit()
    autosave(typed(body=TYPED_BODY))
    [copy] = copies(app)
    assert copy.fields["body"] == TYPED_BODY


def test_discarding_a_new_articles_copy_returns_to_the_new_form(app, client, auth, autosave):
    auth.login("editor")
    autosave(typed(body=TYPED_BODY))
    token = csrf_token(client, "/editor/articles/new")
    response = client.post("/editor/autosave/discard", data={"csrf_token": token, "article_id": ""})
    assert response.headers["Location"] == "/editor/articles/new"
    assert copies(app) == []


def test_form_has_the_autosave_status_line_without_the_file_or_token(client, auth, draft):
    article = draft()
    auth.login("editor")
    page = client.get(f"/editor/articles/{article.id}/edit").text
    status = re.search(r'<p id="autosave-status"[^>]*>', page).group(0)
    assert 'aria-live="polite"' in status and 'hx-post="/editor/autosave"' in status
    assert 'hx-params="not hero_image,csrf_token"' in status
    assert f"hx-vals='{{\"article_id\": {article.id}}}'" in status

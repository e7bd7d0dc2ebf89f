"""Autosave: private copies of the article form, offered back, restored, discarded, cleared.

Also what happens to text typed into an article that may no longer be changed: autosave says
so in the status line, and a save is refused with the text shown back.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from blog.dates import utcnow
from blog.extensions import db
from blog.forms import MAX_BODY_CHARS
from blog.models import Article, Autosave, User
from tests.conftest import csrf_token

SAVED_BODY = "What readers see."
TYPED_BODY = "What I typed before the crash."
NO_LONGER = (
    "You can no longer edit this article: writers change only their own articles, "
    "until they are published."
)


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


def plain_autosave(client, data: dict[str, str]):
    """Post to the autosave URL as a plain request, not htmx."""
    token = csrf_token(client, "/editor/articles/new")
    return client.post("/editor/autosave", data=data, headers={"X-CSRFToken": token})


def publish(app, article_id: int, minutes: int = -1) -> None:
    """An editor publishes the article meanwhile, for ``minutes`` from now (scheduled if later)."""
    with app.app_context():
        article = db.session.get(Article, article_id)
        article.status, article.published_at = "published", utcnow() + timedelta(minutes=minutes)
        db.session.commit()


def demote(app, user_id: int) -> None:
    """An admin makes the user a writer meanwhile."""
    with app.app_context():
        db.session.get(User, user_id).role = "writer"
        db.session.commit()


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


def test_writer_cannot_autosave_someone_elses_article(app, client, auth, autosave, draft):
    article = draft()  # by "reporter"
    auth.login("writer")
    response = autosave(typed(article, body=TYPED_BODY))
    assert response.status_code == 200  # htmx swaps only a 2xx answer into the status line
    assert f"No draft copy kept. {NO_LONGER} Copy your text before leaving." in response.text
    assert plain_autosave(client, typed(article, body=TYPED_BODY)).status_code == 403
    assert copies(app) == []


@pytest.mark.parametrize(("when", "done"), [(-1, "published"), (60, "scheduled")])
def test_autosave_after_an_editor_published_says_so_and_keeps_nothing(
    app, client, auth, autosave, draft, when, done
):
    writer = auth.login("writer")
    article = draft(author_id=writer.id)
    autosave(typed(article, body="Typed before it went out"))
    publish(app, article.id, minutes=when)

    response = autosave(typed(article, body=TYPED_BODY))

    assert response.status_code == 200 and "<html" not in response.text
    assert (
        f"No draft copy kept. An editor {done} this article; only editors can change it now. "
        "Copy your text before leaving."
    ) in response.text
    assert 'class="autosave-status--bad"' in response.text
    assert plain_autosave(client, typed(article, body=TYPED_BODY)).status_code == 403
    [copy] = copies(app)
    assert copy.fields["body"] == "Typed before it went out"


def test_autosave_after_a_demotion_says_the_article_can_no_longer_be_edited(
    app, auth, autosave, draft
):
    article = draft()  # by "reporter"
    editor = auth.login("editor")
    assert "Draft copy kept" in autosave(typed(article, body="First words")).text
    demote(app, editor.id)
    response = autosave(typed(article, body=TYPED_BODY))
    assert response.status_code == 200
    assert NO_LONGER in response.text
    [copy] = copies(app)
    assert copy.fields["body"] == "First words"


def test_autosave_of_an_article_moved_to_the_trash_keeps_nothing(app, auth, autosave, draft):
    article = draft()
    auth.login("editor")
    with app.app_context():
        db.session.get(Article, article.id).deleted_at = utcnow()
        db.session.commit()
    response = autosave(typed(article, body=TYPED_BODY))
    assert response.status_code == 200
    assert (
        "No draft copy kept. The article was moved to the trash; it can be changed again once "
        "restored. Copy your text before leaving."
    ) in response.text
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
    page = client.get("/editor/articles/new").text
    assert "You have unsaved text" not in page
    key = draft_key(page)
    autosave(typed(title="Storm warning", body="Wind", draft_key=key))
    autosave(typed(title="Storm warning", body=TYPED_BODY, draft_key=key))
    [copy] = copies(app)
    assert copy.article_id is None and copy.base_version is None
    assert "featured" not in copy.fields  # writers do not feature

    page = client.get("/editor/articles/new").text
    assert "You have unsaved text from <time" in page and "“Storm warning”" in page
    restore = f"/editor/articles/new?restore=autosave&amp;key={key}"
    assert f'href="{restore}">Restore it</a>' in page
    restored = client.get(restore.replace("&amp;", "&")).text
    assert 'value="Storm warning"' in restored and TYPED_BODY in restored
    assert draft_key(restored) == key

    form = typed(title="Storm warning", body=TYPED_BODY, draft_key=key)
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


def test_status_line_shows_saving_while_a_copy_is_sent_and_a_failure_message(client, auth):
    auth.login("editor")
    page = client.get("/editor/articles/new").text
    status = re.search(r'<p id="autosave-status".*?</p>', page, re.S).group(0)
    # htmx gives the line the class htmx-request while a copy is on its way (the CSS shows
    # "Saving…" then); the answer replaces only the text, and the page's script puts the
    # failure message in its place when the request fails.
    assert 'hx-target="find .autosave-status__text"' in status
    assert '<span class="autosave-status__saving" aria-hidden="true">Saving…</span>' in status
    assert '<span class="autosave-status__text"></span>' in status
    assert "No draft copy kept: the site could not be reached." in status
    assert re.search(r'<script src="/static/js/autosave.js\?v=[0-9a-f]{12}" defer></script>', page)


# --- new articles: every form keeps its own copy --------------------------------------------


def draft_key(page: str) -> str:
    """The draft key the new-article form carries (the offer's forms carry their copies')."""
    form = page[page.index('<form class="article-form"') :]
    return re.search(r'<input type="hidden" name="draft_key" value="([^"]*)">', form).group(1)


def new_form_key(client, url: str = "/editor/articles/new") -> str:
    return draft_key(client.get(url).text)


def test_each_new_form_gets_its_own_draft_key_kept_through_errors(client, auth, draft):
    auth.login("writer")
    first, second = new_form_key(client), new_form_key(client)
    assert first != second and re.fullmatch(r"[\w-]{20,}", first)
    form = typed(title="", body=TYPED_BODY, draft_key=first)
    form["csrf_token"] = csrf_token(client, "/editor/articles/new")
    refused = client.post("/editor/articles/new", data=form)
    assert refused.status_code == 422 and draft_key(refused.text) == first
    article = draft()
    assert 'name="draft_key"' not in client.get(f"/editor/articles/{article.id}/edit").text


def test_two_new_article_tabs_keep_two_copies_and_saving_one_keeps_the_other(
    app, client, auth, autosave
):
    auth.login("writer")
    storm, ferry = new_form_key(client), new_form_key(client)
    autosave(typed(title="Storm warning", body="Wind", draft_key=storm))
    autosave(typed(title="Ferry strike", body="Boats", draft_key=ferry))
    autosave(typed(title="Storm warning", body=TYPED_BODY, draft_key=storm))
    kept = {copy.fields["draft_key"]: copy.fields["body"] for copy in copies(app)}
    assert kept == {storm: TYPED_BODY, ferry: "Boats"}

    form = typed(title="Storm warning", body=TYPED_BODY, draft_key=storm)
    form["csrf_token"] = csrf_token(client, "/editor/articles/new")
    assert client.post("/editor/articles/new", data=form).status_code == 303
    [left] = copies(app)
    assert left.fields["draft_key"] == ferry and left.fields["title"] == "Ferry strike"


def test_new_form_offers_each_unsaved_new_article_newest_first(app, client, auth, autosave):
    auth.login("writer")
    storm, ferry = new_form_key(client), new_form_key(client)
    autosave(typed(title="Storm warning", body="Wind", draft_key=storm))
    autosave(typed(title="", body="Ferries stop at noon. " * 10, draft_key=ferry))

    page = client.get("/editor/articles/new").text
    assert "You have unsaved text from 2 new articles, newest first" in page
    untitled = "No headline yet (“Ferries stop at noon. Ferries stop at noon. Ferries stop at…”)"
    assert page.index(untitled) < page.index("“Storm warning”")
    restore_storm = f"/editor/articles/new?restore=autosave&amp;key={storm}"
    assert f'href="{restore_storm}"' in page
    assert f'href="/editor/articles/new?restore=autosave&amp;key={ferry}"' in page
    assert page.count('action="/editor/autosave/discard"') == 2

    restored = client.get(restore_storm.replace("&amp;", "&")).text
    assert 'value="Storm warning"' in restored and draft_key(restored) == storm
    assert "is back in the form" in restored
    assert "You have unsaved text from <time" in restored  # the other one, still offered
    assert f"key={storm}" not in restored and f"key={ferry}" in restored


def test_discarding_one_new_articles_copy_keeps_the_others(app, client, auth, autosave):
    auth.login("editor")
    storm, ferry = new_form_key(client), new_form_key(client)
    autosave(typed(title="Storm warning", body="Wind", draft_key=storm))
    autosave(typed(title="Ferry strike", body="Boats", draft_key=ferry))
    page = client.get("/editor/articles/new").text
    assert f'name="draft_key" value="{storm}"' in page
    token = csrf_token(client, "/editor/articles/new")
    data = {"csrf_token": token, "article_id": "", "draft_key": storm}
    response = client.post("/editor/autosave/discard", data=data)
    assert response.headers["Location"] == "/editor/articles/new"
    [left] = copies(app)
    assert left.fields["draft_key"] == ferry


def test_a_copy_kept_before_forms_had_keys_is_offered_restored_and_cleared(
    app, client, auth, autosave
):
    user = auth.login("writer")
    with app.app_context():
        fields = typed(title="Old copy", body=TYPED_BODY)
        del fields["article_id"], fields["version"]
        db.session.add(Autosave(user_id=user.id, article_id=None, fields=fields))
        db.session.commit()
    page = client.get("/editor/articles/new").text
    assert 'href="/editor/articles/new?restore=autosave">Restore it</a>' in page

    restored = client.get("/editor/articles/new?restore=autosave").text
    assert 'value="Old copy"' in restored and draft_key(restored) == ""
    autosave(typed(title="Old copy", body=TYPED_BODY + " More.", draft_key=""))
    [copy] = copies(app)
    assert copy.fields["body"] == TYPED_BODY + " More."
    form = typed(title="Old copy", body=TYPED_BODY, draft_key="")
    form["csrf_token"] = csrf_token(client, "/editor/articles/new")
    assert client.post("/editor/articles/new", data=form).status_code == 303
    assert copies(app) == []


@pytest.mark.parametrize("key", ["<script>", "x" * 65, "a b"])
def test_a_malformed_draft_key_is_replaced_by_a_fresh_one(client, auth, key):
    auth.login("writer")
    page = client.get("/editor/articles/new", query_string={"restore": "autosave", "key": key})
    assert page.status_code == 200
    assert "There is no unsaved text to restore" in page.text
    assert re.fullmatch(r"[\w-]{20,}", draft_key(page.text))


# --- an article that may no longer be changed: what was typed is shown back -----------------


def test_a_save_after_an_editor_published_shows_the_text_typed(app, client, auth, draft):
    writer = auth.login("writer")
    article = draft(author_id=writer.id)
    url = f"/editor/articles/{article.id}/edit"
    form = typed(article, title="A better headline", body=TYPED_BODY)
    form["csrf_token"] = csrf_token(client, url)
    publish(app, article.id)

    response = client.post(url, data=form)

    assert response.status_code == 403
    page = response.text
    assert "<h1>You cannot edit “The saved headline”</h1>" in page
    assert (
        "Your changes were not saved. An editor published this article; only editors can "
        "change it now. Your text is here, to copy:"
    ) in page
    assert TYPED_BODY in page and "A better headline" in page
    assert 'href="/articles/saved"' in page
    assert 'name="body"' not in page and "/restore" not in page
    assert stored(app, article.id).body == SAVED_BODY


def test_a_save_after_a_demotion_shows_the_text_typed(app, client, auth, draft):
    article = draft()  # by "reporter"
    editor = auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    form = typed(article, body=TYPED_BODY) | {"csrf_token": csrf_token(client, url)}
    demote(app, editor.id)
    response = client.post(url, data=form)
    assert response.status_code == 403
    assert f"Your changes were not saved. {NO_LONGER}" in response.text
    assert TYPED_BODY in response.text
    assert stored(app, article.id).body == SAVED_BODY


def test_opening_a_published_article_says_who_can_change_it(client, auth, draft):
    writer = auth.login("writer")
    article = draft(author_id=writer.id, status="published", published_at=utcnow())
    response = client.get(f"/editor/articles/{article.id}/edit")
    assert response.status_code == 403
    page = response.text
    assert "<h1>You cannot edit “The saved headline”</h1>" in page
    assert "An editor published this article; only editors can change it now." in page
    assert 'href="/articles/saved"' in page and 'href="/editor/"' in page
    assert "Your changes were not saved" not in page and "<textarea" not in page


def test_opening_it_shows_a_copy_kept_before_it_was_published(app, client, auth, autosave, draft):
    writer = auth.login("writer")
    article = draft(author_id=writer.id)
    autosave(typed(article, body=TYPED_BODY))
    publish(app, article.id)
    response = client.get(f"/editor/articles/{article.id}/edit")
    assert response.status_code == 403
    assert "Your unsaved text from <time" in response.text
    assert "was not saved. An editor published this article" in response.text
    assert TYPED_BODY in response.text

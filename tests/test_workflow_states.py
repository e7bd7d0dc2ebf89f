"""Article states: the dashboard's filters and counts, unpublish, the trash, scheduling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

import blog.caching
import blog.delivery
import blog.models
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, AuditEvent, Revision
from tests.conftest import PASSWORD, csrf_token

HOUR = timedelta(hours=1)


def stored(app, article_id: int) -> Article | None:
    with app.app_context():
        article = db.session.get(Article, article_id)
        if article is not None:
            db.session.expunge(article)
        return article


def events(app) -> list[tuple[str, str, str, int | None, str]]:
    """Every audit entry as (action, actor, target, article id, detail), oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        return [
            (e.action, e.actor.username if e.actor else "", e.target, e.article_id, e.detail)
            for e in rows
            if e.action != "sign-in"
        ]


def revision_notes(app, article_id: int) -> list[tuple[int, str, str]]:
    """The article's revisions as (version, status kept, note), oldest first."""
    with app.app_context():
        query = sa.select(Revision).where(Revision.article_id == article_id).order_by(Revision.id)
        return [(r.version, r.fields["status"], r.note) for r in db.session.scalars(query)]


def post(client, url: str):
    """POST to ``url`` with a valid CSRF token and nothing else."""
    return client.post(url, data={"csrf_token": csrf_token(client, "/editor/articles/new")})


def sign_out(client) -> None:
    """End the client's session, so that ``auth.login`` can sign in someone else."""
    token = csrf_token(client, "/editor/")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303


def row_titles(page: str) -> list[str]:
    """The headlines in the dashboard's rows, in order."""
    rows = page.split('<tbody id="article-rows">')[1].split("</tbody>")[0]
    return re.findall(r"<tr>\s*<td>(?:<a [^>]*>)?([^<]+)", rows)


def state_counts(page: str) -> dict[str, int]:
    """The counts in the dashboard's nav of states: ``{"All": 7, "Drafts": 2, ...}``."""
    nav = page.split('id="state-counts"')[1].split("</nav>")[0]
    found = re.findall(r'>([A-Za-z ]+) <span class="state-counts__count">(\d+)</span>', nav)
    return {name: int(count) for name, count in found}


@pytest.fixture
def newsroom(make_user, make_article):
    """Two writers' and an editor's articles in every state, in two sections."""
    ana = make_user("ana", role="writer", display_name="Ana Ruiz")
    ben = make_user("ben", role="writer", display_name="Ben Cole")
    now = utcnow()
    draft = {"status": "draft", "published_at": None}
    return {
        "ana": ana,
        "ben": ben,
        "ana draft": make_article("Ana draft", author_id=ana.id, section="Local", **draft),
        "ben draft": make_article("Ben draft", author_id=ben.id, section="Sport", **draft),
        "review": make_article("Up for review", author_id=ana.id, section="Local", status="review"),
        "scheduled": make_article("Tomorrow story", author_id=ben.id, published_at=now + HOUR),
        "local": make_article("Local news", author_id=ana.id, section="Local"),
        "sport": make_article("Sport news", author_id=ben.id, section="Sport"),
        "ana trash": make_article(
            "Ana binned", author_id=ana.id, section="Local", deleted_at=now, **draft
        ),
        "ben trash": make_article("Ben binned", author_id=ben.id, deleted_at=now, **draft),
    }


# --- the dashboard ------------------------------------------------------------------------------


def test_dashboard_counts_articles_per_state_and_leaves_out_the_trash(client, auth, newsroom):
    auth.login("editor")
    page = client.get("/editor/").text
    assert state_counts(page) == {
        "All": 6,
        "Drafts": 2,
        "In review": 1,
        "Scheduled": 1,
        "Published": 2,
        "Trash": 2,
    }
    assert sorted(row_titles(page)) == sorted(
        [
            "Ana draft",
            "Ben draft",
            "Up for review",
            "Tomorrow story",
            "Local news",
            "Sport news",
        ]
    )
    assert "6 most recently changed articles." in page
    assert 'aria-current="page">All <span' in page


def test_counts_come_from_one_grouped_query(app, client, auth, newsroom):
    auth.login("editor")
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert client.get("/editor/?section=local").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", seen)
    grouped = [s for s in statements if "GROUP BY" in s]
    assert len(grouped) == 1
    assert len([s for s in statements if "FROM articles" in s]) == 2  # the rows, the counts


@pytest.mark.parametrize(
    ("state", "titles"),
    [
        ("draft", ["Ana draft", "Ben draft"]),
        ("review", ["Up for review"]),
        ("scheduled", ["Tomorrow story"]),
        ("published", ["Local news", "Sport news"]),
        ("trash", ["Ana binned", "Ben binned"]),
    ],
)
def test_state_filter_lists_only_that_state(client, auth, newsroom, state, titles):
    auth.login("editor")
    page = client.get(f"/editor/?state={state}").text
    assert sorted(row_titles(page)) == titles
    assert f'<option value="{state}" selected>' in page
    assert re.search(rf'href="/editor/\?state={state}" aria-current="page"', page)


def test_section_and_author_filters_narrow_rows_and_counts(client, auth, newsroom):
    auth.login("editor")
    ana = newsroom["ana"]
    page = client.get("/editor/?section=local").text
    assert sorted(row_titles(page)) == ["Ana draft", "Local news", "Up for review"]
    assert state_counts(page) == {
        "All": 3,
        "Drafts": 1,
        "In review": 1,
        "Scheduled": 0,
        "Published": 1,
        "Trash": 1,
    }
    assert "Showing: Local." in page and '<option value="local" selected>' in page
    page = client.get(f"/editor/?author={ana.id}").text
    assert sorted(row_titles(page)) == ["Ana draft", "Local news", "Up for review"]
    page = client.get(f"/editor/?author={newsroom['ben'].id}&state=trash").text
    assert row_titles(page) == ["Ben binned"]
    assert "Showing: Trash, by Ben Cole." in page


def test_filters_combine_with_the_text(client, auth, newsroom):
    auth.login("editor")
    ana = newsroom["ana"]
    page = client.get(f"/editor/?q=news&section=local&author={ana.id}&state=published").text
    assert row_titles(page) == ["Local news"]
    assert "1 article matches “news”. Showing: Published, Local, by Ana Ruiz." in page
    assert state_counts(page)["Published"] == 1 and state_counts(page)["All"] == 1
    # The state links keep the other filters.
    assert f'href="/editor/?q=news&amp;state=draft&amp;section=local&amp;author={ana.id}"' in page
    nothing = client.get("/editor/?q=news&state=draft").text
    assert "No article matches “news” (Drafts)." in nothing


@pytest.mark.parametrize(
    "query",
    [
        "state=bogus",
        "state=Trash",
        "author=abc",
        "author=-1",
        "author=99999999999999999999",
        "author=4242",
        "section=no-such-desk",
        "section=%FF",
        "state=&section=&author=",
        "unknown=1",
        "state=draft&state=review",
    ],
)
def test_bad_or_empty_filter_values_are_dropped_from_the_address(client, auth, newsroom, query):
    auth.login("editor")
    response = client.get(f"/editor/?{query}")
    assert response.status_code == 302
    assert response.headers["Location"] in {"/editor/", "/editor/?state=draft"}
    rows = client.get(f"/editor/rows?{query}", headers={"HX-Request": "true"})
    assert rows.status_code == 200
    assert rows.headers["HX-Replace-Url"] == response.headers["Location"]


def test_plain_form_with_empty_choices_lands_on_the_clean_address(client, auth, newsroom):
    auth.login("editor")
    response = client.get("/editor/?q=+news+&state=published&section=&author=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/?q=news&state=published"
    assert sorted(row_titles(client.get(response.headers["Location"]).text)) == [
        "Local news",
        "Sport news",
    ]


def test_rows_fragment_updates_rows_counts_and_status_and_names_the_page(
    client, hx, auth, newsroom
):
    auth.login("editor")
    response = hx.get("/editor/rows?q=&state=draft&section=local&author=")
    assert response.status_code == 200 and "<html" not in response.text
    assert response.headers["HX-Replace-Url"] == "/editor/?state=draft&section=local"
    assert response.text.lstrip().startswith('<tbody id="article-rows"')
    assert row_titles(response.text) == ["Ana draft"]
    assert '<p id="rows-status" hx-swap-oob="innerHTML">' in response.text
    assert "Showing: Drafts, Local." in response.text
    assert re.search(r'<nav id="state-counts" [^>]*hx-swap-oob="true">', response.text)
    assert state_counts(response.text)["Drafts"] == 1


def test_dashboard_page_is_the_same_with_or_without_htmx_headers(client, auth, newsroom):
    auth.login("editor")
    url = "/editor/?state=scheduled"
    plain, htmx = client.get(url), client.get(url, headers={"HX-Request": "true"})
    strip = lambda text: re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", text)  # noqa: E731
    assert plain.status_code == htmx.status_code == 200
    assert strip(plain.text) == strip(htmx.text)


def test_scheduled_row_shows_its_time_in_the_newsroom_zone(app, client, auth, make_article):
    app.config["TIMEZONE"] = "Europe/Kyiv"
    make_article("New year story", published_at=datetime(2099, 1, 1, 7, 30, tzinfo=UTC))
    auth.login("editor")
    page = client.get("/editor/").text
    assert '<span class="status status--scheduled">scheduled</span>' in page
    assert '<time datetime="2099-01-01T07:30:00+00:00">Jan 1, 2099, 09:30 EET</time>' in page


def test_writers_see_everyones_articles_but_only_their_own_trash(client, auth, newsroom):
    token = csrf_token(client, "/auth/login")
    data = {"username": "ana", "password": PASSWORD, "csrf_token": token}
    assert client.post("/auth/login", data=data).status_code == 303
    page = client.get("/editor/").text
    assert "Ben draft" in page and "Sport news" in page
    assert state_counts(page)["Trash"] == 1
    trash = client.get("/editor/?state=trash").text
    assert row_titles(trash) == ["Ana binned"]
    assert "Ben binned" not in client.get("/editor/?q=binned&state=trash").text
    ben_trash = client.get(f"/editor/?state=trash&author={newsroom['ben'].id}").text
    assert "The trash is empty." not in ben_trash and row_titles(ben_trash) == []


def test_trash_rows_offer_restore_and_only_admins_delete_for_good(client, auth, newsroom):
    auth.login("editor")
    page = client.get("/editor/?state=trash").text
    assert f'action="/editor/articles/{newsroom["ana trash"].id}/restore"' in page
    assert "/purge" not in page
    sign_out(client)
    auth.login("admin")
    assert (
        f'href="/editor/articles/{newsroom["ana trash"].id}/purge"'
        in client.get("/editor/?state=trash").text
    )


def test_empty_trash_says_so(client, auth):
    auth.login("editor")
    assert "The trash is empty." in client.get("/editor/?state=trash").text


# --- moving to the trash and back -----------------------------------------------------------


def test_writer_trashes_and_restores_their_own_draft(app, client, auth, make_article):
    writer = auth.login("writer")
    article = make_article("My draft", author_id=writer.id, status="review", published_at=None)
    response = post(client, f"/editor/articles/{article.id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/editor/"
    trashed = stored(app, article.id)
    assert trashed.deleted_at is not None and trashed.status == "draft"
    assert "Moved “My draft” to the trash." in client.get("/editor/").text
    assert revision_notes(app, article.id) == [(trashed.version, "draft", "Moved to the trash")]

    response = post(client, f"/editor/articles/{article.id}/restore")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/articles/{article.id}/edit"
    restored = stored(app, article.id)
    assert restored.deleted_at is None and restored.status == "draft"
    assert (
        "Restored “My draft” from the trash. It is a draft."
        in client.get(response.headers["Location"]).text
    )
    assert revision_notes(app, article.id)[-1] == (
        restored.version,
        "draft",
        "Restored from the trash",
    )
    assert events(app) == [
        ("trash", "writer", "My draft", article.id, ""),
        ("restore", "writer", "My draft", article.id, ""),
    ]


def test_writer_cannot_trash_or_restore_others_work_or_their_published_article(
    app, client, auth, make_article, make_user
):
    writer = auth.login("writer")
    other = make_user("other", role="writer")
    others = make_article("Theirs", author_id=other.id, status="draft", published_at=None)
    others_trashed = make_article(
        "Theirs binned", author_id=other.id, status="draft", published_at=None, deleted_at=utcnow()
    )
    published = make_article("Mine, published", author_id=writer.id)
    scheduled = make_article("Mine, scheduled", author_id=writer.id, published_at=utcnow() + HOUR)
    for article in (others, published, scheduled):
        assert client.get(f"/editor/articles/{article.id}/delete").status_code == 403
        assert post(client, f"/editor/articles/{article.id}/delete").status_code == 403
        assert stored(app, article.id).deleted_at is None
    assert post(client, f"/editor/articles/{others_trashed.id}/restore").status_code == 403
    assert stored(app, others_trashed.id).deleted_at is not None
    assert events(app) == []


def test_editor_trashes_a_published_article_and_readers_lose_it(app, client, auth, make_article):
    article = make_article("Front page story", slug="front-page-story")
    reader = app.test_client()
    assert reader.get("/articles/front-page-story").status_code == 200
    auth.login("editor")
    assert post(client, f"/editor/articles/{article.id}/delete").status_code == 303
    assert reader.get("/articles/front-page-story").status_code == 404
    for url in ("/", "/latest", "/sidebars/latest"):
        response = reader.get(url)
        assert "front-page-story" not in response.text, url
    assert events(app) == [
        ("trash", "editor", "Front page story", article.id, "It was published."),
    ]
    # Restored, it stays a draft: readers still get 404 until an editor publishes it again.
    assert post(client, f"/editor/articles/{article.id}/restore").status_code == 303
    assert stored(app, article.id).status == "draft"
    assert reader.get("/articles/front-page-story").status_code == 404


def test_trashing_twice_or_restoring_a_live_article_changes_nothing(
    app, client, auth, make_article
):
    article = make_article("Twice")
    auth.login("editor")
    url = f"/editor/articles/{article.id}"
    assert post(client, f"{url}/restore").status_code == 303
    assert stored(app, article.id).status == "published"
    assert post(client, f"{url}/delete").status_code == 303
    again = post(client, f"{url}/delete")
    assert again.status_code == 303 and again.headers["Location"] == f"{url}/edit"
    assert client.get(f"{url}/delete").headers["Location"] == f"{url}/edit"
    assert [event[0] for event in events(app)] == ["trash"]


def test_edit_page_of_a_trashed_article_offers_restore_and_refuses_saves(
    app, client, auth, make_article
):
    article = make_article("Binned", status="draft", published_at=None, deleted_at=utcnow())
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    page = client.get(url)
    assert page.status_code == 200
    assert "“Binned” is in the trash" in page.text
    assert f'action="/editor/articles/{article.id}/restore"' in page.text
    assert 'name="body"' not in page.text and "/purge" not in page.text
    token = csrf_token(client, "/editor/articles/new")
    data = {"csrf_token": token, "title": "Changed", "body": "Words I must keep", "status": "draft"}
    refused = client.post(url, data=data)
    assert refused.status_code == 409
    assert "Your changes were not saved" in refused.text and "Words I must keep" in refused.text
    assert stored(app, article.id).title == "Binned"
    sign_out(client)
    auth.login("admin")
    assert f'href="/editor/articles/{article.id}/purge"' in client.get(url).text


def test_edit_form_offers_move_to_trash_and_unpublish_to_editors(client, auth, make_article):
    writer = auth.login("writer")
    draft = make_article("Draft", author_id=writer.id, status="draft", published_at=None)
    page = client.get(f"/editor/articles/{draft.id}/edit").text
    assert f'href="/editor/articles/{draft.id}/delete">Move to trash…</a>' in page
    assert "/unpublish" not in page and "Delete…" not in page
    published = make_article("Live")
    sign_out(client)
    auth.login("editor")
    page = client.get(f"/editor/articles/{published.id}/edit").text
    # A button of the article form itself, so that what was typed goes along (and is kept).
    article_form = page.split('<form class="article-form"')[1].split("</form>")[0]
    unpublish = f'formaction="/editor/articles/{published.id}/unpublish">Unpublish</button>'
    assert unpublish in article_form
    assert "/unpublish" not in client.get(f"/editor/articles/{draft.id}/edit").text


# --- deleting for good ------------------------------------------------------------------------


def test_only_admins_delete_for_good(app, client, auth, make_article, make_user):
    owner = make_user("owner", role="writer")
    article = make_article(
        "Own binned", author_id=owner.id, status="draft", published_at=None, deleted_at=utcnow()
    )
    url = f"/editor/articles/{article.id}/purge"
    for role in ("writer", "editor"):
        auth.login(role)
        assert client.get(url).status_code == 403
        token = csrf_token(client, "/editor/articles/new")
        assert client.post(url, data={"csrf_token": token}).status_code == 403
        sign_out(client)
    assert stored(app, article.id) is not None


def test_admin_deletes_an_article_in_the_trash_for_good_after_confirming(
    app, client, auth, make_article
):
    article = make_article(
        "Gone for good", status="draft", published_at=None, deleted_at=utcnow(), tags=["x"]
    )
    admin = auth.login("admin")
    url = f"/editor/articles/{article.id}/purge"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Delete “Gone for good” for good?" in confirm.text
    assert stored(app, article.id) is not None
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 303 and response.headers["Location"] == "/editor/?state=trash"
    assert stored(app, article.id) is None
    assert "Deleted “Gone for good” for good." in client.get("/editor/?state=trash").text
    assert events(app) == [("delete", admin.username, "Gone for good", None, "")]
    assert client.get(url).status_code == 404


def test_admin_cannot_delete_for_good_an_article_outside_the_trash(app, client, auth, make_article):
    article = make_article("Still live")
    auth.login("admin")
    url = f"/editor/articles/{article.id}/purge"
    for response in (client.get(url), post(client, url)):
        assert response.status_code == 303
        assert response.headers["Location"] == f"/editor/articles/{article.id}/delete"
    assert stored(app, article.id) is not None and events(app) == []


# --- unpublishing -------------------------------------------------------------------------------


@pytest.mark.parametrize("when", [-HOUR, HOUR], ids=["published", "scheduled"])
def test_editor_unpublishes_keeping_a_revision_and_an_audit_entry(
    app, client, auth, make_article, when
):
    article = make_article("Pulled", slug="pulled", published_at=utcnow() + when)
    auth.login("editor")
    response = post(client, f"/editor/articles/{article.id}/unpublish")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/articles/{article.id}/edit"
    unpublished = stored(app, article.id)
    assert unpublished.status == "draft" and unpublished.state == "draft"
    assert unpublished.version == article.version + 1
    assert revision_notes(app, article.id) == [(unpublished.version, "draft", "Unpublished")]
    assert events(app) == [("unpublish", "editor", "Pulled", article.id, "")]
    assert app.test_client().get("/articles/pulled").status_code == 404
    assert "Unpublished “Pulled”" in client.get(response.headers["Location"]).text


def test_writer_cannot_unpublish_and_drafts_stay_as_they_are(app, client, auth, make_article):
    writer = auth.login("writer")
    article = make_article("Live", author_id=writer.id)
    assert post(client, f"/editor/articles/{article.id}/unpublish").status_code == 403
    assert stored(app, article.id).status == "published"
    sign_out(client)
    auth.login("editor")
    draft = make_article("Draft", status="draft", published_at=None)
    assert post(client, f"/editor/articles/{draft.id}/unpublish").status_code == 303
    assert stored(app, draft.id).version == draft.version and events(app) == []


def test_unpublish_of_an_unknown_article_is_404(client, auth):
    auth.login("editor")
    assert post(client, "/editor/articles/999/unpublish").status_code == 404
    assert post(client, "/editor/articles/999/restore").status_code == 404
    assert client.get("/editor/articles/999/purge").status_code == 403  # admins only, first
    sign_out(client)
    auth.login("admin")
    assert client.get("/editor/articles/999/purge").status_code == 404


@pytest.mark.parametrize("action", ["delete", "restore", "purge", "unpublish"])
def test_every_state_change_needs_the_csrf_token(app, client, auth, make_article, action):
    trashed = action in {"restore", "purge"}
    article = make_article(
        "Guarded",
        status="draft" if trashed else "published",
        deleted_at=utcnow() if trashed else None,
    )
    auth.login("admin")
    response = client.post(f"/editor/articles/{article.id}/{action}")
    assert response.status_code == 400 and "The form expired" in response.text
    after = stored(app, article.id)
    assert after is not None and after.version == article.version and events(app) == []


def test_a_simultaneous_save_leaves_the_trash_alone_and_says_so(
    app, client, auth, make_article, monkeypatch
):
    article = make_article("Contested")
    auth.login("editor")
    token = csrf_token(client, "/editor/articles/new")

    def stale() -> None:
        raise StaleDataError("UPDATE statement on table 'articles' expected to update 1 row")

    monkeypatch.setattr(db.session, "commit", stale)
    response = client.post(f"/editor/articles/{article.id}/delete", data={"csrf_token": token})
    monkeypatch.undo()
    assert response.status_code == 303
    assert stored(app, article.id).deleted_at is None
    assert "Someone changed this article at the same moment" in client.get("/editor/").text


# --- scheduling ---------------------------------------------------------------------------------


def test_scheduled_article_appears_on_time_without_any_job(app, client, make_article, monkeypatch):
    article = make_article(
        "On the hour", slug="on-the-hour", featured=True, published_at=utcnow() + HOUR
    )
    other = make_article("Already out", slug="already-out")
    public = (
        "/",
        "/latest",
        "/featured",
        f"/sidebars/latest?exclude={other.id}",
        f"/sidebars/featured?exclude={other.id}",
    )
    assert client.get("/articles/on-the-hour").status_code == 404
    for url in public:
        assert "/articles/on-the-hour" not in client.get(url).text, url

    later = utcnow() + 2 * HOUR
    for module in (blog.models, blog.caching, blog.delivery):  # the page cache reads the clock
        monkeypatch.setattr(module, "utcnow", lambda: later)
    assert client.get("/articles/on-the-hour").status_code == 200
    for url in public:
        assert "/articles/on-the-hour" in client.get(url).text, url
    assert stored(app, article.id).state == "published"


def test_unpublishing_from_the_form_offers_back_what_was_typed(app, client, auth, make_article):
    auth.login("editor")
    article = make_article("Harbour opens", summary="Old dek.")
    url = f"/editor/articles/{article.id}/edit"
    typed = {
        "csrf_token": csrf_token(client, url),
        "title": "Harbour opens",
        "summary": "A new dek, typed but not saved.",
        "body": article.body,
        "status": "published",
        "version": str(article.version),
    }
    response = client.post(f"/editor/articles/{article.id}/unpublish", data=typed)
    assert response.status_code == 303
    assert stored(app, article.id).status == "draft"
    assert stored(app, article.id).summary == "Old dek."
    page = client.get(url).text
    assert "You have unsaved text from" in page and "typed over an older version" not in page
    restored = client.get(f"{url}?restore=autosave").text
    assert "A new dek, typed but not saved." in restored
    assert re.search(r'<option selected value="draft">|<option value="draft" selected>', restored)

"""Slug redirects: old public addresses lead to the current one; editors see and remove them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, SlugRedirect
from tests.conftest import body_for, csrf_token


def save(app, client, article_id: int, **fields) -> None:
    """Save the article through the edit form, changing ``fields``."""
    url = f"/editor/articles/{article_id}/edit"
    with app.app_context():
        article = db.session.get(Article, article_id)
        data = {
            "csrf_token": csrf_token(client, url),
            "version": article.version,
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary or "A summary.",
            "dateline": article.dateline,
            "body": article.body,
            "status": article.status,
            "published_at": "",
        }
    data.update(fields)
    response = client.post(url, data=data)
    assert response.status_code == 303, response.text


def redirects(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.scalars(sa.select(SlugRedirect))
        return {row.old_slug: row.article_id for row in rows}


def story(make_article, slug: str, title: str = "", **fields) -> Article:
    return make_article(title or slug.title(), slug=slug, body=body_for(slug), **fields)


def test_public_slug_change_leaves_a_301_to_the_new_address(app, client, auth, make_article):
    article = story(make_article, "old-name")
    auth.login("editor")
    save(app, client, article.id, slug="new-name")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/editor/")})
    response = client.get("/articles/old-name")
    assert response.status_code == 301
    assert response.headers["Location"] == "/articles/new-name"
    assert client.get("/articles/new-name").status_code == 200
    assert redirects(app) == {"old-name": article.id}


def test_draft_and_scheduled_slug_changes_make_no_redirect(app, client, auth, make_article):
    draft = story(make_article, "draft-one", status="draft", published_at=None)
    later = story(make_article, "later-one", published_at=utcnow() + timedelta(days=2))
    auth.login("editor")
    save(app, client, draft.id, slug="draft-two", title="Draft two")
    save(app, client, draft.id, slug="draft-three")
    save(app, client, later.id, slug="later-two")
    assert redirects(app) == {}
    for slug in ("draft-one", "draft-two", "later-one"):
        assert client.get(f"/articles/{slug}").status_code == 404


def test_a_chain_of_changes_lands_on_the_current_address_in_one_step(
    app, client, auth, make_article
):
    article = story(make_article, "first")
    auth.login("editor")
    save(app, client, article.id, slug="second")
    save(app, client, article.id, slug="third")
    for old in ("first", "second"):
        response = client.get(f"/articles/{old}")
        assert (response.status_code, response.headers["Location"]) == (301, "/articles/third")
    save(app, client, article.id, slug="first")
    assert redirects(app) == {"second": article.id, "third": article.id}
    assert client.get("/articles/first").status_code == 200


def test_old_address_of_an_unpublished_article_is_404_for_readers(app, client, auth, make_article):
    article = story(make_article, "was-public")
    auth.login("editor")
    save(app, client, article.id, slug="now-hidden")
    save(app, client, article.id, status="draft")
    assert client.get("/articles/was-public").headers["Location"] == "/articles/now-hidden"
    reader = app.test_client()
    for slug in ("was-public", "now-hidden"):
        assert reader.get(f"/articles/{slug}").status_code == 404


def test_editor_sees_the_redirects_and_removes_one(app, client, auth, make_article):
    article = story(make_article, "alpha")
    auth.login("editor")
    save(app, client, article.id, slug="beta")
    save(app, client, article.id, slug="gamma")
    page = client.get(f"/editor/articles/{article.id}/edit").text
    assert "Old addresses that redirect here" in page
    assert "<code>/articles/alpha</code>" in page and "<code>/articles/beta</code>" in page
    with app.app_context():
        redirect_id = db.session.scalar(
            sa.select(SlugRedirect.id).where(SlugRedirect.old_slug == "alpha")
        )
    action = f"/editor/articles/{article.id}/redirects/{redirect_id}/delete"
    assert f'action="{action}"' in page
    response = client.post(action, data={"csrf_token": csrf_token(client, "/editor/")})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/articles/{article.id}/edit#redirects"
    page = client.get(f"/editor/articles/{article.id}/edit").text
    assert "/articles/alpha no longer leads to this article." in page
    assert "<code>/articles/alpha</code>" not in page and "<code>/articles/beta</code>" in page
    assert client.get("/articles/alpha").status_code == 404
    assert client.get("/articles/beta").status_code == 301


def test_edit_page_of_an_article_without_redirects_has_no_list(client, auth, make_article):
    article = story(make_article, "steady")
    auth.login("editor")
    assert "Old addresses" not in client.get(f"/editor/articles/{article.id}/edit").text


def test_writer_sees_the_redirects_but_cannot_remove_one(app, client, auth, make_article):
    writer = auth.login("writer")
    article = story(make_article, "writers-old", author_id=writer.id)
    with app.app_context():
        db.session.add(SlugRedirect(old_slug="writers-older", article_id=article.id))
        db.session.get(Article, article.id).status = "draft"
        db.session.commit()
        redirect_id = db.session.scalar(sa.select(SlugRedirect.id))
    page = client.get(f"/editor/articles/{article.id}/edit").text
    assert "<code>/articles/writers-older</code>" in page and "/redirects/" not in page
    action = f"/editor/articles/{article.id}/redirects/{redirect_id}/delete"
    response = client.post(action, data={"csrf_token": csrf_token(client, "/editor/")})
    assert response.status_code == 403
    assert redirects(app) == {"writers-older": article.id}


def test_removing_a_redirect_needs_the_csrf_token_and_the_right_article(
    app, client, auth, make_article
):
    article = story(make_article, "one")
    other = story(make_article, "two")
    with app.app_context():
        db.session.add(SlugRedirect(old_slug="one-before", article_id=article.id))
        db.session.commit()
        redirect_id = db.session.scalar(sa.select(SlugRedirect.id))
    auth.login("editor")
    token = csrf_token(client, "/editor/")
    assert (
        client.post(f"/editor/articles/{article.id}/redirects/{redirect_id}/delete").status_code
        == 400
    )
    wrong = f"/editor/articles/{other.id}/redirects/{redirect_id}/delete"
    assert client.post(wrong, data={"csrf_token": token}).status_code == 404
    missing = f"/editor/articles/{article.id}/redirects/999/delete"
    assert client.post(missing, data={"csrf_token": token}).status_code == 404
    assert (
        client.get(f"/editor/articles/{article.id}/redirects/{redirect_id}/delete").status_code
        == 405
    )
    assert redirects(app) == {"one-before": article.id}


def test_signed_out_people_cannot_remove_a_redirect(app, client, make_article):
    article = story(make_article, "kept")
    with app.app_context():
        db.session.add(SlugRedirect(old_slug="kept-before", article_id=article.id))
        db.session.commit()
    response = client.post(f"/editor/articles/{article.id}/redirects/1/delete")
    assert response.status_code == 400
    assert redirects(app) == {"kept-before": article.id}


def test_an_article_now_at_the_old_address_wins_once_readers_can_see_it(
    app, client, auth, make_article
):
    moved = story(make_article, "shared-name")
    auth.login("editor")
    save(app, client, moved.id, slug="moved-away")
    newcomer = story(make_article, "shared-name", "Newcomer", status="draft", published_at=None)
    reader = app.test_client()
    response = reader.get("/articles/shared-name")
    assert (response.status_code, response.headers["Location"]) == (301, "/articles/moved-away")
    assert '<h1 id="headline">Newcomer</h1>' in client.get("/articles/shared-name").text
    save(app, client, newcomer.id, status="published")
    response = reader.get("/articles/shared-name")
    assert response.status_code == 200 and "Newcomer" in response.text


def test_an_address_public_before_an_unpublish_still_redirects(app, client, auth, make_article):
    article = story(make_article, "was-live")
    auth.login("editor")
    save(app, client, article.id, title="Was live, revised")
    token = csrf_token(client, "/editor/")
    client.post(f"/editor/articles/{article.id}/unpublish", data={"csrf_token": token})
    save(app, client, article.id, slug="renamed-while-down", status="draft")
    save(app, client, article.id, status="published")
    assert redirects(app) == {"was-live": article.id}
    assert app.test_client().get("/articles/was-live").headers["Location"] == (
        "/articles/renamed-while-down"
    )


def test_a_scheduled_address_renamed_before_its_time_makes_no_redirect(
    app, client, auth, make_article
):
    later = story(make_article, "not-yet", published_at=utcnow() + timedelta(days=2))
    auth.login("editor")
    save(app, client, later.id, title="Not yet, revised")
    save(app, client, later.id, slug="still-not-yet")
    assert redirects(app) == {}


def test_an_old_address_leads_to_the_last_public_article_that_had_it(
    app, client, auth, make_article
):
    first = story(make_article, "shared-name")
    auth.login("editor")
    save(app, client, first.id, slug="first-moved")
    second = story(make_article, "shared-name", title="Second")
    save(app, client, second.id, slug="second-moved")
    assert redirects(app) == {"shared-name": second.id}
    assert app.test_client().get("/articles/shared-name").headers["Location"] == (
        "/articles/second-moved"
    )

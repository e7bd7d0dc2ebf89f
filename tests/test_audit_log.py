"""The audit log: what is recorded for sign-ins and people, and the admins' page that shows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from blog import audit, people
from blog.extensions import db
from blog.models import Article, AuditEvent, User
from tests.conftest import PASSWORD
from tests.test_auth import sign_in
from tests.test_people import NEW_PASSWORD, add_person, events, link_in, post, set_password


def add_event(app, action: str, **fields) -> None:
    """Store an audit event directly."""
    with app.app_context():
        db.session.add(AuditEvent(action=action, **fields))
        db.session.commit()


def rows(page: str) -> list[str]:
    """The table rows of the audit page, newest first."""
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return body.split("<tr>")[1:]


def test_successful_sign_in_is_recorded_and_failed_is_not(app, client, make_user):
    bob = make_user("bob", role="writer")
    assert sign_in(client, "bob", "wrong password").status_code == 422
    assert sign_in(app.test_client(), "nobody", PASSWORD).status_code == 422
    assert events(app, "sign-in") == []
    assert sign_in(client, "bob", PASSWORD).status_code == 303
    [event] = events(app, "sign-in")
    assert event.actor_id == bob.id and event.subject_id is None


def test_people_actions_are_recorded_with_actor_subject_and_detail(app, client, auth):
    admin = auth.login("admin")
    link = link_in(add_person(client, username="bob", role="writer"))
    bob_id = events(app, "add-user")[0].subject_id
    post(client, f"/admin/people/{bob_id}/role", {"role": "editor"})
    post(client, f"/admin/people/{bob_id}/reset-password")
    post(client, f"/admin/people/{bob_id}/deactivate")
    post(client, f"/admin/people/{bob_id}/reactivate")
    link = link_in(post(client, f"/admin/people/{bob_id}/reset-password"))
    set_password(app.test_client(), link)

    expected = {
        "add-user": (admin.id, "writer"),
        "change-role": (admin.id, "writer → editor"),
        "deactivate": (admin.id, ""),
        "reactivate": (admin.id, ""),
        "set-password": (bob_id, ""),
    }
    for action, (actor_id, detail) in expected.items():
        [event] = events(app, action)
        assert (event.actor_id, event.subject_id, event.target, event.detail) == (
            actor_id,
            bob_id,
            "bob",
            detail,
        ), action
    resets = events(app, "reset-password")
    assert len(resets) == 2 and {event.actor_id for event in resets} == {admin.id}


def test_page_shows_events_newest_first_with_labels_and_targets(app, client, auth, make_article):
    article = make_article("Harbour fire")
    gone = make_article("Withdrawn story")
    admin = auth.login("admin", username="ana")
    with app.app_context():
        db.session.add(
            AuditEvent(
                action="publish",
                actor_id=admin.id,
                article_id=article.id,
                target=article.title,
                at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
            )
        )
        db.session.add(
            AuditEvent(
                action="delete",
                actor_id=admin.id,
                article_id=gone.id,
                target=gone.title,
                at=datetime(2025, 3, 2, 9, 0, tzinfo=UTC),
            )
        )
        db.session.delete(db.session.get(Article, gone.id))
        db.session.commit()
    add_person(client, username="bob", role="writer", name="Bob Lee")

    page = client.get("/admin/audit")
    assert page.status_code == 200
    newest, signed_in, deleted, published = rows(page.text)
    assert "added" in newest and "Bob Lee (bob)" in newest and "writer" in newest
    assert "Ana" in newest
    assert "deleted for good" in deleted and "Withdrawn story" in deleted and "<a " not in deleted
    assert "published" in published
    assert f'<a href="/editor/articles/{article.id}/edit">Harbour fire</a>' in published
    assert "signed in" in signed_in and "Mar 1, 2025" in published


def test_times_are_shown_in_the_newsroom_zone(app, client, auth):
    app.config["TIMEZONE"] = "Europe/Kyiv"
    auth.login("admin")
    add_event(app, "sign-in", at=datetime(2025, 7, 1, 21, 30, tzinfo=UTC))
    page = client.get("/admin/audit?action=sign-in").text
    assert "When (Europe/Kyiv)" in page
    assert '<time datetime="2025-07-01T21:30:00+00:00">Jul 2, 2025, 00:30</time>' in page


def test_filter_by_action(app, client, auth, make_user):
    bob = make_user("bob", role="writer")
    auth.login("admin")
    post(client, f"/admin/people/{bob.id}/deactivate")
    page = client.get("/admin/audit?action=deactivate").text
    assert len(rows(page)) == 1 and "deactivated" in rows(page)[0]
    assert '<option value="deactivate" selected>Deactivated</option>' in page
    empty = client.get("/admin/audit?action=publish").text
    assert "Nothing of this kind has been recorded yet." in empty


def test_every_action_has_a_label_in_the_filter(client, auth):
    auth.login("admin")
    page = client.get("/admin/audit").text
    for action in audit.ACTIONS:
        assert f'<option value="{action}">' in page


def test_pages_keep_the_filter(app, client, auth, monkeypatch):
    monkeypatch.setattr(people, "AUDIT_PAGE_SIZE", 2)
    auth.login("admin")
    for hour in range(5):
        add_event(app, "publish", target=f"Story {hour}", at=datetime(2025, 1, 1, hour, tzinfo=UTC))
    first = client.get("/admin/audit?action=publish").text
    assert "Story 4" in first and "Story 3" in first and "Story 2" not in first
    assert 'href="/admin/audit?page=2&amp;action=publish"' in first
    assert "Story 0" in client.get("/admin/audit?action=publish&page=3").text
    assert client.get("/admin/audit?action=publish&page=4").status_code == 404


@pytest.mark.parametrize("query", ["action=nonsense", "action=%00nonsense"])
def test_unknown_action_is_400(client, auth, query):
    auth.login("admin")
    assert client.get(f"/admin/audit?{query}").status_code == 400


@pytest.mark.parametrize("role", ["editor", "writer"])
def test_audit_log_is_for_admins_only(client, auth, role):
    auth.login(role)
    assert client.get("/admin/audit").status_code == 403


def test_audit_log_asks_anonymous_people_to_sign_in(client):
    response = client.get("/admin/audit")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login?next=/admin/audit"


def test_set_password_by_a_new_person_shows_on_the_page(app, client, auth):
    auth.login("admin")
    link = link_in(add_person(client, username="bob", name="Bob Lee"))
    set_password(app.test_client(), link, NEW_PASSWORD)
    with app.app_context():
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        assert bob.check_password(NEW_PASSWORD)
    newest = rows(client.get("/admin/audit").text)[0]
    assert "Bob Lee" in newest and "set a password for" in newest

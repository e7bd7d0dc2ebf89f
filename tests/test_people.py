"""People management: admin only, one-time set-password links, roles, deactivation, resets."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from werkzeug.test import TestResponse

from blog import people
from blog.extensions import db
from blog.models import AuditEvent, User
from blog.people_forms import PersonForm
from tests.conftest import PASSWORD, csrf_token
from tests.test_auth import sign_in
from tests.test_site import assert_same_with_or_without_htmx

NEW_PASSWORD = "lantern orchard velvet quarry"
DAY = 24 * 3600


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None) -> TestResponse:
    """Post ``data`` to ``url`` with a valid CSRF token, as a form on the site would."""
    signed_in = client.get("/auth/login").status_code != 200
    token = csrf_token(client, "/editor/" if signed_in else "/auth/login")
    return client.post(url, data={**(data or {}), "csrf_token": token})


def add_person(
    client: FlaskClient, username: str = "bob", role: str = "writer", name: str = "Bob Lee"
) -> TestResponse:
    """Add a person through the form as the signed-in admin."""
    return post(
        client, "/admin/people/new", {"username": username, "display_name": name, "role": role}
    )


def link_in(response: TestResponse) -> str:
    """The set-password link shown on a page."""
    match = re.search(r'id="set-password-link" type="text" value="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


def set_password(client: FlaskClient, link: str, password: str = NEW_PASSWORD) -> TestResponse:
    """Choose a password through ``link``."""
    token = csrf_token(client, link)
    return client.post(link, data={"password": password, "confirm": password, "csrf_token": token})


def user(app: Flask, username: str) -> User:
    """The stored user ``username``, read fresh."""
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(found)
        return found


def events(app: Flask, action: str) -> list[AuditEvent]:
    """The audit events of one kind, oldest first, with their people loaded."""
    with app.app_context():
        query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        found = list(db.session.scalars(query))
        for event in found:
            _ = event.actor, event.subject
        db.session.expunge_all()
        return found


def signed_in_client(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    """A second browser, signed in as ``username``."""
    other = app.test_client()
    assert sign_in(other, username, password).status_code == 303
    return other


def is_signed_in(client: FlaskClient) -> bool:
    """Whether ``client``'s session still opens the dashboard."""
    return client.get("/editor/").status_code == 200


# --- who may use the pages --------------------------------------------------------------------

PAGES = ["/admin/people", "/admin/people/new", "/admin/audit"]
ACTIONS = ["role", "deactivate", "reactivate", "reset-password"]


@pytest.fixture
def target(make_user: Callable[..., User]) -> User:
    """A writer whom the actions below are tried on."""
    return make_user("target", role="writer")


def action_posts(target: User) -> list[tuple[str, dict[str, str]]]:
    """Every state-changing post of the people pages, with valid data."""
    new = ("/admin/people/new", {"username": "newbie", "display_name": "New", "role": "writer"})
    changes = [(f"/admin/people/{target.id}/{name}", {"role": "editor"}) for name in ACTIONS]
    return [new, *changes]


def test_admin_opens_every_page(client, auth):
    auth.login("admin")
    for url in PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["editor", "writer"])
def test_editors_and_writers_get_403_everywhere(app, client, auth, target, role):
    auth.login(role)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    for url, data in action_posts(target):
        assert post(client, url, data).status_code == 403, url
    assert user(app, "target").role == "writer" and user(app, "target").active
    assert user(app, "target").password_hash == target.password_hash
    assert events(app, "add-user") == [] and events(app, "change-role") == []


def test_anonymous_people_are_asked_to_sign_in(app, client, target):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/auth/login?next={url}"
    for url, data in action_posts(target):
        response = post(client, url, data)
        assert response.status_code == 401 and "Newsroom sign-in" in response.text, url
    assert user(app, "target").role == "writer"


def test_only_admins_see_the_people_and_audit_links(client, auth, make_user):
    auth.login("editor")
    page = client.get("/editor/").text
    assert "/admin/people" not in page and "/admin/audit" not in page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/editor/")})
    auth.login("admin")
    page = client.get("/editor/").text
    assert '<a href="/admin/people">People</a>' in page
    assert '<a href="/admin/audit">Audit log</a>' in page


def test_pages_are_the_same_with_or_without_htmx_headers(client, auth):
    auth.login("admin")
    assert_same_with_or_without_htmx(client, [*PAGES, "/admin/audit?action=sign-in"])


@pytest.mark.parametrize("name", ACTIONS)
def test_posts_need_a_csrf_token(app, client, auth, target, name):
    auth.login("admin")
    response = client.post(f"/admin/people/{target.id}/{name}", data={"role": "editor"})
    assert response.status_code == 400 and "The form expired" in response.text
    stored = user(app, "target")
    assert (stored.role, stored.active, stored.password_hash) == (
        "writer",
        True,
        target.password_hash,
    )


def test_adding_needs_a_csrf_token(app, client, auth):
    auth.login("admin")
    data = {"username": "bob", "display_name": "Bob", "role": "writer"}
    assert client.post("/admin/people/new", data=data).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "bob")) is None


# --- the list ---------------------------------------------------------------------------------


def test_people_page_lists_everyone_with_role_and_status(client, auth, make_user):
    make_user("cara", role="editor", display_name="Cara Díaz")
    make_user("dan", role="writer", display_name="Dan Ode", active=False)
    auth.login("admin", username="ana")
    page = client.get("/admin/people").text
    assert "Cara Díaz" in page and "Dan Ode" in page
    assert "ana (you)" in page
    assert re.search(r'<option value="editor" selected>Editor</option>', page)
    assert "<strong>Deactivated</strong>" in page and "Reactivate<span" in page
    # Nobody is offered a change to their own account.
    own_row = page.split("ana (you)")[1].split("</tr>")[0]
    assert "<form" not in own_row


# --- adding people and their one-time links ---------------------------------------------------


def test_added_person_chooses_a_password_through_the_link_once(app, client, auth):
    auth.login("admin")
    response = add_person(client, username="Bob", role="writer", name="Bob Lee")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = link_in(response)
    assert link.startswith("http://localhost/auth/set-password/")
    added = user(app, "bob")  # usernames are lowercase
    assert (added.display_name, added.role, added.active) == ("Bob Lee", "writer", True)
    assert sign_in(app.test_client(), "bob", "").status_code == 422

    browser = app.test_client()
    page = browser.get(link)
    assert page.status_code == 200 and "Choose a password" in page.text and "Bob Lee" in page.text
    response = set_password(browser, link)
    assert response.status_code == 303 and response.headers["Location"] == "/editor/"
    assert "Welcome, Bob Lee" in browser.get("/editor/").text
    assert sign_in(app.test_client(), "bob", NEW_PASSWORD).status_code == 303

    again = app.test_client().get(link)
    assert again.status_code == 410 and "Ask an admin" in again.text


def test_duplicate_username_comes_back_with_the_text_kept(client, auth, make_user):
    make_user("bob", role="writer")
    auth.login("admin")
    response = add_person(client, username="bob", name="Another Bob", role="editor")
    assert response.status_code == 422
    assert "Someone already has this username" in response.text
    assert 'value="Another Bob"' in response.text
    assert re.search(
        r'<option selected value="editor">|<option value="editor" selected', response.text
    )
    assert re.search(
        r'aria-invalid="true"[^>]*id="username"|id="username"[^>]*aria-invalid', response.text
    )
    assert "set-password-link" not in response.text


def test_username_taken_at_the_same_moment_comes_back_with_422(
    app, client, auth, make_user, monkeypatch
):
    make_user("bob", role="writer")
    auth.login("admin")
    # The check passes when the other request has not committed yet; the database then refuses.
    monkeypatch.setattr(PersonForm, "validate_username", lambda _form, _field: None)
    response = add_person(client, username="bob", name="Second Bob")
    assert response.status_code == 422 and "Someone already has this username" in response.text
    assert 'value="Second Bob"' in response.text
    assert user(app, "bob").display_name == "Bob"
    assert events(app, "add-user") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "bob smith", "display_name": "Bob", "role": "writer"}, "lowercase letters"),
        ({"username": "b", "display_name": "Bob", "role": "writer"}, "lowercase letters"),
        ({"username": "bob", "display_name": "", "role": "writer"}, "This field is required"),
        ({"username": "bob", "display_name": "B" * 101, "role": "writer"}, "100 characters"),
        ({"username": "bob", "display_name": "Bob", "role": "owner"}, "Not a valid choice"),
        ({"username": "", "display_name": "Bob", "role": "writer"}, "This field is required"),
    ],
)
def test_bad_new_person_comes_back_with_422(app, client, auth, data, message):
    auth.login("admin")
    response = post(client, "/admin/people/new", data)
    assert response.status_code == 422 and message in response.text
    assert "Nobody was added yet" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_link_works_for_seven_days_then_expires(app, client, auth, monkeypatch):
    auth.login("admin")
    link = link_in(add_person(client))
    now = time.time()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(now + 6 * DAY))
    assert app.test_client().get(link).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(now + 7 * DAY + 60))
    response = app.test_client().get(link)
    assert response.status_code == 410 and "has expired" in response.text
    assert "Ask an admin" in response.text


def test_tampered_link_is_404(app, client, auth):
    auth.login("admin")
    link = link_in(add_person(client))
    other = app.test_client()
    altered = link[:-2] + ("BB" if link.endswith("AA") else "AA")
    for bad in (altered, link + "x", "/auth/set-password/x"):
        response = other.get(bad)
        assert response.status_code == 404 and "not a working set-password link" in response.text


def test_weak_or_mismatched_password_comes_back_and_the_link_still_works(app, client, auth):
    auth.login("admin")
    link = link_in(add_person(client))
    browser = app.test_client()
    for password, confirm, message in (
        ("short", "short", "at least 12 characters"),
        ("bob", "bob", "at least 12 characters"),
        ("password1234", "password1234", "most common passwords"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords differ."),
    ):
        token = csrf_token(browser, link)
        data = {"password": password, "confirm": confirm, "csrf_token": token}
        response = browser.post(link, data=data)
        assert response.status_code == 422 and message in response.text
        assert 'aria-invalid="true"' in response.text
    assert not is_signed_in(browser)
    assert set_password(browser, link).status_code == 303


def test_set_password_needs_a_csrf_token(app, client, auth):
    auth.login("admin")
    link = link_in(add_person(client))
    browser = app.test_client()
    response = browser.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert set_password(browser, link).status_code == 303


def test_link_of_a_deactivated_person_stops_working(app, client, auth):
    auth.login("admin")
    link = link_in(add_person(client))
    post(client, f"/admin/people/{user(app, 'bob').id}/deactivate")
    assert app.test_client().get(link).status_code == 410


def test_setting_a_password_replaces_the_session_of_whoever_was_signed_in(app, client, auth):
    auth.login("admin")
    link = link_in(add_person(client))
    set_password(client, link)
    assert client.get("/admin/people").status_code == 403  # now Bob, a writer


# --- resetting passwords ----------------------------------------------------------------------


def test_reset_password_ends_sessions_and_the_old_password(app, client, auth, make_user):
    bob = make_user("bob", role="writer")
    bobs_browser = signed_in_client(app, "bob")
    auth.login("admin")
    response = post(client, f"/admin/people/{bob.id}/reset-password")
    assert response.status_code == 200 and "password is reset" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    link = link_in(response)
    assert not is_signed_in(bobs_browser)
    assert sign_in(app.test_client(), "bob", PASSWORD).status_code == 422
    assert set_password(bobs_browser, link).status_code == 303
    assert is_signed_in(bobs_browser)


def test_a_new_link_ends_the_earlier_one(app, client, auth):
    auth.login("admin")
    first = link_in(add_person(client))
    second = link_in(post(client, f"/admin/people/{user(app, 'bob').id}/reset-password"))
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_deactivated_person_gets_no_reset_link(app, client, auth, make_user):
    bob = make_user("bob", role="writer", active=False)
    auth.login("admin")
    response = post(client, f"/admin/people/{bob.id}/reset-password")
    assert response.status_code == 409 and "Reactivate bob first." in response.text
    assert user(app, "bob").password_hash == bob.password_hash


# --- roles ------------------------------------------------------------------------------------


def test_role_change_applies_at_once(app, client, auth, make_user):
    bob = make_user("bob", role="writer")
    bobs_browser = signed_in_client(app, "bob")
    assert bobs_browser.get("/admin/people").status_code == 403
    auth.login("admin")
    response = post(client, f"/admin/people/{bob.id}/role", {"role": "admin"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/people"
    assert "bob is now an admin." in client.get("/admin/people").text
    assert bobs_browser.get("/admin/people").status_code == 200
    post(client, f"/admin/people/{bob.id}/role", {"role": "editor"})
    assert bobs_browser.get("/admin/people").status_code == 403
    assert user(app, "bob").role == "editor"


def test_same_role_changes_nothing(app, client, auth, make_user):
    bob = make_user("bob", role="writer")
    auth.login("admin")
    post(client, f"/admin/people/{bob.id}/role", {"role": "writer"})
    assert "bob is already a writer." in client.get("/admin/people").text
    assert events(app, "change-role") == []


def test_unknown_role_is_400(app, client, auth, make_user):
    bob = make_user("bob", role="writer")
    auth.login("admin")
    for data in ({"role": "owner"}, {}):
        assert post(client, f"/admin/people/{bob.id}/role", data).status_code == 400
    assert user(app, "bob").role == "writer"


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("user_id", ["999", "0", "99999999999", "x"])
def test_unknown_person_is_404(client, auth, name, user_id):
    auth.login("admin")
    assert post(client, f"/admin/people/{user_id}/{name}", {"role": "editor"}).status_code == 404


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("role", "You cannot change the role of yourself"),
        ("deactivate", "You cannot deactivate yourself"),
        ("reset-password", "You cannot reset the password of yourself"),
    ],
)
def test_admins_cannot_demote_deactivate_or_reset_themselves(
    app, client, auth, make_user, name, message
):
    make_user("other", role="admin")
    admin = auth.login("admin")
    response = post(client, f"/admin/people/{admin.id}/{name}", {"role": "writer"})
    assert response.status_code == 409 and message in response.text
    assert 'role="alert"' in response.text
    stored = user(app, "admin")
    assert (stored.role, stored.active, stored.password_hash) == (
        "admin",
        True,
        admin.password_hash,
    )
    assert is_signed_in(client)


def test_the_last_active_admin_is_never_demoted_or_deactivated(app, make_user):
    ana = make_user("ana", role="admin")
    bea = make_user("bea", role="admin", active=False)
    cid = make_user("cid", role="admin")
    with app.test_request_context():
        change = people._change_keeping_an_admin
        ana, bea, cid = (db.session.get(User, u.id) for u in (ana, bea, cid))
        assert change(cid, role="editor")  # ana remains
        assert not change(ana, role="writer")  # bea does not count: she is deactivated
        assert not change(ana, active=False)
        assert change(bea, role="editor")  # not an active admin: nothing to keep
        db.session.commit()
        roles = dict(db.session.execute(sa.select(User.username, User.role)).all())
        assert roles == {"ana": "admin", "bea": "editor", "cid": "editor"}
        assert db.session.get(User, ana.id).active


# --- deactivation -----------------------------------------------------------------------------


def test_deactivating_signs_out_at_once_and_reactivating_lets_back_in(app, client, auth, make_user):
    bob = make_user("bob", role="editor")
    bobs_browser = signed_in_client(app, "bob")
    auth.login("admin")
    response = post(client, f"/admin/people/{bob.id}/deactivate")
    assert response.status_code == 303
    assert "bob is deactivated" in client.get("/admin/people").text
    assert not is_signed_in(bobs_browser)
    assert sign_in(app.test_client(), "bob", PASSWORD).status_code == 422
    post(client, f"/admin/people/{bob.id}/reactivate")
    assert "bob can sign in again." in client.get("/admin/people").text
    assert user(app, "bob").active
    assert signed_in_client(app, "bob")


def test_deactivating_twice_records_it_once(app, client, auth, make_user):
    bob = make_user("bob", role="editor")
    auth.login("admin")
    post(client, f"/admin/people/{bob.id}/deactivate")
    post(client, f"/admin/people/{bob.id}/deactivate")
    post(client, f"/admin/people/{bob.id}/reactivate")
    post(client, f"/admin/people/{bob.id}/reactivate")
    assert len(events(app, "deactivate")) == len(events(app, "reactivate")) == 1


def test_an_inactive_account_has_no_session_even_with_its_token(app, make_user):
    make_user("bob", role="editor")
    bobs_browser = signed_in_client(app, "bob")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "bob").values(active=False))
        db.session.commit()
    assert not is_signed_in(bobs_browser)

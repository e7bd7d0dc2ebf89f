"""Profiles: name, bio and photo, edited by their owner or an admin, shown on the author page."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from blog.extensions import db
from blog.models import BIO_MAX, AuditEvent, User
from tests.conftest import csrf_token
from tests.test_editor import image_file

PROFILE = "/editor/profile"


def stored(app: Flask, username: str) -> User:
    """The stored user ``username``, read fresh."""
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(found)
        return found


def save(client: FlaskClient, url: str = PROFILE, **fields: Any) -> TestResponse:
    """Post the profile form at ``url`` as its page fills it, with ``fields`` changed."""
    page = client.get(url).text
    data = {
        "csrf_token": csrf_token(client, url),
        "display_name": _value(page, "display_name"),
        "bio": "",
    } | fields
    return client.post(url, data=data, content_type="multipart/form-data")


def _value(page: str, name: str) -> str:
    """The value the form on ``page`` shows in the text input ``name``."""
    start = page.index(f'name="{name}"')
    tag = page[page.rindex("<", 0, start) : page.index(">", start)]
    return tag.split('value="', 1)[1].split('"', 1)[0]


def profile_events(app: Flask) -> list[tuple[str, str, str]]:
    """The profile changes in the audit log: (actor, subject, detail), oldest first."""
    with app.app_context():
        query = sa.select(AuditEvent).where(AuditEvent.action == "edit-profile")
        return [
            (event.actor.username, event.subject.username, event.detail)
            for event in db.session.scalars(query.order_by(AuditEvent.id))
        ]


@pytest.mark.parametrize("role", ["writer", "editor", "admin"])
def test_everyone_in_the_newsroom_edits_their_own_profile(app, client, auth, role):
    auth.login(role)
    assert client.get(PROFILE).status_code == 200
    response = save(client, display_name="Ana Kovalenko", bio="Covers the harbour.")
    assert response.status_code == 303 and response.headers["Location"] == PROFILE
    person = stored(app, role)
    assert (person.display_name, person.bio) == ("Ana Kovalenko", "Covers the harbour.")
    assert profile_events(app) == [(role, role, "name, bio")]
    assert "The profile of Ana Kovalenko is saved." in client.get(PROFILE).text


def test_saving_an_unchanged_profile_records_nothing(app, client, auth):
    auth.login("writer")
    assert save(client).status_code == 303
    assert profile_events(app) == []


def test_the_newsroom_navigation_links_to_the_profile(client, auth):
    auth.login("writer")
    assert f'href="{PROFILE}">Profile</a>' in client.get("/editor/").text


def test_anonymous_people_are_asked_to_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 303 and "/auth/login" in response.headers["Location"]


def test_an_admin_edits_anyones_profile_from_the_people_page(app, client, auth, make_user):
    target = make_user("wendy", role="writer", display_name="Wendy")
    auth.login("admin")
    url = f"/admin/people/{target.id}/profile"
    assert f'href="{url}"' in client.get("/admin/people").text
    response = save(client, url, display_name="Wendy Writer", bio="Sports.")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/people"
    assert (stored(app, "wendy").display_name, stored(app, "wendy").bio) == (
        "Wendy Writer",
        "Sports.",
    )
    assert profile_events(app) == [("admin", "wendy", "name, bio")]


@pytest.mark.parametrize("role", ["writer", "editor"])
def test_only_admins_edit_someone_elses_profile(app, client, auth, make_user, role):
    target = make_user("wendy", role="writer", display_name="Wendy")
    auth.login(role)
    url = f"/admin/people/{target.id}/profile"
    assert client.get(url).status_code == 403
    token = csrf_token(client, PROFILE)
    data = {"csrf_token": token, "display_name": "Hacked", "bio": "Hacked"}
    assert client.post(url, data=data).status_code == 403
    assert stored(app, "wendy").display_name == "Wendy"
    assert profile_events(app) == []


def test_an_unknown_person_is_404(client, auth):
    auth.login("admin")
    assert client.get("/admin/people/999/profile").status_code == 404


def test_a_post_without_the_csrf_token_comes_back_with_the_text(app, client, auth):
    auth.login("writer")
    data = {"display_name": "Changed", "bio": "Typed and kept."}
    response = client.post(PROFILE, data=data)
    assert response.status_code == 422
    assert "The form had expired" in response.text and "Typed and kept." in response.text
    assert stored(app, "writer").display_name == "Writer"


def test_an_empty_name_comes_back_marked_with_the_bio_kept(app, client, auth):
    auth.login("writer")
    response = save(client, display_name="  ", bio="Typed and kept.")
    assert response.status_code == 422
    assert 'id="display_name-error"' in response.text and 'id="form-errors"' in response.text
    assert "Typed and kept." in response.text
    assert stored(app, "writer").bio == ""


def test_a_bio_over_the_limit_comes_back_whole_with_its_length(app, client, auth):
    auth.login("writer")
    bio = "word " * (BIO_MAX // 5) + "last"
    response = save(client, bio=bio)
    assert response.status_code == 422
    assert 'id="bio-error"' in response.text
    assert f"The bio is {len(bio):,} characters long; the limit is {BIO_MAX:,}." in response.text
    assert bio in response.text
    assert stored(app, "writer").bio == ""


def test_the_bio_box_has_no_maxlength_that_would_cut_pasted_text(client, auth):
    auth.login("writer")
    page = client.get(PROFILE).text
    box = page[page.index("<textarea") : page.index(">", page.index("<textarea"))]
    assert 'name="bio"' in box
    assert "maxlength" not in box


def test_a_line_break_counts_once_toward_the_bio_limit(app, client, auth):
    auth.login("writer")
    bio = ("a" * 99 + "\r\n") * (BIO_MAX // 100 - 1) + "a" * 100  # the limit exactly, with LF
    assert save(client, bio=bio).status_code == 303
    assert stored(app, "writer").bio == bio.replace("\r\n", "\n")


def test_a_photo_is_stored_with_its_size(app, client, auth):
    auth.login("writer")
    response = save(client, photo=(image_file(size=(300, 200)), "me.jpg"))
    assert response.status_code == 303
    person = stored(app, "writer")
    assert (person.photo_width, person.photo_height) == (300, 200)
    assert (Path(app.config["MEDIA_DIR"]) / person.photo).is_file()
    assert profile_events(app) == [("writer", "writer", "photo")]


def test_a_refused_photo_says_why_and_keeps_the_text(app, client, auth):
    auth.login("writer")
    svg = io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>')
    response = save(client, bio="Typed and kept.", photo=(svg, "me.svg"))
    assert response.status_code == 422
    assert 'id="photo-error"' in response.text and "SVG drawings are not accepted" in response.text
    assert "Typed and kept." in response.text
    assert stored(app, "writer").photo is None


def test_an_uploaded_photo_is_kept_while_another_field_is_fixed(app, client, auth):
    auth.login("writer")
    response = save(client, display_name="", photo=(image_file(), "me.jpg"))
    assert response.status_code == 422
    kept = response.text.split('name="photo_upload" type="hidden" value="', 1)[1].split('"')[0]
    assert kept and f"/media/{kept}" in response.text
    response = save(client, display_name="Writer", photo_upload=kept)
    assert response.status_code == 303
    assert stored(app, "writer").photo == kept


def test_a_forged_earlier_upload_is_refused(app, client, auth):
    auth.login("writer")
    response = save(client, photo_upload="../secret_key")
    assert response.status_code == 422 and 'id="photo-error"' in response.text
    assert stored(app, "writer").photo is None


def test_the_photo_can_be_removed(app, client, auth):
    auth.login("writer")
    save(client, photo=(image_file(), "me.jpg"))
    assert 'name="remove_photo"' in client.get(PROFILE).text
    assert save(client, remove_photo="y").status_code == 303
    person = stored(app, "writer")
    assert (person.photo, person.photo_width, person.photo_height) == (None, None, None)
    assert profile_events(app)[-1] == ("writer", "writer", "photo removed")


# --- the author page --------------------------------------------------------------------------


@pytest.fixture
def profiled(app: Flask, client: FlaskClient, auth: Any) -> Callable[..., User]:
    """Sign a writer in and give them a profile through the form; they sign out after."""

    def make(**fields: Any) -> User:
        person = auth.login("writer")
        assert save(client, **fields).status_code == 303
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, PROFILE)})
        return stored(app, person.username)

    return make


def test_the_author_page_shows_the_bio_in_paragraphs_and_the_photo(
    app, client, profiled, make_article
):
    person = profiled(
        display_name="Ana Kovalenko",
        bio="Covers the harbour.\n\n\nBefore that,\nthe courts.",
        photo=(image_file(size=(640, 480)), "me.jpg"),
    )
    make_article("Harbour story", author_id=person.id)
    page = client.get("/authors/writer").text
    assert "<p>Covers the harbour.</p>" in page and "<p>Before that,\nthe courts.</p>" in page
    assert 'width="640" height="480" alt="Ana Kovalenko"' in page
    assert f"/media/{person.photo.split('.')[0]}-480.webp" in page
    assert page.index("Before that") < page.index("Harbour story")


def test_a_bio_is_text_never_html(client, profiled):
    profiled(bio='<script>alert("x")</script> & <b>bold</b>')
    page = client.get("/authors/writer").text
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_every_page_of_the_listing_shows_the_profile(app, client, profiled, make_article):
    person = profiled(bio="Covers the harbour.", photo=(image_file(), "me.jpg"))
    for n in range(app.config["ARTICLES_PER_PAGE"] + 1):
        make_article(f"Story {n}", author_id=person.id)
    for url in ("/authors/writer", "/authors/writer?page=2"):
        page = client.get(url).text
        assert "Covers the harbour." in page and 'alt="Writer"' in page, url


def test_an_author_without_a_profile_gets_no_empty_box(client, make_article):
    make_article("Harbour story")
    page = client.get("/authors/reporter").text
    assert 'class="author-profile' not in page and "Harbour story" in page


def test_an_inactive_imported_author_still_has_a_page_with_the_bio(app, client, make_user):
    make_user("archive", active=False, display_name="Old Hand", bio="Wrote for us until 1999.")
    page = client.get("/authors/archive")
    assert page.status_code == 200
    assert "Old Hand" in page.text and "Wrote for us until 1999." in page.text

"""Sign-in and sign-out."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token


def sign_in(client, username: str, password: str, next_url: str | None = None):
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    token = csrf_token(client, "/auth/login")
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


def test_sign_in_goes_to_the_dashboard(client, make_user):
    make_user("ed", role="editor")
    response = sign_in(client, "ed", PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/editor/"
    assert client.get("/editor/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user):
    make_user("ed", role="editor")
    wrong = sign_in(client, "ed", "not the password")
    unknown = sign_in(client, "nobody", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "Wrong username or password." in response.text
    assert 'value="ed"' in wrong.text
    assert client.get("/editor/").status_code == 303


def test_inactive_user_cannot_sign_in(client, make_user):
    make_user("gone", role="editor", active=False)
    assert sign_in(client, "gone", PASSWORD).status_code == 422


def test_sign_in_returns_to_the_page_asked_for(client, make_user):
    make_user("ed", role="editor")
    response = sign_in(client, "ed", PASSWORD, next_url="/editor/articles/new")
    assert response.headers["Location"] == "/editor/articles/new"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(client, make_user, target):
    make_user("ed", role="editor")
    response = sign_in(client, "ed", PASSWORD, next_url=target)
    assert response.headers["Location"] == "/editor/"


def test_sign_out_needs_a_post_with_a_token(client, auth):
    auth.login("editor")
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/editor/").status_code == 200
    token = csrf_token(client, "/editor/articles/new")
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/editor/").status_code == 303


def test_sign_in_without_csrf_token_is_refused(client, make_user):
    make_user("ed", role="editor")
    response = client.post("/auth/login", data={"username": "ed", "password": PASSWORD})
    assert response.status_code == 422 and "The form had expired" in response.text
    assert client.get("/editor/").status_code == 303


def test_session_cookie_is_httponly_and_lax(client, make_user):
    make_user("ed", role="editor")
    sign_in(client, "ed", PASSWORD)
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_remember_me_is_a_choice(client, make_user):
    make_user("ed", role="editor")
    sign_in(client, "ed", PASSWORD)
    assert client.get_cookie("remember_token") is None
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/editor/articles/new")})
    token = csrf_token(client, "/auth/login")
    data = {"username": "ed", "password": PASSWORD, "remember": "y", "csrf_token": token}
    client.post("/auth/login", data=data)
    assert client.get_cookie("remember_token") is not None

"""Sign-in and sign-out: limits, new sessions, signing out everywhere, no account disclosed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from blog import create_app
from blog.extensions import db
from blog.models import User
from tests.conftest import PASSWORD, csrf_token


def sign_in(
    client: FlaskClient,
    username: str,
    password: str,
    next_url: str | None = None,
    remember: bool = False,
) -> TestResponse:
    """Post the sign-in form as a person would, with a fresh CSRF token."""
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    data = {"username": username, "password": password, "csrf_token": csrf_token(client, url)}
    if remember:
        data["remember"] = "y"
    return client.post(url, data=data)


def client_at(app: Flask, address: str) -> FlaskClient:
    """A client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def limited(app: Flask) -> Iterator[Flask]:
    """A second app on the test database with the sign-in limits on, as in production."""
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MEDIA_DIR")
    limited = create_app({**{key: app.config[key] for key in keys}, "RATELIMIT_ENABLED": True})
    yield limited
    with limited.app_context():
        db.engine.dispose()


def fail_from_many_addresses(app: Flask, username: str, times: int) -> None:
    """Type a wrong password for ``username`` ``times`` times, each from another address."""
    for n in range(times):
        assert sign_in(client_at(app, f"192.0.2.{n}"), username, "wrong").status_code == 422


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


def test_unknown_username_costs_the_same_password_check(client, make_user, monkeypatch):
    make_user("ed", role="editor")
    methods = []
    check = User.check_password

    def counting(user: User, password: str) -> bool:
        """Note the hash method and parameters of each check, then check."""
        methods.append(user.password_hash.split("$")[0])
        return check(user, password)

    monkeypatch.setattr(User, "check_password", counting)
    sign_in(client, "ed", "not the password")
    sign_in(client, "nobody", "not the password")
    assert len(methods) == 2 and methods[0] == methods[1]


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
    sign_in(client, "ed", PASSWORD, remember=True)
    assert client.get_cookie("remember_token") is not None


def test_sign_in_starts_a_new_session(client, make_user):
    make_user("ed", role="editor")
    client.get("/auth/login")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
        planted_csrf = before["csrf_token"]
    planted_cookie = client.get_cookie("session").value
    assert sign_in(client, "ed", PASSWORD).status_code == 303
    client.get("/editor/articles/new")
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["csrf_token"] != planted_csrf
    assert client.get_cookie("session").value != planted_cookie


def test_sign_out_everywhere_ends_every_session_and_remember_cookie(app, make_user):
    make_user("ed", role="editor")
    here, there, returning = app.test_client(), app.test_client(), app.test_client()
    sign_in(here, "ed", PASSWORD)
    sign_in(there, "ed", PASSWORD, remember=True)
    returning.set_cookie("remember_token", there.get_cookie("remember_token").value)
    assert returning.get("/editor/").status_code == 200  # the cookie alone signs in
    token = csrf_token(here, "/editor/articles/new")
    response = here.post("/auth/logout-everywhere", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "signed out on every device" in here.get("/").text
    for client in (here, there, returning):
        assert client.get("/editor/").status_code == 303
    restarted = app.test_client()
    restarted.set_cookie("remember_token", there.get_cookie("remember_token").value)
    assert restarted.get("/editor/").status_code == 303
    assert sign_in(there, "ed", PASSWORD).status_code == 303
    assert there.get("/editor/").status_code == 200


def test_sign_out_everywhere_needs_a_post_with_a_token(client, auth):
    auth.login("editor")
    assert client.get("/auth/logout-everywhere").status_code == 405
    assert client.post("/auth/logout-everywhere").status_code == 400
    assert client.get("/editor/").status_code == 200


def test_masthead_offers_sign_out_everywhere_to_staff_only(client, auth):
    button = re.compile(
        r'<form [^>]*method="post" action="/auth/logout-everywhere">\s*'
        r'<input type="hidden" name="csrf_token" value="[^"]+">\s*'
        r'<button [^>]*type="submit">Sign out everywhere</button>'
    )
    assert not button.search(client.get("/").text)
    auth.login("writer")
    assert button.search(client.get("/").text)


def test_new_password_ends_the_sessions_signed_in_with_the_old_one(app, client, auth):
    user = auth.login("editor")
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.set_password("another long passphrase")
        db.session.commit()
    assert client.get("/editor/").status_code == 303


def test_session_naming_the_user_without_the_current_token_is_signed_out(client, make_user):
    user = make_user("ed", role="editor")
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert client.get("/editor/").status_code == 200
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)  # the id alone, as sessions before the token had it
    assert client.get("/editor/").status_code == 303


def test_tests_are_not_throttled_but_a_site_is(app, client, make_user, tmp_path):
    make_user("ed", role="editor")
    for _ in range(12):
        assert sign_in(client, "ed", "wrong").status_code == 422
    assert app.config["RATELIMIT_ENABLED"] is False
    site = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/s.db"})
    assert site.config["RATELIMIT_ENABLED"] is True
    assert site.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_failed_sign_ins_are_limited_per_account_from_any_address(limited, make_user):
    make_user("ed", role="editor")
    make_user("ana", role="editor")
    fail_from_many_addresses(limited, "ed", 5)
    elsewhere = client_at(limited, "198.51.100.7")
    refused = sign_in(elsewhere, "ed", PASSWORD, next_url="/editor/articles/new")
    assert refused.status_code == 429
    assert "Too many sign-in attempts. Try again in 15 minutes." in refused.text
    assert 'value="ed"' in refused.text
    assert 'action="/auth/login?next=/editor/articles/new"' in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert elsewhere.get("/editor/").status_code == 303
    assert sign_in(elsewhere, "ana", PASSWORD).status_code == 303


def test_sign_in_limits_count_in_memory_while_their_redis_is_down(app, make_user):
    make_user("ed", role="editor")
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MEDIA_DIR")
    down = create_app(
        {
            **{key: app.config[key] for key in keys},
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    )
    fail_from_many_addresses(down, "ed", 5)
    assert sign_in(client_at(down, "198.51.100.7"), "ed", PASSWORD).status_code == 429
    with down.app_context():
        db.engine.dispose()


def test_failed_sign_ins_are_limited_per_address_whatever_the_account(limited, make_user):
    make_user("ed", role="editor")
    guesser = client_at(limited, "192.0.2.1")
    for n in range(10):
        assert sign_in(guesser, f"guess{n}", "wrong").status_code == 422
    refused = sign_in(guesser, "ed", PASSWORD)
    assert refused.status_code == 429
    assert "Try again in 1 minute." in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert sign_in(client_at(limited, "192.0.2.2"), "ed", PASSWORD).status_code == 303


def test_refusal_names_the_longest_wait(limited, make_user):
    make_user("ed", role="editor")
    limited.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "10 per hour"
    guesser = client_at(limited, "192.0.2.1")
    for username in ("ed", "ed", "ed", "ed", "ed", "a", "b", "c", "d", "e"):
        assert sign_in(guesser, username, "wrong").status_code == 422
    refused = sign_in(guesser, "ed", PASSWORD)
    assert refused.status_code == 429 and "Try again in 60 minutes." in refused.text


def test_refusal_is_the_same_for_accounts_that_exist_and_that_do_not(limited, make_user):
    make_user("ed", role="editor")
    fail_from_many_addresses(limited, "ed", 5)
    fail_from_many_addresses(limited, "nobody", 5)
    pages = []
    for username in ("ed", "nobody"):
        refused = sign_in(client_at(limited, "198.51.100.7"), username, PASSWORD)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        page = refused.text.replace(f'value="{username}"', 'value="NAME"')
        pages.append(re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page))
    assert pages[0] == pages[1]


def test_form_views_and_successful_sign_ins_never_count(limited, make_user):
    make_user("ed", role="editor")
    client = client_at(limited, "192.0.2.1")
    for _ in range(12):
        assert client.get("/auth/login").status_code == 200
    for _ in range(6):  # a new browser each time, from the same address
        assert sign_in(client_at(limited, "192.0.2.1"), "ed", PASSWORD).status_code == 303


def test_limits_come_from_the_settings(limited, make_user):
    make_user("ed", role="editor")
    limited.config["SIGN_IN_LIMIT_PER_ACCOUNT"] = "2 per hour"
    fail_from_many_addresses(limited, "ed", 2)
    refused = sign_in(client_at(limited, "198.51.100.7"), "ed", PASSWORD)
    assert refused.status_code == 429 and "Try again in 60 minutes." in refused.text


def test_limiter_adds_no_headers_or_cookies_to_reader_pages(
    limited, make_article: Callable[..., object]
):
    make_article(slug="story")
    reader = limited.test_client()
    for url in ("/", "/articles/story", "/latest", "/sidebars/latest"):
        response = reader.get(url)
        assert response.status_code == 200, url
        added = [name for name, _ in response.headers if "ratelimit" in name.lower()]
        assert not added and "Retry-After" not in response.headers, url
        assert "Set-Cookie" not in response.headers, url


def test_signed_in_visitor_of_the_sign_in_page_goes_on(client, auth):
    auth.login("editor")
    response = client.get("/auth/login?next=/editor/articles/new")
    assert response.status_code == 302 and response.headers["Location"] == "/editor/articles/new"


def test_nul_characters_in_the_username_do_not_reset_the_account_count(limited, make_user):
    make_user("ed", role="editor")
    for n, name in enumerate(["ed", "ed\x00", "\x00ed", "e\x00d", "ed\x00\x00"]):
        assert sign_in(client_at(limited, f"198.51.100.{n}"), name, "wrong").status_code == 422
    refused = sign_in(client_at(limited, "198.51.100.99"), "\x00ed", PASSWORD)
    assert refused.status_code == 429

"""Sections in the site's navigation: their order and which ones it shows, set by editors."""

from __future__ import annotations

import re
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from blog import caching
from blog.database import MIGRATIONS
from blog.extensions import db
from blog.models import Section
from tests.conftest import app_at_revision, csrf_token
from tests.test_editor import form_data

PAGE = "/editor/sections"


def add_sections(app: Flask, *names: str) -> list[int]:
    """Sections named ``names``, made in this order; their ids."""
    with app.app_context():
        made = []
        for name in names:
            section = Section(name=name, slug=name.lower())
            db.session.add(section)
            db.session.commit()
            made.append(section.id)
        return made


def order(app: Flask) -> list[str]:
    """The names of every section, in the navigation's order."""
    with app.app_context():
        return [section.name for section in db.session.scalars(Section.in_order())]


def navigation(app: Flask) -> list[str]:
    """The names of the sections the navigation shows, in order."""
    with app.app_context():
        return [section.name for section in Section.navigation()]


def masthead(page: str) -> list[str]:
    """The link texts of the site's navigation on ``page``."""
    nav = page.split('aria-label="Site">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


def send(client: FlaskClient, path: str, htmx: bool = False, **data: str) -> TestResponse:
    """Post a button's form on the sections page, as a plain form or through htmx."""
    token = csrf_token(client, PAGE)
    if htmx:
        headers = {"HX-Request": "true", "X-CSRFToken": token}
        return client.post(path, data=data, headers=headers)
    return client.post(path, data={"csrf_token": token, **data})


# --- the model and the migration ----------------------------------------------------------------


def test_a_new_section_goes_last(app):
    add_sections(app, "Sport", "Culture", "Local")
    assert order(app) == ["Sport", "Culture", "Local"]


def test_a_section_made_by_saving_an_article_goes_last(app, client, auth):
    add_sections(app, "Sport")
    auth.login("editor")
    assert (
        client.post("/editor/articles/new", data=form_data(client, section="Harbour")).status_code
        == 303
    )
    assert order(app) == ["Sport", "Harbour"]


def test_navigation_leaves_out_hidden_sections(app):
    _sport, culture, _local = add_sections(app, "Sport", "Culture", "Local")
    with app.app_context():
        db.session.get(Section, culture).in_navigation = False
        db.session.commit()
    assert navigation(app) == ["Sport", "Local"]


def test_the_migration_numbers_existing_sections_alphabetically(tmp_path: Path):
    app = app_at_revision(tmp_path, "26bd2c9c2898")
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO sections (id, name, slug) VALUES"
                " (1, 'sport', 'sport'), (2, 'Culture', 'culture'), (3, 'Local', 'local')"
            )
        )
        db.session.commit()
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="d7f7d71eced6")
        rows = db.session.execute(
            sa.text("SELECT name, position, in_navigation FROM sections ORDER BY id")
        ).all()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [("sport", 3, 1), ("Culture", 1, 1), ("Local", 2, 1)]


# --- the sections page --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_see_every_section_in_order(app, client, auth, role):
    _sport, culture = add_sections(app, "Sport", "Culture")
    with app.app_context():
        db.session.get(Section, culture).in_navigation = False
        db.session.commit()
    auth.login(role)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert page.text.index(">Sport</a>") < page.text.index(">Culture</a>")
    assert page.text.count('aria-pressed="true"') == page.text.count('aria-pressed="false"') == 1
    assert f'href="{PAGE}">Sections</a>' in page.text


def test_writers_are_refused_and_change_nothing(app, client, auth):
    [sport, _culture] = add_sections(app, "Sport", "Culture")
    auth.login("writer")
    assert client.get(PAGE).status_code == 403
    assert f'href="{PAGE}"' not in client.get("/editor/").text
    token = csrf_token(client, "/editor/")
    for path, data in ((f"{PAGE}/{sport}/move", "down"), (f"{PAGE}/{sport}/navigation", "0")):
        name = "direction" if path.endswith("move") else "show"
        assert client.post(path, data={"csrf_token": token, name: data}).status_code == 403
    assert order(app) == ["Sport", "Culture"] and navigation(app) == ["Sport", "Culture"]


def test_moving_without_javascript_redirects_back_with_a_message(app, client, auth):
    _sport, _culture, local = add_sections(app, "Sport", "Culture", "Local")
    auth.login("editor")
    response = send(client, f"{PAGE}/{local}/move", direction="up")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}#section-{local}"
    assert order(app) == ["Sport", "Local", "Culture"]
    assert "Local is now 2 of 3." in client.get(PAGE).text
    send(client, f"{PAGE}/{local}/move", direction="up")
    assert order(app) == ["Local", "Sport", "Culture"]


def test_moving_past_either_end_changes_nothing(app, client, auth):
    sport, _culture, local = add_sections(app, "Sport", "Culture", "Local")
    auth.login("editor")
    send(client, f"{PAGE}/{sport}/move", direction="up")
    send(client, f"{PAGE}/{local}/move", direction="down")
    assert order(app) == ["Sport", "Culture", "Local"]


def test_moving_parts_sections_with_the_same_position(app, client, auth):
    sport, _culture = add_sections(app, "Sport", "Culture")
    with app.app_context():
        db.session.execute(sa.update(Section).values(position=1))
        db.session.commit()
    assert order(app) == ["Culture", "Sport"]  # a tie reads by name
    auth.login("editor")
    send(client, f"{PAGE}/{sport}/move", direction="up")
    assert order(app) == ["Sport", "Culture"]


def test_moving_with_htmx_answers_the_list_with_the_focus_and_the_status(app, client, auth):
    _sport, culture = add_sections(app, "Sport", "Culture")
    auth.login("editor")
    response = send(client, f"{PAGE}/{culture}/move", htmx=True, direction="up")
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.startswith('<ol id="sections-list"')
    assert response.text.index(">Culture</a>") < response.text.index(">Sport</a>")
    # Culture reached the top: its "Move up" is off, so the focus goes to its "Move down".
    assert re.search(rf'id="move-up-{culture}"\s+disabled>', response.text)
    assert re.search(rf'id="move-down-{culture}" autofocus>', response.text)
    assert '<p id="sections-status" hx-swap-oob="innerHTML">Culture is now 1 of 2.</p>' in (
        response.text
    )


def test_showing_and_hiding_a_section(app, client, auth):
    sport, _culture = add_sections(app, "Sport", "Culture")
    auth.login("editor")
    response = send(client, f"{PAGE}/{sport}/navigation", show="0")
    assert response.status_code == 303 and navigation(app) == ["Culture"]
    response = send(client, f"{PAGE}/{sport}/navigation", htmx=True, show="1")
    assert navigation(app) == ["Sport", "Culture"]
    assert re.search(rf'id="navigation-{sport}"\s+aria-pressed="true" autofocus>', response.text)
    assert "Sport is shown in the navigation." in response.text


def test_every_change_needs_the_csrf_token(app, client, auth):
    [sport, _culture] = add_sections(app, "Sport", "Culture")
    auth.login("editor")
    for path, data in (
        (f"{PAGE}/{sport}/move", {"direction": "down"}),
        (f"{PAGE}/{sport}/navigation", {"show": "0"}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400 and "The form expired" in response.text
        response = client.post(path, data=data, headers={"HX-Request": "true"})
        assert response.headers["HX-Retarget"] == "#session-notice"
    assert order(app) == ["Sport", "Culture"] and navigation(app) == ["Sport", "Culture"]


@pytest.mark.parametrize(
    ("suffix", "data"),
    [("move", {"direction": "sideways"}), ("move", {}), ("navigation", {"show": "maybe"})],
)
def test_a_malformed_change_is_400_and_changes_nothing(app, client, auth, suffix, data):
    [sport] = add_sections(app, "Sport")
    auth.login("editor")
    assert send(client, f"{PAGE}/{sport}/{suffix}", **data).status_code == 400
    assert navigation(app) == ["Sport"]


def test_an_unknown_section_is_404(client, auth):
    auth.login("editor")
    assert send(client, f"{PAGE}/999/move", direction="up").status_code == 404


# --- what readers see ---------------------------------------------------------------------------


def test_the_masthead_lists_the_navigation_in_order_before_the_other_links(app, client):
    sport, culture, _local = add_sections(app, "Sport", "Culture", "Local")
    with app.app_context():
        db.session.get(Section, culture).in_navigation = False
        db.session.get(Section, sport).position = 9
        db.session.commit()
    page = client.get("/latest").text
    assert masthead(page) == ["Local", "Sport", "Latest", "Featured", "Search"]
    assert '<a href="/sections/local">Local</a>' in page


def test_the_masthead_marks_the_section_being_read(app, client):
    add_sections(app, "Local")
    page = client.get("/sections/local").text
    assert '<a href="/sections/local" aria-current="page">Local</a>' in page


def test_error_pages_render_when_the_database_does_not_answer(app, client, monkeypatch):
    def gone() -> list[Section]:
        raise sa.exc.OperationalError("SELECT", {}, Exception("gone"))

    monkeypatch.setattr(Section, "navigation", gone)
    response = client.get("/no/such/page")
    assert response.status_code == 404 and '<main id="main"' in response.text


def test_a_change_of_order_or_navigation_retires_kept_reader_pages(app, client, auth):
    sport, culture = add_sections(app, "Sport", "Culture")
    reader = app.test_client()
    assert masthead(reader.get("/latest").text)[:2] == ["Sport", "Culture"]
    with app.app_context():
        stamp = caching.content_stamp()
    auth.login("editor")
    send(client, f"{PAGE}/{culture}/move", direction="up")
    assert masthead(reader.get("/latest").text)[:2] == ["Culture", "Sport"]
    send(client, f"{PAGE}/{sport}/navigation", htmx=True, show="0")
    assert masthead(reader.get("/latest").text)[:2] == ["Culture", "Latest"]
    with app.app_context():
        assert caching.content_stamp() != stamp

"""Who may do what: every newsroom route, tried by every role, in the article states that matter.

MATRIX is the table: (role, action, state, expected). The roles are ``anonymous``; a writer on
their own article (``writer-own``), on someone else's (``writer-other``), or where no article is
involved (``writer``); ``editor``; ``admin``; and ``deactivated``, an admin whose account was
switched off after signing in, so that their session must count for nothing. The article is
always written by the same writer, in one of the states draft, review, published, scheduled or
trash ("-" for routes without an article). Every action posts what the real form or htmx sends,
with the page's CSRF token. A refusal, and any page that only shows, leaves every row of the
database as it was; an allowed change makes the change its action names.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from blog.auth import set_password_url
from blog.dates import local, utcnow
from blog.extensions import db
from blog.models import Article, Autosave, MediaItem, Section, SlugRedirect, User
from blog.saving import keep_revision
from tests.conftest import PASSWORD, body_for, csrf_token

Snapshot = dict[str, list[dict[str, Any]]]

HEADLINE = "Council passes the budget"
EARLIER_HEADLINE = "Council debates the budget"  # the article's first revision
NEW_HEADLINE = "A new article"
TYPED = "Typed, not saved yet."
NEW_PASSWORD = "lantern orchard velvet quarry"
ARTICLE_STATES = ("draft", "review", "published", "scheduled", "trash")

ANON, OWN, OTHER, WRITER, EDITOR, ADMIN, DEACTIVATED = (
    "anonymous",
    "writer-own",
    "writer-other",
    "writer",
    "editor",
    "admin",
    "deactivated",
)

# Who signs in for each role: (username, role of the account).
ACCOUNTS = {
    OWN: ("ana", "writer"),  # the author of the article
    OTHER: ("ben", "writer"),
    WRITER: ("ben", "writer"),
    EDITOR: ("ed", "editor"),
    ADMIN: ("ada", "admin"),
    DEACTIVATED: ("gone", "admin"),
}


@dataclass
class World:
    """What a case acts on: the rows made for it, and the CSRF token of the person's session."""

    token: str = ""
    actor_id: int | None = None
    actor_name: str | None = None
    target_id: int = 0  # a writer whom the people pages act on
    article_id: int = 0
    version: int = 0
    status: str = ""
    revision_id: int = 0  # the article's first revision, with the earlier headline
    redirect_id: int = 0  # an old address of the article
    link: str = ""  # a set-password link
    tomorrow: str = ""  # a publication time tomorrow, as the form takes it
    media_id: int = 0  # an image of the media library
    section_id: int = 0  # the first of two sections


# --- what each action sends, and the change it makes when allowed -------------------------------


@dataclass(frozen=True)
class Action:
    """One thing to try: its route as ``app.url_map`` names it, how it is sent, what it changes.

    ``kind`` is "page" (a GET a browser lands on), "form" (a plain form post) or "htmx" (a
    fragment request with htmx's headers and the CSRF token in ``X-CSRFToken``).
    """

    rule: str
    method: str
    kind: str
    path: Callable[[World], str]
    data: Callable[[World], dict[str, str]] = lambda w: {}
    effect: Callable[[Snapshot, Snapshot, World], bool] = lambda before, after, w: True


def rows(snap: Snapshot, table: str, **match: Any) -> list[dict[str, Any]]:
    """The rows of ``table`` whose columns equal ``match``."""
    return [r for r in snap[table] if all(r[name] == value for name, value in match.items())]


def story(snap: Snapshot, w: World) -> dict[str, Any] | None:
    """The article's row, if it still exists."""
    found = rows(snap, "articles", id=w.article_id)
    return found[0] if found else None


def person(snap: Snapshot, user_id: int | None) -> dict[str, Any]:
    """A user's row."""
    return rows(snap, "users", id=user_id)[0]


def article_fields(w: World, **changes: str) -> dict[str, str]:
    """The article form as its page fills it, with ``changes``."""
    fields = {
        "version": str(w.version),
        "title": HEADLINE,
        "slug": "council-budget",
        "summary": "The vote, and what it pays for.",
        "dateline": "",
        "body": body_for(HEADLINE),
        "section": "",
        "tags": "",
        "status": w.status,
        "published_at": "",
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    return fields | changes


def new_article(**changes: str) -> Callable[[World], dict[str, str]]:
    """The form of a new article, with ``changes``."""
    return lambda w: (
        article_fields(w, version="", title=NEW_HEADLINE, slug="", status="draft") | changes
    )


def created(status: str, featured: bool = False) -> Callable[[Snapshot, Snapshot, World], bool]:
    """Whether a new article was saved with ``status`` and ``featured``."""
    return lambda before, after, w: bool(
        rows(after, "articles", title=NEW_HEADLINE, status=status, featured=featured)
    )


def edits(**values: Any) -> Callable[[Snapshot, Snapshot, World], bool]:
    """Whether the article now has these column values."""
    return lambda before, after, w: all(story(after, w)[k] == v for k, v in values.items())


def at(suffix: str) -> Callable[[World], str]:
    """The article's address in the newsroom, ending in ``suffix``."""
    return lambda w: f"/editor/articles/{w.article_id}/{suffix}"


def fixed(path: str) -> Callable[[World], str]:
    """Always ``path``."""
    return lambda w: path


def published_now(before: Snapshot, after: Snapshot, w: World) -> bool:
    """Whether readers can see the article now."""
    row = story(after, w)
    return row["status"] == "published" and row["published_at"] <= utcnow()


def scheduled(before: Snapshot, after: Snapshot, w: World) -> bool:
    """Whether the article is published with a time still to come."""
    row = story(after, w)
    return row["status"] == "published" and row["published_at"] > utcnow()


def own_copy(article: bool) -> Callable[[Snapshot, Snapshot, World], bool]:
    """Whether the person now has an autosaved copy with what they typed."""
    return lambda before, after, w: any(
        copy["fields"]["body"] == TYPED
        for copy in rows(
            after, "autosaves", user_id=w.actor_id, article_id=w.article_id if article else None
        )
    )


def in_library(suffix: str) -> Callable[[World], str]:
    """The library image's address, ending in ``suffix``."""
    return lambda w: f"/editor/media/{w.media_id}/{suffix}"


def jpeg() -> io.BytesIO:
    """A small JPEG file to upload."""
    file = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(file, "JPEG")
    file.seek(0)
    return file


def new_password(before: Snapshot, after: Snapshot, w: World) -> bool:
    """Whether the member acted on has another password (hash) now."""
    return (
        person(before, w.target_id)["password_hash"] != person(after, w.target_id)["password_hash"]
    )


EDIT = "/editor/articles/<id:article_id>/edit"
MEDIA = "/editor/media"
MEDIA_ITEM = "/editor/media/<id:item_id>"
NEW = "/editor/articles/new"
PEOPLE = "/admin/people/<id:user_id>"
PROFILE = "/editor/profile"
SECTIONS = "/editor/sections"
SECTION = "/editor/sections/<id:section_id>"
SET_PASSWORD = "/auth/set-password/<token>"

ACTIONS: dict[str, Action] = {
    # The newsroom, without an article.
    "dashboard": Action("/editor/", "GET", "page", fixed("/editor/")),
    "trash list": Action("/editor/", "GET", "page", fixed("/editor/?state=trash")),
    "rows": Action("/editor/rows", "GET", "htmx", fixed("/editor/rows?q=budget")),
    "new form": Action(NEW, "GET", "page", fixed(NEW)),
    "create draft": Action(NEW, "POST", "form", fixed(NEW), new_article(), created("draft")),
    "create published": Action(
        NEW, "POST", "form", fixed(NEW), new_article(status="published"), created("published")
    ),
    "create featured": Action(
        NEW, "POST", "form", fixed(NEW), new_article(featured="y"), created("draft", True)
    ),
    "preview": Action(
        "/editor/preview",
        "POST",
        "htmx",
        fixed("/editor/preview"),
        lambda w: {"body": "Some **bold** words.", "dateline": "", "published_at": ""},
    ),
    "checks new": Action(
        "/editor/checks",
        "POST",
        "htmx",
        fixed("/editor/checks"),
        lambda w: {"article_id": "", "title": NEW_HEADLINE, "body": TYPED, "status": "draft"},
    ),
    "autosave new": Action(
        "/editor/autosave",
        "POST",
        "htmx",
        fixed("/editor/autosave"),
        lambda w: new_article(body=TYPED)(w) | {"article_id": ""},
        own_copy(article=False),
    ),
    # The newsroom, on the article.
    "slug check": Action(
        "/editor/slug-check",
        "GET",
        "htmx",
        lambda w: f"/editor/slug-check?slug=council-budget&article_id={w.article_id}",
    ),
    "edit form": Action(EDIT, "GET", "page", at("edit")),
    "save": Action(
        EDIT,
        "POST",
        "form",
        at("edit"),
        lambda w: article_fields(w, title="Edited headline"),
        edits(title="Edited headline"),
    ),
    "submit": Action(
        EDIT,
        "POST",
        "form",
        at("edit"),
        lambda w: article_fields(w, status="review"),
        edits(status="review"),
    ),
    "publish": Action(
        EDIT,
        "POST",
        "form",
        at("edit"),
        lambda w: article_fields(w, status="published"),
        published_now,
    ),
    "schedule": Action(
        EDIT,
        "POST",
        "form",
        at("edit"),
        lambda w: article_fields(w, status="published", published_at=w.tomorrow),
        scheduled,
    ),
    "feature": Action(
        EDIT,
        "POST",
        "form",
        at("edit"),
        lambda w: article_fields(w, featured="y"),
        edits(featured=True),
    ),
    "unpublish": Action(
        "/editor/articles/<id:article_id>/unpublish",
        "POST",
        "form",
        at("unpublish"),
        effect=edits(status="draft"),
    ),
    "trash form": Action("/editor/articles/<id:article_id>/delete", "GET", "page", at("delete")),
    "trash": Action(
        "/editor/articles/<id:article_id>/delete",
        "POST",
        "form",
        at("delete"),
        effect=lambda before, after, w: story(after, w)["deleted_at"] is not None,
    ),
    "restore": Action(
        "/editor/articles/<id:article_id>/restore",
        "POST",
        "form",
        at("restore"),
        effect=edits(deleted_at=None),
    ),
    "purge form": Action("/editor/articles/<id:article_id>/purge", "GET", "page", at("purge")),
    "purge": Action(
        "/editor/articles/<id:article_id>/purge",
        "POST",
        "form",
        at("purge"),
        effect=lambda before, after, w: story(after, w) is None,
    ),
    "history": Action("/editor/articles/<id:article_id>/history", "GET", "page", at("history")),
    "restore revision": Action(
        "/editor/articles/<id:article_id>/revisions/<id:revision_id>/restore",
        "POST",
        "form",
        lambda w: f"/editor/articles/{w.article_id}/revisions/{w.revision_id}/restore",
        effect=edits(title=EARLIER_HEADLINE),
    ),
    "note form": Action("/editor/articles/<id:article_id>/notes", "GET", "page", at("notes")),
    "add note": Action(
        "/editor/articles/<id:article_id>/notes",
        "POST",
        "form",
        at("notes"),
        lambda w: {
            "note-csrf_token": w.token,
            "note-kind": "correction",
            "note-text": "An earlier version gave the wrong total.",
        },
        lambda before, after, w: bool(rows(after, "article_notes", article_id=w.article_id)),
    ),
    "remove redirect": Action(
        "/editor/articles/<id:article_id>/redirects/<id:redirect_id>/delete",
        "POST",
        "form",
        lambda w: f"/editor/articles/{w.article_id}/redirects/{w.redirect_id}/delete",
        effect=lambda before, after, w: not after["slug_redirects"],
    ),
    "autosave": Action(
        "/editor/autosave",
        "POST",
        "htmx",
        fixed("/editor/autosave"),
        lambda w: article_fields(w, body=TYPED) | {"article_id": str(w.article_id)},
        own_copy(article=True),
    ),
    "discard autosave": Action(
        "/editor/autosave/discard",
        "POST",
        "form",
        fixed("/editor/autosave/discard"),
        lambda w: {"article_id": str(w.article_id)},
        lambda before, after, w: not rows(after, "autosaves", user_id=w.actor_id),
    ),
    "checks": Action(
        "/editor/checks",
        "POST",
        "htmx",
        fixed("/editor/checks"),
        lambda w: {
            "article_id": str(w.article_id),
            "title": HEADLINE,
            "body": TYPED,
            "status": "draft",
        },
    ),
    # The media library.
    "media library": Action(MEDIA, "GET", "page", fixed(MEDIA)),
    "upload image": Action(
        MEDIA,
        "POST",
        "form",
        fixed(MEDIA),
        lambda w: {"alt": "Boats", "caption": "", "credit": "", "image": (jpeg(), "boats.jpg")},
        lambda before, after, w: bool(rows(after, "media", alt="Boats")),
    ),
    "media grid": Action(f"{MEDIA}/grid", "GET", "htmx", fixed(f"{MEDIA}/grid?q=gull&page=1")),
    "hero choices": Action(
        f"{MEDIA}/hero-choices", "GET", "htmx", fixed(f"{MEDIA}/hero-choices?q=gull")
    ),
    "media card": Action(f"{MEDIA_ITEM}/card", "GET", "htmx", in_library("card")),
    "media card form": Action(f"{MEDIA_ITEM}/form", "GET", "htmx", in_library("form")),
    "describe image form": Action(f"{MEDIA_ITEM}/edit", "GET", "page", in_library("edit")),
    "describe image": Action(
        f"{MEDIA_ITEM}/edit",
        "POST",
        "form",
        in_library("edit"),
        lambda w: {
            f"media-{w.media_id}-csrf_token": w.token,
            f"media-{w.media_id}-alt": "Gulls on the pier",
            f"media-{w.media_id}-caption": "",
            f"media-{w.media_id}-credit": "",
        },
        lambda before, after, w: bool(rows(after, "media", alt="Gulls on the pier")),
    ),
    "delete image form": Action(f"{MEDIA_ITEM}/delete", "GET", "page", in_library("delete")),
    "delete image": Action(
        f"{MEDIA_ITEM}/delete",
        "POST",
        "form",
        in_library("delete"),
        effect=lambda before, after, w: not rows(after, "media", id=w.media_id),
    ),
    # People and the audit log.
    "people": Action("/admin/people", "GET", "page", fixed("/admin/people")),
    "add person form": Action("/admin/people/new", "GET", "page", fixed("/admin/people/new")),
    "add person": Action(
        "/admin/people/new",
        "POST",
        "form",
        fixed("/admin/people/new"),
        lambda w: {"username": "newbie", "display_name": "New Member", "role": "writer"},
        lambda before, after, w: bool(rows(after, "users", username="newbie")),
    ),
    "change role": Action(
        f"{PEOPLE}/role",
        "POST",
        "form",
        lambda w: f"/admin/people/{w.target_id}/role",
        lambda w: {"role": "editor"},
        lambda before, after, w: person(after, w.target_id)["role"] == "editor",
    ),
    "deactivate": Action(
        f"{PEOPLE}/deactivate",
        "POST",
        "form",
        lambda w: f"/admin/people/{w.target_id}/deactivate",
        effect=lambda before, after, w: not person(after, w.target_id)["active"],
    ),
    "reactivate": Action(
        f"{PEOPLE}/reactivate",
        "POST",
        "form",
        lambda w: f"/admin/people/{w.target_id}/reactivate",
        effect=lambda before, after, w: person(after, w.target_id)["active"],
    ),
    "reset password": Action(
        f"{PEOPLE}/reset-password",
        "POST",
        "form",
        lambda w: f"/admin/people/{w.target_id}/reset-password",
        effect=new_password,
    ),
    "profile form": Action(
        f"{PEOPLE}/profile", "GET", "page", lambda w: f"/admin/people/{w.target_id}/profile"
    ),
    "edit profile": Action(
        f"{PEOPLE}/profile",
        "POST",
        "form",
        lambda w: f"/admin/people/{w.target_id}/profile",
        lambda w: {"display_name": "Renamed", "bio": "A bio."},
        lambda before, after, w: person(after, w.target_id)["bio"] == "A bio.",
    ),
    "audit log": Action("/admin/audit", "GET", "page", fixed("/admin/audit")),
    # One's own profile, and the sections of the site's navigation.
    "own profile form": Action(PROFILE, "GET", "page", fixed(PROFILE)),
    "edit own profile": Action(
        PROFILE,
        "POST",
        "form",
        fixed(PROFILE),
        lambda w: {"display_name": "Renamed", "bio": "A bio."},
        lambda before, after, w: person(after, w.actor_id)["bio"] == "A bio.",
    ),
    "sections": Action(SECTIONS, "GET", "page", fixed(SECTIONS)),
    "move section": Action(
        f"{SECTION}/move",
        "POST",
        "form",
        lambda w: f"{SECTIONS}/{w.section_id}/move",
        lambda w: {"direction": "down"},
        lambda before, after, w: rows(after, "sections", id=w.section_id)[0]["position"] == 2,
    ),
    "hide section": Action(
        f"{SECTION}/navigation",
        "POST",
        "form",
        lambda w: f"{SECTIONS}/{w.section_id}/navigation",
        lambda w: {"show": "0"},
        lambda before, after, w: not rows(after, "sections", id=w.section_id)[0]["in_navigation"],
    ),
    # Signing in and out, and set-password links.
    "sign-in form": Action("/auth/login", "GET", "page", fixed("/auth/login")),
    "sign in": Action(
        "/auth/login",
        "POST",
        "form",
        fixed("/auth/login"),
        # Their own account; someone not signed in uses a writer's.
        lambda w: {"username": w.actor_name or "target", "password": PASSWORD},
        lambda before, after, w: (
            len(rows(after, "audit_events", action="sign-in"))
            > len(rows(before, "audit_events", action="sign-in"))
        ),
    ),
    "sign out": Action("/auth/logout", "POST", "form", fixed("/auth/logout")),
    "sign out everywhere": Action(
        "/auth/logout-everywhere",
        "POST",
        "form",
        fixed("/auth/logout-everywhere"),
        effect=lambda before, after, w: (
            person(before, w.actor_id)["session_token"]
            != person(after, w.actor_id)["session_token"]
        ),
    ),
    "set-password form": Action(SET_PASSWORD, "GET", "page", lambda w: w.link),
    "set password": Action(
        SET_PASSWORD,
        "POST",
        "form",
        lambda w: w.link,
        lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        new_password,
    ),
}


# The actions done to another member, a writer made for the case.
ON_TARGET = {
    "change role",
    "deactivate",
    "reactivate",
    "reset password",
    "profile form",
    "edit profile",
    "sign in",
    "set-password form",
    "set password",
}


# --- what should happen -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The answer expected, and whether the database changes."""

    status: int
    changes: bool = False
    location: str | None = None  # the start of the redirect's target
    signed_out: bool = False  # the sign-in page, or the htmx signed-out notice
    text: str | None = None  # something the answer says
    absent: str | None = None  # something the answer must not say


PAGE = Outcome(200)  # shown
DONE = Outcome(303, changes=True)  # changed, then redirected
ANSWERED = Outcome(200, changes=True)  # changed, answered in place (a fragment, a link page)
NOTHING_TO_DO = Outcome(303)  # redirected back, nothing to change in this state
FORBIDDEN = Outcome(403)
# An autosave refused: the status line says why with a 200, as htmx swaps only a 2xx answer.
NOT_KEPT = Outcome(200, text="No draft copy kept.")
NOT_CHECKED = Outcome(200, text="Not checked any more:")  # the same for the publish checks
REFUSED = Outcome(422)  # the form back, saying why
CONFLICT = Outcome(409)  # not possible in this state
LINK_ENDED = Outcome(410)  # a set-password link that no longer works
TO_DASHBOARD = Outcome(302, location="/editor/")
TO_FRONT_PAGE = Outcome(303, location="/")
# Signed out: a GET is redirected to sign in, a form post gets the sign-in page (401) with the
# text typed, and an htmx request the notice with a sign-in link, leaving the page as it is.
SIGNED_OUT = Outcome(0, signed_out=True)


def signed_out(kind: str) -> Outcome:
    """What someone not signed in gets for an action of ``kind``."""
    if kind == "page":
        return Outcome(303, location="/auth/login?next=", signed_out=True)
    return Outcome(401 if kind == "form" else 200, signed_out=True)


# --- the matrix ---------------------------------------------------------------------------------

MATRIX: list[tuple[str, str, str, Outcome]] = [
    # The dashboard, its rows, and a new article.
    (ANON, "dashboard", "-", SIGNED_OUT),
    (WRITER, "dashboard", "-", PAGE),
    (EDITOR, "dashboard", "-", PAGE),
    (ADMIN, "dashboard", "-", PAGE),
    (DEACTIVATED, "dashboard", "-", SIGNED_OUT),
    # Writers see everyone's articles, but only their own in the trash.
    (OWN, "trash list", "trash", Outcome(200, text=HEADLINE)),
    (OTHER, "trash list", "trash", Outcome(200, absent=HEADLINE)),
    (EDITOR, "trash list", "trash", Outcome(200, text=HEADLINE)),
    (ANON, "rows", "-", SIGNED_OUT),
    (WRITER, "rows", "-", PAGE),
    (EDITOR, "rows", "-", PAGE),
    (ADMIN, "rows", "-", PAGE),
    (DEACTIVATED, "rows", "-", SIGNED_OUT),
    (ANON, "new form", "-", SIGNED_OUT),
    (WRITER, "new form", "-", PAGE),
    (EDITOR, "new form", "-", PAGE),
    (ADMIN, "new form", "-", PAGE),
    (DEACTIVATED, "new form", "-", SIGNED_OUT),
    (ANON, "create draft", "-", SIGNED_OUT),
    (WRITER, "create draft", "-", DONE),
    (EDITOR, "create draft", "-", DONE),
    (ADMIN, "create draft", "-", DONE),
    (DEACTIVATED, "create draft", "-", SIGNED_OUT),
    (WRITER, "create published", "-", REFUSED),
    (EDITOR, "create published", "-", DONE),
    (WRITER, "create featured", "-", REFUSED),
    (EDITOR, "create featured", "-", DONE),
    (ANON, "preview", "-", SIGNED_OUT),
    (WRITER, "preview", "-", PAGE),
    (EDITOR, "preview", "-", PAGE),
    (ADMIN, "preview", "-", PAGE),
    (DEACTIVATED, "preview", "-", SIGNED_OUT),
    (ANON, "checks new", "-", SIGNED_OUT),
    (WRITER, "checks new", "-", PAGE),
    (EDITOR, "checks new", "-", PAGE),
    (DEACTIVATED, "checks new", "-", SIGNED_OUT),
    (ANON, "autosave new", "-", SIGNED_OUT),
    (WRITER, "autosave new", "-", ANSWERED),
    (EDITOR, "autosave new", "-", ANSWERED),
    (DEACTIVATED, "autosave new", "-", SIGNED_OUT),
    # The slug check only says whether an address is free, for anyone in the newsroom.
    (ANON, "slug check", "draft", SIGNED_OUT),
    (OWN, "slug check", "draft", PAGE),
    (OTHER, "slug check", "draft", PAGE),
    (EDITOR, "slug check", "draft", PAGE),
    (ADMIN, "slug check", "draft", PAGE),
    (DEACTIVATED, "slug check", "draft", SIGNED_OUT),
    # The article form: writers open their own articles until they are published.
    (ANON, "edit form", "draft", SIGNED_OUT),
    (OWN, "edit form", "draft", PAGE),
    (OWN, "edit form", "review", PAGE),
    (OWN, "edit form", "published", FORBIDDEN),
    (OWN, "edit form", "scheduled", FORBIDDEN),
    (OWN, "edit form", "trash", PAGE),
    (OTHER, "edit form", "draft", FORBIDDEN),
    (OTHER, "edit form", "review", FORBIDDEN),
    (OTHER, "edit form", "published", FORBIDDEN),
    (OTHER, "edit form", "trash", FORBIDDEN),
    (EDITOR, "edit form", "draft", PAGE),
    (EDITOR, "edit form", "review", PAGE),
    (EDITOR, "edit form", "published", PAGE),
    (EDITOR, "edit form", "scheduled", PAGE),
    (EDITOR, "edit form", "trash", PAGE),
    (ADMIN, "edit form", "published", PAGE),
    (DEACTIVATED, "edit form", "draft", SIGNED_OUT),
    # Saving the form; an article in the trash is not saved (its text is shown back).
    (ANON, "save", "draft", SIGNED_OUT),
    (OWN, "save", "draft", DONE),
    (OWN, "save", "review", DONE),
    (OWN, "save", "published", FORBIDDEN),
    (OWN, "save", "scheduled", FORBIDDEN),
    (OWN, "save", "trash", CONFLICT),
    (OTHER, "save", "draft", FORBIDDEN),
    (OTHER, "save", "review", FORBIDDEN),
    (OTHER, "save", "published", FORBIDDEN),
    (OTHER, "save", "trash", FORBIDDEN),
    (EDITOR, "save", "draft", DONE),
    (EDITOR, "save", "review", DONE),
    (EDITOR, "save", "published", DONE),
    (EDITOR, "save", "scheduled", DONE),
    (EDITOR, "save", "trash", CONFLICT),
    (ADMIN, "save", "published", DONE),
    (DEACTIVATED, "save", "draft", SIGNED_OUT),
    # Submitting, publishing, scheduling and featuring through the form.
    (ANON, "submit", "draft", SIGNED_OUT),
    (OWN, "submit", "draft", DONE),
    (OTHER, "submit", "draft", FORBIDDEN),
    (EDITOR, "submit", "draft", DONE),
    (DEACTIVATED, "submit", "draft", SIGNED_OUT),
    (ANON, "publish", "review", SIGNED_OUT),
    (OWN, "publish", "draft", REFUSED),
    (OWN, "publish", "review", REFUSED),
    (OTHER, "publish", "review", FORBIDDEN),
    (EDITOR, "publish", "draft", DONE),
    (EDITOR, "publish", "review", DONE),
    (ADMIN, "publish", "review", DONE),
    (DEACTIVATED, "publish", "review", SIGNED_OUT),
    (ANON, "schedule", "review", SIGNED_OUT),
    (OWN, "schedule", "draft", REFUSED),
    (OWN, "schedule", "review", REFUSED),
    (OTHER, "schedule", "review", FORBIDDEN),
    (EDITOR, "schedule", "review", DONE),
    (EDITOR, "schedule", "published", DONE),
    (ADMIN, "schedule", "draft", DONE),
    (DEACTIVATED, "schedule", "review", SIGNED_OUT),
    (ANON, "feature", "published", SIGNED_OUT),
    (OWN, "feature", "draft", REFUSED),
    (OWN, "feature", "review", REFUSED),
    (OTHER, "feature", "draft", FORBIDDEN),
    (EDITOR, "feature", "draft", DONE),
    (EDITOR, "feature", "published", DONE),
    (ADMIN, "feature", "published", DONE),
    (DEACTIVATED, "feature", "published", SIGNED_OUT),
    # Unpublishing: editors and admins, of published and scheduled articles.
    (ANON, "unpublish", "published", SIGNED_OUT),
    (OWN, "unpublish", "draft", FORBIDDEN),
    (OWN, "unpublish", "published", FORBIDDEN),
    (OWN, "unpublish", "scheduled", FORBIDDEN),
    (OTHER, "unpublish", "published", FORBIDDEN),
    (EDITOR, "unpublish", "published", DONE),
    (EDITOR, "unpublish", "scheduled", DONE),
    (EDITOR, "unpublish", "draft", NOTHING_TO_DO),
    (EDITOR, "unpublish", "trash", NOTHING_TO_DO),
    (ADMIN, "unpublish", "published", DONE),
    (DEACTIVATED, "unpublish", "published", SIGNED_OUT),
    # The trash: writers move their own unpublished articles there and back.
    (ANON, "trash form", "draft", SIGNED_OUT),
    (OWN, "trash form", "draft", PAGE),
    (OWN, "trash form", "published", FORBIDDEN),
    (OWN, "trash form", "scheduled", FORBIDDEN),
    (OWN, "trash form", "trash", NOTHING_TO_DO),
    (OTHER, "trash form", "draft", FORBIDDEN),
    (EDITOR, "trash form", "published", PAGE),
    (ADMIN, "trash form", "draft", PAGE),
    (DEACTIVATED, "trash form", "draft", SIGNED_OUT),
    (ANON, "trash", "draft", SIGNED_OUT),
    (OWN, "trash", "draft", DONE),
    (OWN, "trash", "review", DONE),
    (OWN, "trash", "published", FORBIDDEN),
    (OWN, "trash", "scheduled", FORBIDDEN),
    (OWN, "trash", "trash", NOTHING_TO_DO),
    (OTHER, "trash", "draft", FORBIDDEN),
    (OTHER, "trash", "review", FORBIDDEN),
    (OTHER, "trash", "published", FORBIDDEN),
    (EDITOR, "trash", "published", DONE),
    (EDITOR, "trash", "scheduled", DONE),
    (ADMIN, "trash", "draft", DONE),
    (DEACTIVATED, "trash", "draft", SIGNED_OUT),
    (ANON, "restore", "trash", SIGNED_OUT),
    (OWN, "restore", "trash", DONE),
    (OWN, "restore", "draft", NOTHING_TO_DO),
    (OTHER, "restore", "trash", FORBIDDEN),
    (EDITOR, "restore", "trash", DONE),
    (EDITOR, "restore", "draft", NOTHING_TO_DO),
    (ADMIN, "restore", "trash", DONE),
    (DEACTIVATED, "restore", "trash", SIGNED_OUT),
    # Deleting for good: admins only, and only from the trash.
    (ANON, "purge form", "trash", SIGNED_OUT),
    (OWN, "purge form", "trash", FORBIDDEN),
    (OTHER, "purge form", "trash", FORBIDDEN),
    (EDITOR, "purge form", "trash", FORBIDDEN),
    (ADMIN, "purge form", "trash", PAGE),
    (ADMIN, "purge form", "draft", NOTHING_TO_DO),
    (DEACTIVATED, "purge form", "trash", SIGNED_OUT),
    (ANON, "purge", "trash", SIGNED_OUT),
    (OWN, "purge", "trash", FORBIDDEN),
    (OTHER, "purge", "trash", FORBIDDEN),
    (EDITOR, "purge", "trash", FORBIDDEN),
    (ADMIN, "purge", "trash", DONE),
    (ADMIN, "purge", "published", NOTHING_TO_DO),
    (DEACTIVATED, "purge", "trash", SIGNED_OUT),
    # History: writers see it for their own articles while they may edit them.
    (ANON, "history", "draft", SIGNED_OUT),
    (OWN, "history", "draft", PAGE),
    (OWN, "history", "review", PAGE),
    (OWN, "history", "published", FORBIDDEN),
    (OWN, "history", "scheduled", FORBIDDEN),
    (OWN, "history", "trash", PAGE),
    (OTHER, "history", "draft", FORBIDDEN),
    (OTHER, "history", "review", FORBIDDEN),
    (OTHER, "history", "published", FORBIDDEN),
    (EDITOR, "history", "draft", PAGE),
    (EDITOR, "history", "published", PAGE),
    (ADMIN, "history", "scheduled", PAGE),
    (DEACTIVATED, "history", "draft", SIGNED_OUT),
    (ANON, "restore revision", "draft", SIGNED_OUT),
    (OWN, "restore revision", "draft", DONE),
    (OWN, "restore revision", "review", DONE),
    (OWN, "restore revision", "published", FORBIDDEN),
    (OWN, "restore revision", "trash", CONFLICT),
    (OTHER, "restore revision", "draft", FORBIDDEN),
    (OTHER, "restore revision", "review", FORBIDDEN),
    (OTHER, "restore revision", "published", FORBIDDEN),
    (EDITOR, "restore revision", "published", DONE),
    (EDITOR, "restore revision", "scheduled", DONE),
    (EDITOR, "restore revision", "trash", CONFLICT),
    (ADMIN, "restore revision", "draft", DONE),
    (DEACTIVATED, "restore revision", "draft", SIGNED_OUT),
    # Corrections and updates: editors, on published articles.
    (ANON, "note form", "published", SIGNED_OUT),
    (OWN, "note form", "published", FORBIDDEN),
    (OTHER, "note form", "published", FORBIDDEN),
    (EDITOR, "note form", "published", PAGE),
    (EDITOR, "note form", "draft", CONFLICT),
    (ADMIN, "note form", "published", PAGE),
    (DEACTIVATED, "note form", "published", SIGNED_OUT),
    (ANON, "add note", "published", SIGNED_OUT),
    (OWN, "add note", "published", FORBIDDEN),
    (OWN, "add note", "draft", FORBIDDEN),
    (OTHER, "add note", "published", FORBIDDEN),
    (EDITOR, "add note", "published", DONE),
    (EDITOR, "add note", "draft", CONFLICT),
    (EDITOR, "add note", "scheduled", CONFLICT),
    (EDITOR, "add note", "trash", CONFLICT),
    (ADMIN, "add note", "published", DONE),
    (DEACTIVATED, "add note", "published", SIGNED_OUT),
    # Old addresses: editors remove them, also of an article that is a draft again.
    (ANON, "remove redirect", "published", SIGNED_OUT),
    (OWN, "remove redirect", "draft", FORBIDDEN),
    (OWN, "remove redirect", "published", FORBIDDEN),
    (OTHER, "remove redirect", "published", FORBIDDEN),
    (EDITOR, "remove redirect", "published", DONE),
    (EDITOR, "remove redirect", "draft", DONE),
    (ADMIN, "remove redirect", "published", DONE),
    (DEACTIVATED, "remove redirect", "published", SIGNED_OUT),
    # Autosave and the publish checks of an article: only for those who may edit it.
    (ANON, "autosave", "draft", SIGNED_OUT),
    (OWN, "autosave", "draft", ANSWERED),
    (OWN, "autosave", "review", ANSWERED),
    (OWN, "autosave", "published", NOT_KEPT),
    (OWN, "autosave", "scheduled", NOT_KEPT),
    (OWN, "autosave", "trash", NOT_KEPT),
    (OTHER, "autosave", "draft", NOT_KEPT),
    (OTHER, "autosave", "review", NOT_KEPT),
    (OTHER, "autosave", "published", NOT_KEPT),
    (EDITOR, "autosave", "published", ANSWERED),
    (EDITOR, "autosave", "trash", NOT_KEPT),
    (ADMIN, "autosave", "draft", ANSWERED),
    (DEACTIVATED, "autosave", "draft", SIGNED_OUT),
    (ANON, "discard autosave", "draft", SIGNED_OUT),
    (OWN, "discard autosave", "draft", DONE),
    (OWN, "discard autosave", "published", FORBIDDEN),
    (OTHER, "discard autosave", "draft", FORBIDDEN),
    (EDITOR, "discard autosave", "published", DONE),
    (ADMIN, "discard autosave", "draft", DONE),
    (DEACTIVATED, "discard autosave", "draft", SIGNED_OUT),
    (ANON, "checks", "draft", SIGNED_OUT),
    (OWN, "checks", "draft", PAGE),
    (OWN, "checks", "review", PAGE),
    (OWN, "checks", "published", NOT_CHECKED),
    (OTHER, "checks", "draft", NOT_CHECKED),
    (OTHER, "checks", "published", NOT_CHECKED),
    (EDITOR, "checks", "published", PAGE),
    (ADMIN, "checks", "draft", PAGE),
    (DEACTIVATED, "checks", "draft", SIGNED_OUT),
    # The media library: everyone in the newsroom finds, uploads and describes images; editors
    # delete them, unless an article shows one (with an article's state, it is that one's hero).
    *[
        (role, action, "-", SIGNED_OUT if role in (ANON, DEACTIVATED) else outcome)
        for action, outcome in (
            ("media library", PAGE),
            ("upload image", DONE),
            ("media grid", PAGE),
            ("hero choices", PAGE),
            ("media card", PAGE),
            ("media card form", PAGE),
            ("describe image form", PAGE),
            ("describe image", DONE),
        )
        for role in (ANON, WRITER, EDITOR, ADMIN, DEACTIVATED)
    ],
    (ANON, "delete image form", "-", SIGNED_OUT),
    (WRITER, "delete image form", "-", FORBIDDEN),
    (EDITOR, "delete image form", "-", PAGE),
    (EDITOR, "delete image form", "published", PAGE),
    (ADMIN, "delete image form", "-", PAGE),
    (DEACTIVATED, "delete image form", "-", SIGNED_OUT),
    (ANON, "delete image", "-", SIGNED_OUT),
    (WRITER, "delete image", "-", FORBIDDEN),
    (OWN, "delete image", "draft", FORBIDDEN),
    (EDITOR, "delete image", "-", DONE),
    (EDITOR, "delete image", "published", CONFLICT),
    (EDITOR, "delete image", "trash", CONFLICT),
    (ADMIN, "delete image", "-", DONE),
    (ADMIN, "delete image", "draft", CONFLICT),
    (DEACTIVATED, "delete image", "-", SIGNED_OUT),
    # People and the audit log: admins only.
    *[
        (role, action, "-", SIGNED_OUT if role in (ANON, DEACTIVATED) else FORBIDDEN)
        for action in (
            "people",
            "add person form",
            "add person",
            "change role",
            "deactivate",
            "reactivate",
            "reset password",
            "profile form",
            "edit profile",
            "audit log",
        )
        for role in (ANON, WRITER, EDITOR, DEACTIVATED)
    ],
    (ADMIN, "people", "-", PAGE),
    (ADMIN, "add person form", "-", PAGE),
    (ADMIN, "add person", "-", ANSWERED),
    (ADMIN, "change role", "-", DONE),
    (ADMIN, "deactivate", "-", DONE),
    (ADMIN, "reactivate", "-", DONE),
    (ADMIN, "reset password", "-", ANSWERED),
    (ADMIN, "profile form", "-", PAGE),
    (ADMIN, "edit profile", "-", DONE),
    (ADMIN, "audit log", "-", PAGE),
    # Everyone in the newsroom edits their own profile; editors order the navigation.
    *[
        (role, action, "-", SIGNED_OUT if role in (ANON, DEACTIVATED) else outcome)
        for action, outcome in (("own profile form", PAGE), ("edit own profile", DONE))
        for role in (ANON, WRITER, EDITOR, ADMIN, DEACTIVATED)
    ],
    *[
        (role, action, "-", outcome)
        for action, allowed in (("sections", PAGE), ("move section", DONE), ("hide section", DONE))
        for role, outcome in (
            (ANON, SIGNED_OUT),
            (WRITER, FORBIDDEN),
            (EDITOR, allowed),
            (ADMIN, allowed),
            (DEACTIVATED, SIGNED_OUT),
        )
    ],
    # Signing in and out. A deactivated account cannot sign in again.
    (ANON, "sign-in form", "-", PAGE),
    (WRITER, "sign-in form", "-", TO_DASHBOARD),
    (EDITOR, "sign-in form", "-", TO_DASHBOARD),
    (ADMIN, "sign-in form", "-", TO_DASHBOARD),
    (DEACTIVATED, "sign-in form", "-", PAGE),
    (ANON, "sign in", "-", DONE),
    (WRITER, "sign in", "-", DONE),
    (EDITOR, "sign in", "-", DONE),
    (ADMIN, "sign in", "-", DONE),
    (DEACTIVATED, "sign in", "-", REFUSED),
    (ANON, "sign out", "-", TO_FRONT_PAGE),
    (WRITER, "sign out", "-", TO_FRONT_PAGE),
    (EDITOR, "sign out", "-", TO_FRONT_PAGE),
    (ADMIN, "sign out", "-", TO_FRONT_PAGE),
    (DEACTIVATED, "sign out", "-", TO_FRONT_PAGE),
    (ANON, "sign out everywhere", "-", SIGNED_OUT),
    (WRITER, "sign out everywhere", "-", DONE),
    (EDITOR, "sign out everywhere", "-", DONE),
    (ADMIN, "sign out everywhere", "-", DONE),
    (DEACTIVATED, "sign out everywhere", "-", SIGNED_OUT),
    # A set-password link works for whoever holds it, until its member is deactivated.
    (ANON, "set-password form", "new member's link", PAGE),
    (WRITER, "set-password form", "new member's link", PAGE),
    (EDITOR, "set-password form", "new member's link", PAGE),
    (ADMIN, "set-password form", "new member's link", PAGE),
    (DEACTIVATED, "set-password form", "own link", LINK_ENDED),
    (ANON, "set password", "new member's link", DONE),
    (WRITER, "set password", "new member's link", DONE),
    (EDITOR, "set password", "new member's link", DONE),
    (ADMIN, "set password", "new member's link", DONE),
    (DEACTIVATED, "set password", "own link", LINK_ENDED),
]


def case_id(role: str, action: str, state: str) -> str:
    """``editor/unpublish/scheduled``."""
    return "/".join(part.replace(" ", "-").replace("'", "") for part in (role, action, state))


def cases() -> list[Any]:
    """MATRIX as pytest parameters."""
    return [
        pytest.param(role, action, state, expected, id=case_id(role, action, state))
        for role, action, state, expected in MATRIX
    ]


# --- setting a case up --------------------------------------------------------------------------


def snapshot(app: Flask) -> Snapshot:
    """Every row of every table, in key order."""
    with app.app_context():
        return {
            table.name: [
                dict(row._mapping)
                for row in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


@cache
def password_hash() -> str:
    """The hash of the test password, made once: a hash costs a tenth of a second."""
    return generate_password_hash(PASSWORD)


def add_member(app: Flask, username: str, role: str, active: bool = True) -> User:
    """A member of the newsroom with the test password."""
    with app.app_context():
        user = User(
            username=username,
            display_name=username.title(),
            role=role,
            active=active,
            password_hash=password_hash(),
        )
        user.end_sessions()  # a session token of its own, as every account gets
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def add_image(app: Flask, hero_of: int) -> int:
    """An image of the library, the hero of article ``hero_of`` when there is one; its id."""
    with app.app_context():
        image = MediaItem(name=f"{'0' * 31}1.jpg", width=32, height=24, alt="Gulls")
        db.session.add(image)
        if hero_of:
            # Not through the ORM: the article's version stays as the case wrote it.
            db.session.execute(
                sa.update(Article).where(Article.id == hero_of).values(hero_image=image.name)
            )
        db.session.commit()
        return image.id


def add_sections(app: Flask) -> int:
    """Two sections in the navigation; the first one's id."""
    with app.app_context():
        first = Section(name="Local", slug="local")
        db.session.add_all([first, Section(name="Sport", slug="sport")])
        db.session.commit()
        return first.id


def sign_in(client: FlaskClient, username: str) -> None:
    """Sign ``client`` in through the form."""
    token = csrf_token(client, "/auth/login")
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    assert client.post("/auth/login", data=data).status_code == 303


def write_article(
    app: Flask, make_article: Callable[..., Article], author: User, state: str
) -> World:
    """The author's article in ``state``, with two revisions and an old address."""
    now = utcnow()
    fields: dict[str, Any] = {
        "draft": {"status": "draft", "published_at": None},
        "review": {"status": "review", "published_at": None},
        "published": {"status": "published"},
        "scheduled": {"status": "published", "published_at": now + timedelta(days=1)},
        "trash": {"status": "draft", "published_at": None, "deleted_at": now},
    }[state]
    made = make_article(
        EARLIER_HEADLINE,
        slug="council-budget",
        summary="The vote, and what it pays for.",
        body=body_for(HEADLINE),
        author_id=author.id,
        **fields,
    )
    with app.app_context():
        article = db.session.get(Article, made.id)
        writer = db.session.get(User, author.id)
        first = keep_revision(article, writer)
        article.title = HEADLINE
        keep_revision(article, writer)
        redirect = SlugRedirect(old_slug="council-vote", article=article)
        db.session.add(redirect)
        db.session.commit()
        return World(
            article_id=article.id,
            version=article.version,
            status=article.status,
            revision_id=first.id,
            redirect_id=redirect.id,
            tomorrow=f"{local(now + timedelta(days=1)):%Y-%m-%dT%H:%M}",
        )


def set_up(
    app: Flask,
    client: FlaskClient,
    make_article: Callable[..., Article],
    role: str,
    action: str,
    state: str,
) -> World:
    """Make the people and the article of a case and sign its person in."""
    world, author = World(), None
    if state in ARTICLE_STATES:
        author = add_member(app, "ana", "writer")
        world = write_article(app, make_article, author, state)
    if action in ON_TARGET:
        world.target_id = add_member(app, "target", "writer", active=action != "reactivate").id
    if ACTIONS[action].rule.startswith(MEDIA_ITEM):
        world.media_id = add_image(app, hero_of=world.article_id)
    if ACTIONS[action].rule.startswith(SECTION):
        world.section_id = add_sections(app)
    actor = None
    if role != ANON:
        username, account_role = ACCOUNTS[role]
        actor = author if role == OWN else add_member(app, username, account_role)
        world.actor_id, world.actor_name = actor.id, actor.username
        sign_in(client, actor.username)
    world.token = csrf_token(client, "/editor/articles/new" if actor else "/auth/login")
    if action in ("set-password form", "set password"):
        with app.test_request_context():
            linked = db.session.get(
                User, world.actor_id if state == "own link" else world.target_id
            )
            world.link = urlsplit(set_password_url(linked)).path
    with app.app_context():
        if action == "discard autosave" and actor is not None:
            copy = {"body": TYPED}
            db.session.add(
                Autosave(user_id=actor.id, article_id=world.article_id, base_version=1, fields=copy)
            )
        if role == DEACTIVATED:
            # Only the flag: the session itself is left as it was.
            db.session.execute(sa.update(User).where(User.id == actor.id).values(active=False))
        db.session.commit()
    return world


def send(client: FlaskClient, action: Action, world: World) -> TestResponse:
    """Make the request as the page would: a form with its token, or htmx with the header."""
    path = action.path(world)
    headers = {}
    if action.kind == "htmx":
        headers = {
            "HX-Request": "true",
            "HX-Current-URL": "http://localhost/editor/articles/new",
            "X-CSRFToken": world.token,
        }
    if action.method == "GET":
        return client.get(path, headers=headers)
    data = action.data(world)
    if action.kind == "form":
        data = {"csrf_token": world.token, **data}
    return client.post(path, data=data, headers=headers)


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "action", "state", "expected"), cases())
def test_role_action_state(
    app: Flask,
    client: FlaskClient,
    make_article: Callable[..., Article],
    role: str,
    action: str,
    state: str,
    expected: Outcome,
) -> None:
    todo = ACTIONS[action]
    world = set_up(app, client, make_article, role, action, state)
    if expected is SIGNED_OUT:
        expected = signed_out(todo.kind)
    before = snapshot(app)

    response = send(client, todo, world)

    after = snapshot(app)
    assert response.status_code == expected.status, response.text[:2000]
    if expected.text is not None:
        assert expected.text in response.text
    if expected.absent is not None:
        assert expected.absent not in response.text
    if expected.location is not None:
        assert response.headers["Location"].startswith(expected.location)
    if expected.signed_out and todo.kind == "htmx":
        assert response.headers["HX-Retarget"] == "#session-notice"
        assert "You were signed out" in response.text
    elif expected.signed_out and todo.kind == "form":
        assert 'action="/auth/login?next=' in response.text
    if expected.changes:
        assert after != before
        assert todo.effect(before, after, world), "the change it names was not made"
    else:
        assert after == before, "refused or read-only, yet the database changed"


def newsroom_routes(app: Flask) -> set[tuple[str, str]]:
    """Every (rule, method) under /editor, /admin and /auth."""
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/editor/", "/admin/", "/auth/"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_the_matrix_tries_every_newsroom_route_with_every_role(app: Flask) -> None:
    routes = newsroom_routes(app)
    tried: dict[tuple[str, str], set[str]] = {}
    for role, action, _state, _expected in MATRIX:
        route = (ACTIONS[action].rule, ACTIONS[action].method)
        tried.setdefault(route, set()).add("writer" if role.startswith("writer") else role)
    assert sorted(routes - tried.keys()) == [], "routes missing from MATRIX"
    assert sorted(tried.keys() - routes) == [], "MATRIX names routes that no longer exist"
    everyone = {ANON, WRITER, EDITOR, ADMIN, DEACTIVATED}
    untried = {
        route: sorted(everyone - roles) for route, roles in tried.items() if roles != everyone
    }
    assert untried == {}, "routes not tried by every role"


def test_every_action_is_in_the_matrix_once_per_role_and_state() -> None:
    keys = [(role, action, state) for role, action, state, _expected in MATRIX]
    assert len(keys) == len(set(keys))
    assert {action for _role, action, _state, _expected in MATRIX} == ACTIONS.keys()

"""Test vocabulary: an app on a throwaway database, clients, sign-in, and data factories."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import flask_migrate
import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug import security

from blog import auth as auth_module
from blog import create_app, models
from blog.database import MIGRATIONS
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, Section, Tag, User

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with a thousand PBKDF2 rounds instead of scrypt: tests sign in thousands of times."""
    quick = functools.partial(security.generate_password_hash, method="pbkdf2:sha256:1000")
    for module in (models, auth_module):
        monkeypatch.setattr(module, "generate_password_hash", quick)


def app_on(database: Path, media: Path, uri: str | None = None) -> Flask:
    """An app for tests on the SQLite file ``database`` (or the database at ``uri``, its
    content stamp beside ``database``), with CSRF on.
    """
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": uri or f"sqlite:///{database}",
            "MEDIA_DIR": str(media),
            "CACHE_STAMP_FILE": str(database.with_suffix(".stamp")),
        }
    )


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database made by the migrations, once per run, for each test to copy."""
    folder = tmp_path_factory.mktemp("migrated")
    app = app_on(folder / "empty.db", folder / "media")
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        db.engine.dispose()  # the last connection folds the write-ahead log into the file
    return folder / "empty.db"


def app_at_revision(folder: Path, revision: str) -> Flask:
    """An app on a new database in ``folder`` upgraded as far as ``revision`` only, as a site
    that has not yet taken the later migrations.
    """
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'old.db'}",
            "CACHE_STAMP_FILE": str(folder / "old.stamp"),
        }
    )
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision=revision)
    return app


@pytest.fixture
def sqlite_app(tmp_path: Path, migrated_database: Path) -> Iterator[Flask]:
    """An app on a new SQLite database made by the migrations, with CSRF on."""
    shutil.copyfile(migrated_database, tmp_path / "test.db")
    app = app_on(tmp_path / "test.db", tmp_path / "media")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Flask:
    """An app on an empty database made by the migrations, with CSRF on: SQLite, or
    PostgreSQL when ``TEST_DATABASE_URL`` names a server, unless the test is marked ``sqlite``.
    """
    return request.getfixturevalue("postgres_app" if _on_postgres(request) else "sqlite_app")


def _on_postgres(request: pytest.FixtureRequest) -> bool:
    """Whether the test's sites run on PostgreSQL."""
    return ON_POSTGRES and not request.node.get_closest_marker("sqlite")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Runs ``flask`` commands against the test app."""
    return app.test_cli_runner()


class HtmxClient:
    """A test client whose requests carry htmx's headers."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers={"HX-Request": "true"}, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.client.post(url, headers=headers, **kwargs)


@pytest.fixture
def hx(client: FlaskClient) -> HtmxClient:
    """The same client, sending htmx's request headers."""
    return HtmxClient(client)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user: ``make_user("ed", role="editor")``."""

    def make(username: str = "writer", role: str = "writer", **fields: Any) -> User:
        with app.app_context():
            user = User(
                username=username,
                display_name=fields.pop("display_name", username.title()),
                role=role,
                **fields,
            )
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def make_article(app: Flask, make_user: Callable[..., User]) -> Callable[..., Article]:
    """Create a rendered article; published an hour ago unless told otherwise."""
    counter = iter(range(1, 10_000))

    def make(title: str | None = None, **fields: Any) -> Article:
        n = next(counter)
        with app.app_context():
            author_id = fields.pop("author_id", None)
            if author_id is None:
                author = db.session.scalar(db.select(User).filter_by(username="reporter"))
                author_id = author.id if author else make_user("reporter", role="writer").id
            section = fields.pop("section", None)
            tags = fields.pop("tags", [])
            article = Article(
                title=title or f"Article {n}",
                slug=fields.pop("slug", None) or f"article-{n}",
                body=fields.pop(
                    "body", f"Body of article {n}.\n\n## First\n\nText.\n\n## Second\n\nMore."
                ),
                author_id=author_id,
                status=fields.pop("status", "published"),
                published_at=fields.pop("published_at", utcnow() - timedelta(hours=1, minutes=n)),
                **fields,
            )
            if section:
                article.section = Section.named(section)
            article.tags = [Tag.named(name) for name in tags]
            article.render()
            db.session.add(article)
            db.session.commit()
            db.session.refresh(article)
            db.session.expunge(article)
            return article

    return make


class Auth:
    """Sign in and out through the real form."""

    def __init__(self, client: FlaskClient, make_user: Callable[..., User]):
        self.client = client
        self.make_user = make_user

    def login(self, role: str = "editor", username: str | None = None) -> User:
        user = self.make_user(username or role, role=role)
        token = csrf_token(self.client, "/auth/login")
        response = self.client.post(
            "/auth/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 303, response.text
        return user


@pytest.fixture
def auth(client: FlaskClient, make_user: Callable[..., User]) -> Auth:
    """Sign the client in: ``auth.login("writer")``."""
    return Auth(client, make_user)


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token printed in the form at ``url``."""
    page = client.get(url).text
    match = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def every_row(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the models, in the order of their keys: to compare a
    database before and after, or with another.
    """
    with app.app_context():
        return {
            table.name: [
                dict(row)
                for row in db.session.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in db.metadata.sorted_tables
        }


def body_for(title: str) -> str:
    """A long body that can be told complete from its title alone."""
    return "\n\n".join(f"Paragraph {n} of {title}. " + "Words " * 200 for n in range(8))


# The suite runs on SQLite unless TEST_DATABASE_URL names a PostgreSQL server; tests of what
# only PostgreSQL has use that server, or the local one.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
POSTGRES_SERVER = sa.make_url(
    TEST_DATABASE_URL if ON_POSTGRES else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _missing(reason: str, required: bool = False) -> NoReturn:
    """Skip a test whose server is missing, or fail it where the servers must be there."""
    if required or os.environ.get("DATELINE_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the test server, dropped afterwards.

    Tests that use one skip when the server cannot be reached, and fail instead when
    ``DATELINE_REQUIRE_SERVICES=1`` (as in CI).
    """
    admin = sa.create_engine(
        POSTGRES_SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"dateline_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = f"no PostgreSQL server at {POSTGRES_SERVER.render_as_string()}: {error.orig}"
        _missing(reason, required=ON_POSTGRES)
    try:
        yield POSTGRES_SERVER.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _migrated_postgres(folder: Path) -> Iterator[str]:
    """A throwaway PostgreSQL database made by the migrations, for a whole run."""
    with throwaway_postgres() as url:
        app = app_on(folder / "postgres", folder / "media", uri=url)
        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS))
            db.engine.dispose()
        yield url


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a PostgreSQL database made by the migrations, shared by the run's tests."""
    yield from _migrated_postgres(tmp_path_factory.mktemp("postgres"))


@pytest.fixture(scope="session")
def other_postgres_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second such database, for a second site beside the first."""
    yield from _migrated_postgres(tmp_path_factory.mktemp("other-postgres"))


def _emptied_postgres_app(folder: Path, url: str) -> Iterator[Flask]:
    """An app on the migrated PostgreSQL database at ``url``, emptied of earlier tests' rows."""
    app = app_on(folder / "postgres", folder / "media", uri=url)
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.session.execute(sa.text(f"TRUNCATE {', '.join(sorted(tables))} RESTART IDENTITY"))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def postgres_app(tmp_path: Path, postgres_database: str) -> Iterator[Flask]:
    """An app on the migrated PostgreSQL database, emptied of the previous test's rows."""
    yield from _emptied_postgres_app(tmp_path, postgres_database)


@pytest.fixture
def postgres_client(postgres_app: Flask) -> FlaskClient:
    """A browser-like test client of the app on PostgreSQL."""
    return postgres_app.test_client()


@pytest.fixture
def other_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """A second, empty site beside ``app``: its own database and media folder."""
    folder = tmp_path / "other"
    folder.mkdir()
    if _on_postgres(request):
        yield from _emptied_postgres_app(folder, request.getfixturevalue("other_postgres_database"))
        return
    shutil.copyfile(request.getfixturevalue("migrated_database"), folder / "test.db")
    app = app_on(folder / "test.db", folder / "media")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The URL of an emptied Redis database (``TEST_REDIS_URL``, by default number 15 on the
    local server), emptied again afterwards.
    """
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        client.close()
        _missing(f"no Redis server at {url}: {error}")
    yield url
    client.flushdb()
    client.close()

"""Scale-out: two app servers on one PostgreSQL database, one Redis and one media folder."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from bench.demo_site import (
    HOST,
    flask_command,
    free_port,
    site_env,
    start_server,
    stop_server,
    tail,
)
from tests.conftest import body_for, csrf_token, throwaway_postgres
from tests.test_durability import Reply, WebClient

pytestmark = pytest.mark.server

WORKERS = 2  # per instance: pages kept by one worker must reach the other instance's workers
EDITOR = "desk"
PASSWORD = secrets.token_urlsafe(24)
SEARCHED = "quillwater"  # a word only the second article has
# Reader pages that list the newest articles, and so the one just published.
PAGES = [
    "/",
    "/latest",
    "/featured",
    "/sidebars/latest",
    "/sidebars/featured",
    "/sections/local",
    "/tags/council",
    f"/authors/{EDITOR}",
    "/feed.xml",
    "/feed.rss",
    "/sections/local/feed.xml",
    "/tags/council/feed.xml",
    f"/authors/{EDITOR}/feed.xml",
    "/sitemap.xml",
    "/sitemaps/news.xml",
    f"/search?q={SEARCHED}",
    f"/search/results?q={SEARCHED}",
]
NO_TITLES = {"/sitemap.xml"}  # lists addresses only


@dataclass(frozen=True)
class Instance:
    """One gunicorn serving the site, and its log."""

    name: str
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://{HOST}:{self.port}"

    def client(self) -> WebClient:
        """A new browser without cookies: a reader."""
        return WebClient(self.url)


@dataclass(frozen=True)
class Site:
    """Two instances of one site, and the Redis they share."""

    a: Instance
    b: Instance
    redis_url: str

    def logs(self) -> str:
        """The end of both servers' logs, to show with a failure."""
        return "\n".join(f"--- {i.name}'s log:\n{tail(i.log)}" for i in (self.a, self.b))


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    """Two gunicorns with two workers each on one database, Redis, media folder and key.

    Each keeps its own content-stamp file, as separate machines would: only Redis joins them.
    """
    with throwaway_postgres() as database:
        env = site_env(tmp_path, "shared") | {
            "FLASK_SQLALCHEMY_DATABASE_URI": database,
            "FLASK_CACHE_REDIS_URL": redis_url,
            "FLASK_RATELIMIT_STORAGE_URI": redis_url,
            "FLASK_MEDIA_STORAGE": "shared",
        }
        flask_command(env, "init-db")
        flask_command(env, "create-user", EDITOR, "--role", "editor", f"--password={PASSWORD}")
        ports: set[int] = set()
        while len(ports) < 2:
            ports.add(free_port())
        instances = [
            Instance(name, port, tmp_path / f"{name}.log")
            for name, port in zip("AB", ports, strict=True)
        ]
        started = Site(*instances, redis_url=redis_url)
        servers = []
        try:
            for instance in instances:
                own = env | {"FLASK_CACHE_STAMP_FILE": str(tmp_path / f"{instance.name}.stamp")}
                servers.append(start_server(own, instance.port, WORKERS, instance.log))
            yield started
        finally:
            for server in servers:
                stop_server(server)
            print(started.logs())  # pytest shows it when the test fails


def sign_in(client: WebClient, password: str = PASSWORD, username: str = EDITOR) -> Reply:
    """Post the real sign-in form."""
    data = {"username": username, "password": password}
    return client.post("/auth/login", data | {"csrf_token": csrf_token(client, "/auth/login")})


def article_form(client: WebClient, url: str, title: str, body: str) -> dict[str, str]:
    """The editor form at ``url`` filled in for a featured article published now."""
    version = re.search(r'name="version" type="hidden" value="(\d+)"', client.get(url).text)
    return {
        "csrf_token": csrf_token(client, url),
        "title": title,
        "summary": "",
        "dateline": "Millbrook",
        "body": body,
        "section": "Local",
        "tags": "council, river",
        "featured": "y",
        "status": "published",
        "published_at": "",
        **({"version": version.group(1)} if version else {}),
    }


def publish(client: WebClient, title: str, body: str) -> str:
    """Publish a new article through the editor form; its edit page's path."""
    form = article_form(client, "/editor/articles/new", title, body)
    reply = client.post("/editor/articles/new", form)
    assert reply.status_code == 303, reply.text
    return reply.headers["Location"]


def kept_pages(site: Site, instance: Instance) -> set[str]:
    """The paths of the pages ``instance`` has kept in the shared cache."""
    store = redis.Redis.from_url(site.redis_url)
    with store:
        keys = [key.decode() for key in store.scan_iter(match="*page:*", count=1000)]
    prefix = f"{HOST}:{instance.port}"
    found = (re.search(rf"//{re.escape(prefix)}([^?]*)\?([^:]*):", key) for key in keys)
    return {f"{m[1]}?{m[2]}".rstrip("?") for m in found if m}


def missing(instance: Instance, pages: list[str], text: str) -> list[str]:
    """The pages a reader of ``instance`` gets without ``text`` in them, or not at all."""
    reader = instance.client()
    wrong = []
    for path in pages:
        reply = reader.get(path)
        if reply.status_code != 200 or text not in reply.text:
            wrong.append(f"{instance.name} {path}: {reply.status_code}")
    return wrong


def test_an_article_published_on_one_instance_shows_on_every_page_of_both_at_once(site):
    editor = site.a.client()
    assert sign_in(editor).status_code == 303
    publish(editor, "Council approves budget", body_for("the budget"))
    slug = "flood-barrier-opens-on-the-river"
    link = f"/articles/{slug}"
    for instance in (site.a, site.b):
        reader = instance.client()
        for path in [*PAGES, *PAGES]:  # the second round is answered from the kept pages
            reply = reader.get(path)
            assert reply.status_code == 200, f"{instance.name} {path}: {reply.text}"
            assert slug not in reply.text
        assert reader.get(link).status_code == 404
        assert set(PAGES) <= kept_pages(site, instance)

    body = body_for("the barrier") + f"\n\nThe {SEARCHED} gate shut."
    edit = publish(editor, "Flood barrier opens on the river", body)

    assert [*missing(site.b, PAGES, link), *missing(site.a, PAGES, link)] == []
    article = site.b.client().get(link)
    assert article.status_code == 200 and "Flood barrier opens on the river" in article.text

    on_b = WebClient(site.b.url, list(editor.jar))  # the session made on A
    form = article_form(on_b, edit, "Flood barrier holds the river", body)
    reply = on_b.post(edit, form | {"slug": slug})
    assert reply.status_code == 303, reply.text
    pages = [link, *(path for path in PAGES if path not in NO_TITLES)]
    headline = "Flood barrier holds the river"
    assert [*missing(site.a, pages, headline), *missing(site.b, pages, headline)] == []


def test_a_session_made_on_one_instance_works_on_the_other(site):
    on_a = site.a.client()
    assert sign_in(on_a).status_code == 303
    form = article_form(on_a, "/editor/articles/new", "Draft from A", body_for("a draft"))
    on_b = WebClient(site.b.url, list(on_a.jar))  # the same browser, sent to B from now on
    newsroom = on_b.get("/editor/")
    assert newsroom.status_code == 200
    assert 'action="/auth/logout"' in newsroom.text
    # The CSRF token lives in the session too: a form read on A is accepted on B.
    reply = on_b.post("/editor/articles/new", form | {"status": "draft"})
    assert reply.status_code == 303, reply.text


def test_wrong_passwords_count_against_one_limit_on_both_instances(site):
    # SIGN_IN_LIMIT_PER_ACCOUNT allows 5 wrong passwords in 15 minutes, across the site.
    clients = [site.a.client(), site.b.client()] * 4
    answers = [sign_in(client, password="not the password").status_code for client in clients]
    assert answers == [422] * 5 + [429] * 3
    refused = sign_in(site.b.client())  # even the right password, until the window ends
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0

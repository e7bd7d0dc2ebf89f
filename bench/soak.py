"""Soak test: readers, sidebars, searches and editors together against gunicorn on loopback."""

from __future__ import annotations

import argparse
import functools
import http.client
import itertools
import math
import os
import platform
import random
import re
import secrets
import shlex
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from demo_site import HOST, demo_instance, flask_command, free_port, start_server, stop_server, tail

REPORT = Path(__file__).resolve().parent / "SOAK.md"
TIMEOUT = 30.0  # seconds a client waits for an answer before counting a connection error
LOCKED = b"database is locked"
KINDS = ("page", "sidebar", "search", "sign-in", "form", "preview", "save", "new draft")
ERRORS = ("5xx", "connection", "database is locked", "client stopped")

Role = Callable[["Client", "Site", random.Random, threading.Event], None]


@dataclass
class Tally:
    """What one kind of request got: latencies in seconds, statuses and errors."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        """Fold ``other`` into this tally."""
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.errors += other.errors


@dataclass
class Recorder:
    """One client's tallies by kind, and the first few error descriptions."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def tally(self, kind: str) -> Tally:
        """The tally of ``kind``, made on first use."""
        return self.tallies.setdefault(kind, Tally())

    def error(self, kind: str, error: str, detail: str) -> None:
        """Count an error and keep its description when there are few so far."""
        self.tally(kind).errors[error] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {error}: {detail}")


@dataclass
class Answer:
    """A response that arrived."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


class Client:
    """One simulated person: a keep-alive connection, a cookie jar and a recorder."""

    def __init__(self, port: int, recorder: Recorder | None = None) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        self.cookies: dict[str, str] = {}
        self.recorder = recorder

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer | None:
        """Send a request and record its outcome; None when the connection failed."""
        sent = {"User-Agent": "dateline-soak", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            answer = Answer(response.status, response.msg, response.read())
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()  # the next request opens a new connection
            if self.recorder is not None:
                self.recorder.error(kind, "connection", f"{method} {path}: {error!r}")
            return None
        elapsed = time.perf_counter() - started
        self._keep_cookies(answer.headers)
        if self.recorder is not None:
            self._record(kind, method, path, answer, elapsed)
        return answer

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        """Store the cookies the server set; an empty value deletes one."""
        for header in headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def _record(self, kind: str, method: str, path: str, answer: Answer, elapsed: float) -> None:
        """Count the answer's status and latency, and any error it shows."""
        assert self.recorder is not None
        tally = self.recorder.tally(kind)
        tally.latencies.append(elapsed)
        tally.statuses[answer.status] += 1
        if answer.status >= 500:
            self.recorder.error(kind, "5xx", f"{method} {path}: {answer.status}")
        if LOCKED in answer.body:
            self.recorder.error(kind, "database is locked", f"{method} {path}: {answer.status}")

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


class FormFields(HTMLParser):
    """The fields a browser would submit from the form posting to ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.fields: dict[str, str] = {}
        self.inside = False
        self.textarea: str | None = None
        self.select: str | None = None
        self.first_option = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Take each named field's initial value."""
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        if not self.inside:
            return
        name = attributes.get("name")
        kind = attributes.get("type") or "text"
        if tag == "input" and name and kind not in ("file", "submit", "button"):
            if kind not in ("checkbox", "radio") or "checked" in attributes:
                self.fields[name] = attributes.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self.select, self.first_option = name, True
        elif tag == "option" and self.select:
            if self.first_option or "selected" in attributes:
                self.fields[self.select] = attributes.get("value") or ""
            self.first_option = False

    def handle_endtag(self, tag: str) -> None:
        """Close the field or form being read."""
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea:
            # Browsers drop the newline that starts a textarea's content.
            self.fields[self.textarea] = re.sub(r"^\r?\n", "", self.fields[self.textarea])
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        """Collect a textarea's text."""
        if self.inside and self.textarea:
            self.fields[self.textarea] += data


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields of the form in ``html`` that posts to ``action``."""
    parser = FormFields(action)
    parser.feed(html)
    return parser.fields


@dataclass
class Site:
    """What the clients visit, found by crawling the running site.

    Article paths; the ids of published articles (edited, and left out of sidebars); listing
    paths (front page, listings, their further pages); headline words to search for; the
    status /search answered with (0 for none).
    """

    articles: list[str]
    ids: list[int]
    listings: list[str]
    words: list[str]
    search: int


def _pages(client: Client, path: str) -> dict[str, str]:
    """Every page of a paginated listing that answers 200, by path, with its HTML."""
    pages: dict[str, str] = {}
    for number in range(1, 100):
        page = path if number == 1 else f"{path}?page={number}"
        answer = client.request("", "GET", page)
        if answer is None or answer.status != 200:
            break
        pages[page] = answer.text
    return pages


def discover(port: int) -> Site:
    """Crawl the listings and every article for paths, ids and headline words."""
    client = Client(port)
    listings = {**_pages(client, "/"), **_pages(client, "/latest"), **_pages(client, "/featured")}
    found = re.findall(r'href="(/articles/[^"?#]+)"', "".join(listings.values()))
    articles = list(dict.fromkeys(found))
    if not articles:
        raise SystemExit("soak: the site lists no articles")
    ids: set[int] = set()
    words: set[str] = set()
    for path in articles:
        answer = client.request("", "GET", path)
        text = answer.text if answer is not None else ""
        ids.update(int(number) for number in re.findall(r"exclude=(\d+)", text))
        for listing in re.findall(r'href="(/(?:sections|tags|authors)/[^"?#]+)"', text):
            listings.setdefault(listing, "")
        headline = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
        words.update(
            word.lower() for word in re.findall(r"[A-Za-z]{5,}", headline[1] if headline else "")
        )
    probe = client.request("", "GET", f"/search?q={quote(min(words or {'news'}))}")
    client.close()
    return Site(
        articles,
        sorted(ids),
        sorted(listings),
        sorted(words),
        probe.status if probe is not None else 0,
    )


def reader(client: Client, site: Site, rng: random.Random, stop: threading.Event) -> None:
    """Read pages as people arriving from anywhere do: half articles, half listings."""
    while not stop.is_set():
        path = rng.choice(site.articles) if rng.random() < 0.5 else rng.choice(site.listings)
        client.request("page", "GET", path)


def sidebar(client: Client, site: Site, rng: random.Random, stop: threading.Event) -> None:
    """Load sidebars as htmx does on article pages (and on a page without an article)."""
    while not stop.is_set():
        kind = rng.choice(("featured", "latest"))
        exclude = rng.choice([*site.ids, None])
        path = f"/sidebars/{kind}" + (f"?exclude={exclude}" if exclude else "")
        client.request("sidebar", "GET", path, headers={"HX-Request": "true"})


def searcher(client: Client, site: Site, rng: random.Random, stop: threading.Event) -> None:
    """Search for one or two words from the headlines, or for something nowhere."""
    while not stop.is_set():
        words = rng.sample(site.words, min(len(site.words), rng.choice((1, 2))))
        query = " ".join(words) if rng.random() < 0.9 else secrets.token_hex(4)
        client.request("search", "GET", f"/search?q={quote(query)}")


def editor(
    username: str,
    password: str,
    client: Client,
    site: Site,
    rng: random.Random,
    stop: threading.Event,
) -> None:
    """Sign in, then edit articles with live previews and write new drafts, over and over."""
    page = client.request("sign-in", "GET", "/auth/login")
    token = form_fields(page.text if page else "", "/auth/login").get("csrf_token", "")
    credentials = {"username": username, "password": password, "csrf_token": token}
    signed_in = client.request("sign-in", "POST", "/auth/login", form=credentials)
    if signed_in is None or signed_in.status != 303:
        raise RuntimeError(f"sign-in failed: {signed_in.status if signed_in else 'no answer'}")
    editable = list(site.ids)
    for round_number in itertools.count(1):
        if stop.is_set():
            return
        if round_number % 4 == 0:
            created = _write_draft(client, f"Soak draft by {username}, number {round_number}")
            if created is not None:
                editable.append(created)
        else:
            _edit(client, rng.choice(editable), round_number)


def _edit(client: Client, article_id: int, round_number: int) -> None:
    """Open an article's form, type a sentence with previews, and save."""
    action = f"/editor/articles/{article_id}/edit"
    page = client.request("form", "GET", action)
    if page is None or page.status != 200:
        return
    fields = form_fields(page.text, action)
    body = re.sub(r"\s*Soak edit \d+\.$", "", fields.get("body", ""))
    sentence = f"Soak edit {round_number}."
    htmx = {
        "HX-Request": "true",
        "HX-Target": "preview",
        "X-CSRFToken": fields.get("csrf_token", ""),
    }
    for typed in range(1, 4):
        partial = sentence[: len(sentence) * typed // 3]
        preview = {key: fields.get(key, "") for key in ("dateline", "published_at")}
        client.request(
            "preview",
            "POST",
            "/editor/preview",
            form={**preview, "body": f"{body}\n\n{partial}"},
            headers=htmx,
        )
    client.request("save", "POST", action, form={**fields, "body": f"{body}\n\n{sentence}"})


def _write_draft(client: Client, title: str) -> int | None:
    """Write and save a new draft; its id, or None when it was not saved."""
    action = "/editor/articles/new"
    page = client.request("form", "GET", action)
    if page is None or page.status != 200:
        return None
    fields = form_fields(page.text, action)
    body = "A paragraph written by the soak test.\n\n## A heading\n\nAnd *another* one."
    draft = {"title": title, "summary": "Written under load.", "dateline": "Loopback", "body": body}
    draft |= {"section": "Soak", "tags": "soak, load", "status": "draft"}
    saved = client.request("new draft", "POST", action, form={**fields, **draft})
    location = saved.headers.get("Location", "") if saved is not None else ""
    found = re.search(r"/editor/articles/(\d+)/edit", urlsplit(location).path)
    return int(found[1]) if found else None


def run_client(role: Role, client: Client, site: Site, seed: int, stop: threading.Event) -> None:
    """Run one role until ``stop``; a client that stops early counts as an error."""
    try:
        role(client, site, random.Random(seed), stop)
    except Exception as error:  # the report must show it, whatever it was
        assert client.recorder is not None
        client.recorder.error("client", "client stopped", repr(error))
    finally:
        client.close()


def percentile_ms(ordered: list[float], share: float) -> str:
    """The nearest-rank percentile of sorted seconds, in milliseconds ("-" for none)."""
    if not ordered:
        return "-"
    return f"{ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000:.1f}"


def table(tallies: dict[str, Tally], seconds: float) -> str:
    """The results as a Markdown table, a row per kind and one for all requests."""
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    head = (
        "| kind | requests | per second | statuses | errors | p50 ms | p95 ms | p99 ms | max ms |"
    )
    rows = [head, "|" + " --- |" * 9]
    for kind, tally in [*tallies.items(), ("**all**", total)]:
        ordered = sorted(tally.latencies)
        count = len(ordered) + tally.errors["connection"]
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
        times = [percentile_ms(ordered, share) for share in (0.5, 0.95, 0.99, 1.0)]
        cells = [
            kind,
            str(count),
            f"{count / seconds:.1f}",
            statuses or "-",
            str(sum(tally.errors.values())),
        ]
        rows.append("| " + " | ".join(cells + times) + " |")
    return "\n".join(rows)


def report(
    args: argparse.Namespace, site: Site, recorders: list[Recorder], seconds: float, busy: float
) -> tuple[str, int]:
    """The Markdown report and the number of errors found."""
    tallies: dict[str, Tally] = {}
    samples: list[str] = []
    for recorder in recorders:
        for kind, tally in recorder.tallies.items():
            tallies.setdefault(kind, Tally()).add(tally)
        samples += recorder.samples
    order = [*KINDS, "client"]
    tallies = dict(sorted(tallies.items(), key=lambda item: order.index(item[0])))
    errors = Counter[str]()
    for tally in tallies.values():
        errors += tally.errors
    searches = (
        f"{args.searchers} clients searching for headline words"
        if site.search == 200
        else f"skipped: `/search` answered {site.search or 'nothing'} at start-up"
    )
    made_by = "make soak" + (f' SOAK_ARGS="{shlex.join(sys.argv[1:])}"' if sys.argv[1:] else "")
    if "MAKELEVEL" not in os.environ:
        made_by = shlex.join(["python", "bench/soak.py", *sys.argv[1:]])
    outcome = (
        "no 5xx, no connection errors, no “database is locked”"
        if not errors
        else "errors: " + ", ".join(f"{name} {errors[name]}" for name in ERRORS if errors[name])
    )
    lines = [
        "# Soak test results",
        "",
        f"Written by `{made_by}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"- Machine: {os.cpu_count()} cores, shared by clients and server (load average "
        f"{busy:.2f} before the run); Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}.",
        f"- Server: gunicorn with {args.workers} sync workers (they close each connection after "
        f"its response) on loopback; a new SQLite database with the demo articles "
        f"({len(site.articles)} published).",
        f"- Clients for {seconds:.1f} s, each sending its next request as soon as the last is "
        f"answered: {args.readers} reading pages, {args.sidebars} loading sidebars, "
        f"{args.editors} editors (each its own account) opening forms, previewing, saving "
        "edits and writing a new draft every fourth round.",
        f"- Searches: {searches}.",
        "",
        table(tallies, seconds),
        "",
        f"Result: {outcome}.",
    ]
    if samples:
        lines += ["", "First errors:", "", *(f"- `{sample}`" for sample in samples)]
    return "\n".join(lines) + "\n", sum(errors.values())


def soak(args: argparse.Namespace, folder: Path) -> int:
    """Set up the instance and server, run the clients, write the report; the exit status."""
    busy = os.getloadavg()[0]  # other work on the machine skews the figures
    env = demo_instance(folder, "soak")
    accounts = [(f"soak-editor-{n}", secrets.token_urlsafe(18)) for n in range(1, args.editors + 1)]
    for username, password in accounts:
        flask_command(env, "create-user", username, "--role", "editor", "--password", password)
    port = free_port()
    log = folder / "gunicorn.log"
    server = start_server(env, port, args.workers, log)
    try:
        site = discover(port)
        roles: list[Role] = [reader] * args.readers + [sidebar] * args.sidebars
        roles += [searcher] * args.searchers if site.search == 200 else []
        roles += [functools.partial(editor, *account) for account in accounts]
        recorders, seconds = load(roles, port, site, args.seconds)
    finally:
        stop_server(server)
    text, errors = report(args, site, recorders, seconds, busy)
    REPORT.write_text(text)
    print(text)
    if errors:
        print(f"Server log (end):\n{tail(log)}", file=sys.stderr)
    return 1 if errors else 0


def load(roles: list[Role], port: int, site: Site, seconds: float) -> tuple[list[Recorder], float]:
    """Run every role in a thread of its own for ``seconds``; the recorders and the time taken."""
    stop = threading.Event()
    recorders = [Recorder() for _ in roles]
    threads = [
        threading.Thread(
            target=run_client, args=(role, Client(port, recorder), site, n, stop), daemon=True
        )
        for n, (role, recorder) in enumerate(zip(roles, recorders, strict=True))
    ]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        stop.wait(seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT)
    return recorders, time.perf_counter() - started


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="how long to run (60)")
    parser.add_argument("--readers", type=int, default=8, help="reader threads (8)")
    parser.add_argument("--sidebars", type=int, default=2, help="sidebar threads (2)")
    parser.add_argument(
        "--searchers", type=int, default=2, help="search threads, if /search exists (2)"
    )
    parser.add_argument(
        "--editors", type=int, default=2, help="editor threads, one account each (2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    return parser.parse_args()


def main() -> int:
    """Run the soak test; non-zero when any request failed."""
    args = parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="dateline-soak-") as folder:
            return soak(args, Path(folder))
    except KeyboardInterrupt:
        print("soak: interrupted; the server is stopped and no report was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

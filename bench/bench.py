"""The benchmark: reader pages under wrk at two archive sizes, against a ceiling; page weight.

For each size it seeds a new site (its own database, media and secret key) with generated
articles, serves it with gunicorn (2 sync workers, loopback), checks that every page answers
200 with its content, and drives each with wrk. It writes the tables and the budgets to
bench/RESULTS.md and exits non-zero when a budget fails.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import re
import secrets
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote

import flask_migrate

from bench import results, seed, weight
from bench.demo_site import HOST, ROOT, free_port, gunicorn_command, start_server, stop_server
from bench.results import Check, Encoded, Load, Measured, SizeRun, Visit
from blog import create_app, delivery
from blog.config import DEFAULTS
from blog.database import MIGRATIONS
from blog.extensions import db

REPORT = Path(__file__).resolve().parent / "RESULTS.md"
WRK_SCRIPT = "bench/wrk_report.lua"  # relative to the repository, where wrk runs
WORKERS = 2
WARM_UP = 4  # requests per page before timing, so every worker has served it


@dataclass(frozen=True)
class Page:
    """A page to measure: its key, name, path, the text a right answer holds, request headers.

    An ``optional`` page may not exist yet: a 404 is reported as missing, not as a failure.
    """

    key: str
    name: str
    path: str
    markers: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)
    optional: bool = False


@dataclass
class Site:
    """A seeded site on disk: its folder, the server's environment, what was seeded, how."""

    folder: Path
    env: dict[str, str]
    seeded: seed.Seeded
    note: str


def pages(seeded: seed.Seeded) -> list[Page]:
    """The pages measured at one size: those held to the ceiling first, as it is measured
    right after the article page.
    """
    per_page = DEFAULTS["ARTICLES_PER_PAGE"]
    middle = max(2, math.ceil(seeded.public / per_page) // 2)
    exclude = seeded.article_id
    htmx = {"HX-Request": "true"}
    return [
        Page(
            "article",
            "article page",
            f"/articles/{seed.SLUG}",
            ('<h1 id="headline">', 'class="toc"', 'class="dateline"'),
        ),
        Page(
            "featured",
            "featured sidebar",
            f"/sidebars/featured?exclude={exclude}",
            ('class="sidebar__list"',),
            htmx,
        ),
        Page(
            "latest",
            "latest sidebar",
            f"/sidebars/latest?exclude={exclude}",
            ('class="sidebar__list"',),
            htmx,
        ),
        Page("front", "front page", "/", ('class="lead"', 'class="teaser"')),
        Page("listing", "latest posts, page 2", "/latest?page=2", ('class="teaser"',)),
        Page("deep", "latest posts, middle page", f"/latest?page={middle}", ('class="teaser"',)),
        Page(
            "search",
            "search",
            f"/search?q={quote(seed.SEARCH_WORD)}",
            ('href="/articles/',),
            optional=True,
        ),
        Page("feed", "Atom feed", "/feed.xml", ("<feed",), optional=True),
    ]


def build_site(folder: Path, count: int) -> Site:
    """A new site in ``folder``: migrated database, generated articles, search index."""
    folder.mkdir(parents=True)
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'dateline.db'}",
        "MEDIA_DIR": str(folder / "media"),
        "SECRET_KEY": secrets.token_urlsafe(32),
        # The page cache's content stamp, kept with this site rather than in instance/.
        "CACHE_STAMP_FILE": str(folder / "content-stamp"),
    }
    app = create_app(settings)
    with app.app_context():
        started = time.perf_counter()
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        seeded = seed.seed(count)
        indexing = time.perf_counter()
        search = seed.reindex_search()
        done = time.perf_counter()
        db.engine.dispose()
    env = os.environ | {f"FLASK_{name}": value for name, value in settings.items()}
    note = (
        f"{count:,} articles ({seeded.public:,} public) seeded in {indexing - started:.0f} s; "
        f"{search} in {done - indexing:.0f} s"
    )
    return Site(folder, env, seeded, note)


def fetch(port: int, page: Page) -> tuple[int, bytes, str]:
    """Status, body and content type of ``page`` as wrk gets it (no compression asked for)."""
    request = urllib.request.Request(f"http://{HOST}:{port}{page.path}", headers=page.headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def check(port: int, page: Page) -> tuple[str, int]:
    """Why ``page`` must not be timed ("" when it answers 200 with its content), and its size.

    Asks a few times, so that every worker has served the page before timing.
    """
    size = 0
    for _ in range(WARM_UP):
        status, body, _type = fetch(port, page)
        if status == 404 and page.optional:
            return "missing (404)", 0
        if status != 200:
            return f"answered {status}", 0
        missing = [marker for marker in page.markers if marker.encode() not in body]
        if missing:
            return f"answered 200 without {missing[0]!r}", 0
        size = len(body)
    return "", size


def wrk_command(args: argparse.Namespace, port: int, page: Page) -> list[str]:
    """The wrk command line that loads ``page``."""
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s"]
    command += ["--latency", "-s", WRK_SCRIPT]
    for name, value in page.headers.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, f"http://{HOST}:{port}{page.path}"]


def run_wrk(command: list[str]) -> Load:
    """Run wrk and read its report."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}")
    return results.parse_wrk(done.stdout)


@dataclass
class Run:
    """One benchmark run: its options and folder, and what it measured and ran so far."""

    args: argparse.Namespace
    folder: Path
    runs: list[SizeRun] = field(default_factory=list)
    uncached: list[SizeRun] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    encoded: list[Encoded] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    instances: list[Path] = field(default_factory=list)
    chromium: str = ""

    def size(self, count: int) -> None:
        """Seed a site of ``count`` articles and measure it (page weight on the first one)."""
        site = build_site(self.folder / f"{count}-articles", count)
        self.instances.append(site.folder)
        self.notes.append(site.note)
        measured = pages(site.seeded)
        rows, ceilings = [], []
        with self.serving(site.env, site.folder / "gunicorn.log") as port:
            for page in measured:
                rows.append(self.measure(port, page))
                # Right after each page held to it, so that both meet the same machine.
                if page.key in results.CEILING_SHARES:
                    ceilings.append(self.ceiling(port, measured[0], site.folder))
            if not self.visits:
                self.weigh(port)
        # The median of those runs: one run disturbed by something else on the machine
        # neither fails nor passes a budget on its own.
        ceiling = sorted(ceilings, key=lambda load: load.per_second)[len(ceilings) // 2]
        self.runs.append(SizeRun(count, ceiling, rows))
        if self.args.no_cache:
            env = site.env | {"FLASK_CACHE_TYPE": "NullCache"}
            with self.serving(env, site.folder / "uncached.log") as port:
                rows = [self.measure(port, page) for page in measured]
            self.uncached.append(SizeRun(count, ceiling, rows))

    @contextmanager
    def serving(self, env: dict[str, str], log: Path, app: str = "app:app") -> Iterator[int]:
        """Gunicorn serving ``app`` on a free port while the block runs; the port."""
        port = free_port()
        self.keep(gunicorn_command(port, WORKERS, log, app), env)
        server = start_server(env, port, WORKERS, log, app)
        try:
            yield port
        finally:
            stop_server(server)

    def measure(self, port: int, page: Page) -> Measured:
        """Check ``page``'s answer, then load it with wrk.

        wrk counts neither redirects nor short answers as errors: each answer under load must
        have been at least as long as the page checked before.
        """
        wrong, size = check(port, page)
        if wrong:
            return Measured(page.key, page.name, page.path, None, wrong)
        command = wrk_command(self.args, port, page)
        self.keep(command)
        figures = run_wrk(command)
        if figures.received < figures.requests * size:
            average = figures.received // max(1, figures.requests)
            wrong = f"answers under load averaged {average:,} bytes, the page has {size:,}"
        return Measured(page.key, page.name, page.path, figures, wrong)

    def ceiling(self, port: int, article: Page, folder: Path) -> Load:
        """The article page's bytes served from memory by the ceiling app, loaded with wrk."""
        status, body, content_type = fetch(port, article)
        if status != 200:
            raise RuntimeError(f"the article page answered {status}")
        (folder / "ceiling.html").write_bytes(body)
        env = os.environ | {
            "BENCH_CEILING_BODY": str(folder / "ceiling.html"),
            "BENCH_CEILING_TYPE": content_type,
        }
        page = Page("ceiling", "ceiling", article.path, ("<h1",))
        with self.serving(env, folder / "ceiling.log", "bench.ceiling:app") as ceiling_port:
            if wrong := check(ceiling_port, page)[0]:
                raise RuntimeError(f"the ceiling {wrong}")
            command = wrk_command(self.args, ceiling_port, page)
            self.keep(command)
            return run_wrk(command)

    def weigh(self, port: int) -> None:
        """First visits of the article and front pages, and their resources' encoded sizes."""
        base = f"http://{HOST}:{port}"
        targets = [("article page", f"/articles/{seed.SLUG}"), ("front page", "/")]
        self.visits, self.chromium = weight.first_visits(base, targets)
        resources = [(f"{visit.name} HTML", visit.path) for visit in self.visits]
        # The readers' stylesheet travels inside every page's HTML; measured alone at its own
        # address, which is still served.
        resources.append(("CSS (inside each page)", f"/static/{delivery.READER_STYLESHEET}"))
        resources += [
            (kind, transfer.path)
            for transfer in self.visits[0].transfers
            if (kind := {"stylesheet": "CSS", "script": "JS"}.get(transfer.kind))
        ]
        self.encoded = [weight.encoded_sizes(base, name, path) for name, path in resources]

    def keep(self, command: list[str], env: dict[str, str] | None = None) -> None:
        """Keep ``command`` for the report, with the variables it adds to the environment.

        No path of this machine, port or secret is shown: placeholders stand for them.
        """
        added = [
            f"{name}={value}"
            for name, value in (env or {}).items()
            if os.environ.get(name) != value
        ]
        text = shlex.join([*added, *command]).replace(sys.executable, "python")
        for folder in self.instances:
            text = text.replace(str(folder), "<instance>")
        text = re.sub(rf"{re.escape(HOST)}:\d+", f"{HOST}:<port>", text)
        text = re.sub(r"FLASK_SECRET_KEY=\S+", "FLASK_SECRET_KEY=<random>", text)
        if text not in self.commands:
            self.commands.append(text)

    def checks(self) -> list[Check]:
        """Every budget, in the order the report lists them."""
        checks = results.answer_checks(self.runs)
        for run in self.runs:
            checks += results.ceiling_checks(run)
        if len(self.runs) > 1:
            checks += results.latency_checks(self.runs[0], self.runs[-1])
        article = next(visit for visit in self.visits if visit.name == "article page")
        return checks + results.visit_checks(article, self.visits)


def report(run: Run, checks: list[Check], busy: float, minutes: float) -> str:
    """The benchmark's section of RESULTS.md."""
    args = run.args
    made_by = "make bench" + (f' BENCH_ARGS="{shlex.join(sys.argv[1:])}"' if sys.argv[1:] else "")
    if "MAKELEVEL" not in os.environ:
        made_by = shlex.join(["python", "-m", "bench.bench", *sys.argv[1:]])
    lines = [
        "## Benchmark",
        "",
        f"Written by `{made_by}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the run took "
        f"{minutes:.1f} minutes.",
        "",
        f"- Machine: {os.cpu_count()} cores ({cpu_model()}), shared by wrk and the servers; "
        f"load average {busy:.2f} before the run.",
        f"- Software: Python {platform.python_version()}, gunicorn {version('gunicorn')}, "
        f"{wrk_version()}, SQLite {sqlite3.sqlite_version}, Chromium {run.chromium}.",
        f"- Servers: gunicorn with {WORKERS} sync workers on loopback, no access log, for the app "
        "and for the ceiling (a minimal Flask app sending the article page's bytes from "
        "memory). wrk asks for no compression, so both send the same uncompressed page. "
        f"The ceiling is measured right after each of the {len(results.CEILING_SHARES)} pages "
        "held to it, and the median of those runs counts.",
        f"- Load: wrk with {args.threads} threads and {args.connections} connections for "
        f"{args.seconds} s per page, after {WARM_UP} checked requests per page (status 200 and "
        "the page's own content).",
        *(f"- Site: {note}." for note in run.notes),
        "",
        "### Budgets",
        "",
        *(f"- {check.line()}" for check in checks),
    ]
    for size_run in run.runs:
        baseline = run.runs[0] if size_run is not run.runs[0] else None
        lines += ["", f"### {size_run.size:,} articles", "", results.load_table(size_run, baseline)]
    for size_run in run.uncached:
        baseline = run.uncached[0] if size_run is not run.uncached[0] else None
        lines += [
            "",
            f"### {size_run.size:,} articles without the page cache (informational)",
            "",
            results.load_table(size_run, baseline),
        ]
    lines += [
        "",
        f"### Page weight (first visit, {run.runs[0].size:,} articles)",
        "",
        "Chromium at 412 by 823 pixels with an empty cache, scrolled to the end: every "
        "request before images, with its body as sent (compressed as Chromium asked) and "
        "decoded, and the cumulative layout shift of the whole visit. The readers' stylesheet "
        "is inside each page's HTML.",
        "",
        results.visit_table(run.visits),
        "",
        results.encoded_table(run.encoded),
        "",
        "### Commands",
        "",
        "Each distinct command once, in the order of the run: `<instance>` is the folder of the "
        "site of one size, `<port>` a free port.",
        "",
        "```sh",
        *run.commands,
        "```",
    ]
    return "\n".join(lines) + "\n"


def cpu_model() -> str:
    """The processor's model name, from /proc/cpuinfo."""
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    except OSError:
        found = None
    return found[1].strip() if found else platform.processor() or "unknown CPU"


def wrk_version() -> str:
    """wrk's version line, without its copyright."""
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (done.stdout + done.stderr).splitlines()[0].split(" Copyright")[0]


def archive_sizes(text: str) -> list[int]:
    """``--sizes``: article counts, comma separated, smallest first."""
    try:
        sizes = sorted(int(size) for size in text.split(","))
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of article counts like 1000,100000"
        )
    return sizes


def positive(text: str) -> int:
    """A whole number from 1 up."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 up")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--sizes",
        type=archive_sizes,
        default=[1_000, 100_000],
        help="archive sizes to seed, comma separated (1000,100000)",
    )
    parser.add_argument("--seconds", type=positive, default=10, help="wrk's time per page (10)")
    parser.add_argument("--connections", type=positive, default=8, help="wrk's connections (8)")
    parser.add_argument("--threads", type=positive, default=2, help="wrk's threads (2)")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="also measure every page with the page cache off (an informational table)",
    )
    return parser.parse_args(argv)


def main() -> int:
    """Run the benchmark; non-zero when a budget fails."""
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)  # the migrations' progress is not news here
    busy = os.getloadavg()[0]  # other work on the machine skews the figures
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="dateline-bench-") as folder:
            run = Run(args, Path(folder))
            for count in args.sizes:
                print(f"bench: {count:,} articles", file=sys.stderr)
                run.size(count)
    except KeyboardInterrupt:
        print("bench: interrupted; the servers are stopped, no results written", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    checks = run.checks()
    section = report(run, checks, busy, (time.monotonic() - started) / 60)
    existing = REPORT.read_text(encoding="utf-8") if REPORT.exists() else None
    REPORT.write_text(results.merge(existing, section), encoding="utf-8")
    print(section)
    return 0 if all(check.passed for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

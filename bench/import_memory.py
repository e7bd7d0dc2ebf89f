"""The import benchmark: peak memory and time of `import-wordpress` on a generated 10,000-post WXR.

It generates the export and its uploads folder (bench/wxr.py), makes a new site (its own
database, media and secret key) and runs one at a time, measuring each command's own peak
resident memory and time: the app's start alone (`flask --help`, the baseline), an import of a
1,000-post export into another new site, then on the large one a dry run, the import and the
same import again. It checks the memory budget and that memory stays flat as the file grows,
that the dry run and the second run change no count in the database, writes its section of
bench/RESULTS.md and exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import results, wxr
from bench.bench import cpu_model, positive
from bench.demo_site import ROOT, flask_command, site_env, tail
from bench.results import Check

REPORT = Path(__file__).resolve().parent / "RESULTS.md"
# Peak resident memory of any run of the large export: the app alone takes about 100 MiB, the
# import measured about 55 more at any size, and a parse of the whole file into one tree
# needs over 300 MiB by itself.
BUDGET_MIB = 200
GROWTH = 1.3  # peak at the large export against the small one
# What the database holds, by table; a table the app does not have yet is left out.
TABLES = ("articles", "users", "sections", "tags", "media", "legacy_paths", "slug_redirects")
# Starts a command and writes its peak RSS (KiB) to a file. A process's peak counts the memory
# of the one that started it (Linux keeps it across fork and exec), so the command is started
# by this small process rather than by the benchmark, whose own memory would show otherwise.
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
# Item types of the export, as the report names them.
KINDS = {
    "post": "posts",
    "page": "pages",
    "attachment": "attachments",
    "nav_menu_item": "menu items",
}
# Parses the whole export into one tree, as an importer that does not stream would.
WHOLE_TREE = "import sys, lxml.etree; lxml.etree.parse(sys.argv[1])"


@dataclass(frozen=True)
class Run:
    """One measured command: its name, the command as reported, peak RSS (KiB), seconds."""

    name: str
    command: str
    peak_kib: int
    seconds: float

    @property
    def peak_mib(self) -> float:
        """Peak resident memory in MiB."""
        return self.peak_kib / 1024


@dataclass(frozen=True)
class Measured:
    """Everything the benchmark found, for the checks and the report."""

    posts: int
    small_posts: int
    file_bytes: int
    small_file_bytes: int
    items: dict[str, int]
    upload_files: int
    baseline: Run
    whole_tree: Run
    small: Run
    dry_run: Run
    first: Run
    second: Run
    before: dict[str, int]
    after_dry_run: dict[str, int]
    after_first: dict[str, int]
    after_second: dict[str, int]
    media_files: int
    # The large site's media files before and after the dry run.
    media_before_dry_run: tuple[str, ...] = ()
    media_after_dry_run: tuple[str, ...] = ()


def measure(name: str, args: list[str], env: dict[str, str], log: Path, shown: str) -> Run:
    """Run ``args`` from the repository's root through ``LAUNCHER``; its peak RSS and time.
    Stops with the end of its output when it fails.
    """
    peak = log.with_suffix(".peak")
    started = time.monotonic()
    with log.open("wb") as output:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", LAUNCHER, str(peak), *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"import_memory: {shown} failed ({done.returncode}):\n{tail(log)}")
    kib = int(peak.read_text())
    print(f"import_memory: {name}: {kib / 1024:.0f} MiB, {seconds:.1f} s", file=sys.stderr)
    return Run(name, shown, kib, seconds)


def flask_args(*args: str) -> list[str]:
    """``flask --app app ARGS`` with this Python."""
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def counts(database: Path) -> dict[str, int]:
    """Rows per table of ``TABLES`` in the site's SQLite database, for the tables it has."""
    with closing(sqlite3.connect(database)) as connection:
        present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in TABLES
            if table in present
        }


def run(posts: int, small_posts: int, folder: Path) -> Measured:
    """Generate both exports, build the sites and measure every command."""
    today = datetime.now(UTC).date()
    large = wxr.write_wxr(folder / "large.xml", posts, uploads=folder / "uploads", until=today)
    small = wxr.write_wxr(
        folder / "small.xml", small_posts, uploads=folder / "small-uploads", until=today
    )
    print(f"import_memory: {posts:,} posts in {large.size / 1e6:.1f} MB", file=sys.stderr)
    env = site_env(folder, "large")
    flask_command(env, "init-db")
    baseline = measure(
        "baseline", flask_args("--help"), env, folder / "help.log", "flask --app app --help"
    )
    if "import-wordpress" not in (folder / "help.log").read_text():
        raise SystemExit("import_memory: the app has no import-wordpress command yet")
    whole = measure(
        "whole tree",
        [sys.executable, "-c", WHOLE_TREE, str(large.path)],
        env,
        folder / "whole.log",
        f'python -c "{WHOLE_TREE}" <export.xml>',
    )
    small_env = site_env(folder, "small")
    flask_command(small_env, "init-db")
    small_run = import_run("small", small_env, small, folder)
    database = folder / "large.db"
    before = counts(database)
    media_before_dry_run = media_files(folder / "large-media")
    dry_run = import_run("dry run", env, large, folder, "--dry-run")
    after_dry_run = counts(database)
    media_after_dry_run = media_files(folder / "large-media")
    first = import_run("import", env, large, folder)
    after_first = counts(database)
    second = import_run("second import", env, large, folder)
    return Measured(
        posts=posts,
        small_posts=small_posts,
        file_bytes=large.size,
        small_file_bytes=small.size,
        items=dict(large.types),
        upload_files=large.upload_files,
        baseline=baseline,
        whole_tree=whole,
        small=small_run,
        dry_run=dry_run,
        first=first,
        second=second,
        before=before,
        after_dry_run=after_dry_run,
        after_first=after_first,
        after_second=counts(database),
        media_files=sum(1 for path in (folder / "large-media").rglob("*") if path.is_file()),
        media_before_dry_run=media_before_dry_run,
        media_after_dry_run=media_after_dry_run,
    )


def media_files(media: Path) -> tuple[str, ...]:
    """Every file under the site's media folder, by its path in it."""
    if not media.exists():
        return ()
    return tuple(sorted(str(path.relative_to(media)) for path in media.rglob("*")))


def import_run(
    name: str, env: dict[str, str], export: wxr.Generated, folder: Path, *extra: str
) -> Run:
    """Measure ``import-wordpress`` of ``export`` with its uploads folder."""
    assert export.uploads is not None
    args = ["import-wordpress", str(export.path), "--media", str(export.uploads), *extra]
    shown = " ".join(["flask --app app import-wordpress <export.xml> --media <uploads>", *extra])
    log = folder / f"{name.replace(' ', '-')}.log"
    return measure(name, flask_args(*args), env, log, shown)


def checks(measured: Measured) -> list[Check]:
    """The budget, flat memory, and a dry run and a second run that change nothing."""
    large_runs = (measured.dry_run, measured.first, measured.second)
    peak = max(large_runs, key=lambda run: run.peak_kib)
    ratio = measured.first.peak_kib / measured.small.peak_kib
    added = measured.after_first.get("articles", 0) - measured.before.get("articles", 0)
    return [
        Check(
            f"peak RSS of every {measured.posts:,}-post run ≤ {BUDGET_MIB} MiB",
            f"{peak.peak_mib:.0f} MiB at most ({peak.name})",
            peak.peak_mib <= BUDGET_MIB,
        ),
        Check(
            f"peak RSS at {measured.posts:,} posts ≤ {GROWTH} times at {measured.small_posts:,}",
            f"{measured.first.peak_mib:.0f} vs {measured.small.peak_mib:.0f} MiB ({ratio:.2f})",
            ratio <= GROWTH,
        ),
        Check(
            "the import adds articles",
            f"{added:,} articles from {measured.posts:,} posts",
            added > 0,
        ),
        Check(
            "the dry run changes nothing",
            _difference(measured.before, measured.after_dry_run)
            + _media_difference(measured.media_before_dry_run, measured.media_after_dry_run),
            measured.before == measured.after_dry_run
            and measured.media_before_dry_run == measured.media_after_dry_run,
        ),
        Check(
            "a second import adds nothing",
            _difference(measured.after_first, measured.after_second),
            measured.after_first == measured.after_second,
        ),
    ]


def _media_difference(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    """What the dry run left in or took from the media folder, or that it is unchanged."""
    added, removed = len(set(after) - set(before)), len(set(before) - set(after))
    if not (added or removed):
        return "; media folder unchanged"
    return f"; media folder: {added:,} files added, {removed:,} removed"


def _difference(before: dict[str, int], after: dict[str, int]) -> str:
    """What changed between two counts of the database, or that nothing did."""
    changed = [
        f"{table} {before.get(table, 0):,} → {after.get(table, 0):,}"
        for table in sorted(before.keys() | after.keys())
        if before.get(table, 0) != after.get(table, 0)
    ]
    return "; ".join(changed) if changed else "no count changed"


def section(measured: Measured, found: list[Check], made_by: str, minutes: float) -> str:
    """The Markdown between the import markers: machine, file, checks, figures, commands."""
    baseline = measured.baseline.peak_kib
    rows = [
        "| run | peak RSS MiB | above the baseline MiB | seconds |",
        "| --- | ---: | ---: | ---: |",
    ]
    named = (
        ("the app starting (`flask --help`), the baseline", measured.baseline),
        (f"import of {measured.small_posts:,} posts", measured.small),
        (f"dry run of {measured.posts:,} posts", measured.dry_run),
        (f"import of {measured.posts:,} posts", measured.first),
        (f"the same import again, {measured.posts:,} posts", measured.second),
        (
            f"for reference: lxml reading the {measured.posts:,}-post file into one tree",
            measured.whole_tree,
        ),
    )
    for name, run in named:
        above = (run.peak_kib - baseline) / 1024
        rows.append(f"| {name} | {run.peak_mib:,.0f} | {above:,.0f} | {run.seconds:,.1f} |")
    tables = sorted(measured.before.keys() | measured.after_second.keys())
    stages = (
        ("new site", measured.before),
        ("after the dry run", measured.after_dry_run),
        ("after the import", measured.after_first),
        ("after the second import", measured.after_second),
    )
    count_rows = [
        "| database | " + " | ".join(tables) + " |",
        "| --- |" + " ---: |" * len(tables),
        *(
            f"| {stage} | " + " | ".join(f"{found.get(table, 0):,}" for table in tables) + " |"
            for stage, found in stages
        ),
    ]
    items = ", ".join(f"{measured.items.get(kind, 0):,} {name}" for kind, name in KINDS.items())
    commands = list(dict.fromkeys(run.command for _, run in named))
    lines = [
        "## WordPress import",
        "",
        f"Written by `{made_by}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the run took "
        f"{minutes:.1f} minutes.",
        "",
        f"- Machine: {os.cpu_count()} cores ({cpu_model()}), shared with other work.",
        f"- Export: {measured.posts:,} posts generated by `bench/wxr.py` "
        f"({measured.file_bytes / 1e6:,.1f} MB; {items}), with an uploads folder of "
        f"{measured.upload_files:,} files drawn from {wxr.PICTURES} photographs at two sizes; "
        f"the small export has {measured.small_posts:,} posts "
        f"({measured.small_file_bytes / 1e6:,.1f} MB). Media files stored by the import: "
        f"{measured.media_files:,}.",
        "- Each command runs alone on a new SQLite site, started by a small launcher process "
        "(about 10 MiB) that reads its peak resident memory (RSS) with wait4.",
        "",
        "### Checks",
        "",
        *(f"- {check.line()}" for check in found),
        "",
        "### Memory and time",
        "",
        *rows,
        "",
        "### What the database holds",
        "",
        *count_rows,
        "",
        "### Commands",
        "",
        "```sh",
        *commands,
        "```",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: the sizes of the two exports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=positive, default=10_000, help="large export (10000)")
    parser.add_argument("--small", type=positive, default=1_000, help="small export (1000)")
    return parser.parse_args(argv)


def main() -> int:
    """Run the benchmark; non-zero when a check fails."""
    args = parse_args()
    made_by = "make bench-import" + (
        f' IMPORT_ARGS="{shlex.join(sys.argv[1:])}"' if sys.argv[1:] else ""
    )
    if "MAKELEVEL" not in os.environ:
        made_by = shlex.join(["python", "-m", "bench.import_memory", *sys.argv[1:]])
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="dateline-import-") as folder:
            measured = run(args.posts, args.small, Path(folder))
    except KeyboardInterrupt:
        print("import_memory: interrupted; no results written", file=sys.stderr)
        return 130
    found = checks(measured)
    text = section(measured, found, made_by, (time.monotonic() - started) / 60)
    existing = REPORT.read_text(encoding="utf-8") if REPORT.exists() else None
    REPORT.write_text(
        results.merge_section(existing, results.IMPORT_START, results.IMPORT_END, text),
        encoding="utf-8",
    )
    print(text)
    return 0 if all(check.passed for check in found) else 1


if __name__ == "__main__":
    sys.exit(main())

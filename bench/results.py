"""The benchmark's figures: wrk's reports, the budgets, and the Markdown kept in RESULTS.md."""

from __future__ import annotations

import json
from dataclasses import dataclass

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
LIGHTHOUSE_START, LIGHTHOUSE_END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"
IMPORT_START, IMPORT_END = "<!-- import:start -->", "<!-- import:end -->"

# The budgets: requests per second against the ceiling, by page key ...
CEILING_SHARES = {"article": 0.8, "featured": 0.9, "latest": 0.9}
# ... p50 latency at the largest archive against the smallest, for every page ...
LATENCY_GROWTH = 1.25
# ... and a first visit of the article page, before images.
FIRST_VISIT_BYTES = 30_000  # compressed HTML, CSS and JS, htmx and sidebar fragments included
FIRST_VISIT_REQUESTS = 5


@dataclass(frozen=True)
class Load:
    """What one wrk run measured; ``errors`` counts answers of 400 and up and socket errors,
    ``received`` every byte read, headers included.
    """

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    received: int

    @property
    def per_second(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds


def parse_wrk(output: str) -> Load:
    """The figures in wrk's output: the JSON line that bench/wrk_report.lua ends it with."""
    line = next((line for line in reversed(output.splitlines()) if line.startswith("{")), None)
    if line is None:
        raise ValueError("wrk printed no report line; was it run with -s bench/wrk_report.lua?")
    report = json.loads(line)
    return Load(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["status_errors"] + report["socket_errors"],
        received=report["bytes"],
    )


@dataclass(frozen=True)
class Measured:
    """One page at one archive size: its figures under load, or why it has none.

    ``problem`` is empty for a page measured right, starts with "missing" for a page the app
    does not have yet, and otherwise says what was wrong with its answers.
    """

    key: str
    name: str
    path: str
    load: Load | None
    problem: str = ""


@dataclass(frozen=True)
class SizeRun:
    """Every page measured at one archive size, and the ceiling measured beside them."""

    size: int
    ceiling: Load
    pages: list[Measured]


@dataclass(frozen=True)
class Transfer:
    """One request of a first visit: its path, kind, and body bytes before and after encoding."""

    path: str
    kind: str
    raw: int
    transferred: int
    encoding: str


@dataclass(frozen=True)
class Visit:
    """A first visit of a page in Chromium: the requests before images, and the layout shift."""

    name: str
    path: str
    transfers: list[Transfer]
    shift: float

    @property
    def raw(self) -> int:
        """Body bytes of every request, decoded."""
        return sum(transfer.raw for transfer in self.transfers)

    @property
    def transferred(self) -> int:
        """Body bytes of every request as they travelled (compressed)."""
        return sum(transfer.transferred for transfer in self.transfers)


@dataclass(frozen=True)
class Encoded:
    """One resource's body with no encoding, gzip and Brotli."""

    name: str
    path: str
    raw: int
    gzip: int
    br: int


@dataclass(frozen=True)
class Check:
    """A budget: what it asks, what was measured, and whether it holds."""

    name: str
    measured: str
    passed: bool

    def line(self) -> str:
        """The check as a line of the report."""
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.measured}"


def answer_checks(runs: list[SizeRun]) -> list[Check]:
    """Every page answered 200 with its content before timing, and without errors under load."""
    wrong = [
        f"{page.name} at {run.size:,}: {page.problem or f'{page.load.errors} errors under load'}"
        for run in runs
        for page in run.pages
        if (page.problem and not page.problem.startswith("missing"))
        or (page.load is not None and page.load.errors)
    ]
    wrong += [
        f"ceiling at {run.size:,}: {run.ceiling.errors} errors"
        for run in runs
        if run.ceiling.errors
    ]
    measured = "; ".join(wrong) if wrong else "every answer was right"
    return [Check("pages answer 200 with their content, no errors under load", measured, not wrong)]


def ceiling_checks(run: SizeRun) -> list[Check]:
    """The article page and the sidebar fragments against the ceiling's requests per second."""
    checks = []
    for page in run.pages:
        share = CEILING_SHARES.get(page.key)
        if share is None or page.load is None:
            continue
        ratio = page.load.per_second / run.ceiling.per_second
        checks.append(
            Check(
                f"{page.name} ≥ {share:.2f} of the ceiling at {run.size:,} articles",
                f"{page.load.per_second:,.0f} vs {run.ceiling.per_second:,.0f} requests/s "
                f"({ratio:.2f})",
                ratio >= share,
            )
        )
    return checks


def latency_checks(small: SizeRun, large: SizeRun) -> list[Check]:
    """Every page's p50 latency at the larger archive against the smaller one."""
    before = {page.key: page.load for page in small.pages if page.load is not None}
    checks = []
    for page in large.pages:
        if page.load is None or page.key not in before:
            continue
        ratio = page.load.p50_ms / before[page.key].p50_ms
        checks.append(
            Check(
                f"{page.name}: p50 at {large.size:,} articles "
                f"≤ {LATENCY_GROWTH} times p50 at {small.size:,}",
                f"{page.load.p50_ms:.1f} vs {before[page.key].p50_ms:.1f} ms ({ratio:.2f})",
                ratio <= LATENCY_GROWTH,
            )
        )
    return checks


def visit_checks(article: Visit, visits: list[Visit]) -> list[Check]:
    """The article page's first visit within its weight, and no layout shift on any page."""
    requests = len(article.transfers)
    shifts = ", ".join(f"{visit.name} {visit.shift:.3f}" for visit in visits)
    return [
        Check(
            f"first visit of the article page ≤ {FIRST_VISIT_BYTES:,} bytes compressed "
            f"HTML+CSS+JS in ≤ {FIRST_VISIT_REQUESTS} requests before images",
            f"{article.transferred:,} bytes in {requests} requests",
            article.transferred <= FIRST_VISIT_BYTES and requests <= FIRST_VISIT_REQUESTS,
        ),
        Check(
            "no layout shift (CLS 0) from sidebars or images",
            f"CLS {shifts}",
            all(visit.shift == 0 for visit in visits),
        ),
    ]


def load_table(run: SizeRun, baseline: SizeRun | None) -> str:
    """A Markdown table of one size's pages: throughput, latency, and their ratios to the
    ceiling and, given a ``baseline`` size, to the same page's p50 there.
    """
    head = ["page", "path", "requests/s", "p50 ms", "p99 ms", "of ceiling"]
    if baseline:
        head.append(f"p50 / p50 at {baseline.size:,}")
    before = {page.key: page.load for page in baseline.pages} if baseline else {}
    if baseline:
        before["ceiling"] = baseline.ceiling
    rows = [head, ["---", "---", *["---:"] * (len(head) - 2)]]
    name = "ceiling (the same bytes from memory)"
    ceiling = Measured("ceiling", name, run.pages[0].path, run.ceiling)
    for page in [*run.pages[:1], ceiling, *run.pages[1:]]:
        cells = [page.name, f"`{page.path}`"]
        if page.load is None:
            rows.append([*cells, page.problem, *[""] * (len(head) - 3)])
            continue
        cells += [
            f"{page.load.per_second:,.0f}",
            f"{page.load.p50_ms:.1f}",
            f"{page.load.p99_ms:.1f}",
            f"{page.load.per_second / run.ceiling.per_second:.2f}",
        ]
        if baseline:
            earlier = before.get(page.key)
            cells.append(f"{page.load.p50_ms / earlier.p50_ms:.2f}" if earlier else "-")
        rows.append(cells)
    return "\n".join("| " + " | ".join(cells) + " |" for cells in rows)


def visit_table(visits: list[Visit]) -> str:
    """A Markdown table of every request of each first visit, with a total per page."""
    rows = [
        "| page | request | kind | bytes | compressed | encoding |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for visit in visits:
        for transfer in visit.transfers:
            rows.append(
                f"| {visit.name} | `{transfer.path}` | {transfer.kind} | {transfer.raw:,} "
                f"| {transfer.transferred:,} | {transfer.encoding} |"
            )
        rows.append(
            f"| **{visit.name}** | **{len(visit.transfers)} requests before images** | "
            f"| **{visit.raw:,}** | **{visit.transferred:,}** | CLS {visit.shift:.3f} |"
        )
    return "\n".join(rows)


def encoded_table(encoded: list[Encoded]) -> str:
    """A Markdown table of resources' sizes with no encoding, gzip and Brotli."""
    rows = ["| resource | path | bytes | gzip | br |", "| --- | --- | ---: | ---: | ---: |"]
    rows += [
        f"| {item.name} | `{item.path}` | {item.raw:,} | {item.gzip:,} | {item.br:,} |"
        for item in encoded
    ]
    return "\n".join(rows)


def merge(existing: str | None, section: str) -> str:
    """RESULTS.md with ``section`` between the benchmark's markers, other sections untouched."""
    if existing is None:
        block = f"{START}\n{section.strip()}\n{END}"
        return f"# Benchmark results\n\n{block}\n\n{LIGHTHOUSE_START}\n{LIGHTHOUSE_END}\n"
    return merge_section(existing, START, END, section)


def merge_section(existing: str | None, start: str, end: str, section: str) -> str:
    """RESULTS.md with ``section`` between the markers ``start`` and ``end`` (added at the end
    when missing), other sections untouched.
    """
    block = f"{start}\n{section.strip()}\n{end}"
    if existing is None:
        return f"# Benchmark results\n\n{block}\n"
    if start in existing and end in existing:
        head, rest = existing.split(start, 1)
        return head + block + rest.split(end, 1)[1]
    return f"{existing.rstrip()}\n\n{block}\n"

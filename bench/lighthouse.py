"""Lighthouse on the front page and an article of a throwaway site, with the mobile profile."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from demo_site import HOST, ROOT, demo_instance, free_port, start_server, stop_server, tail

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LIGHTHOUSE = "bench/node_modules/.bin/lighthouse"  # from the repository's root
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox"
CATEGORIES = {
    "performance": "Performance",
    "accessibility": "Accessibility",
    "best-practices": "Best Practices",
    "seo": "SEO",
}
PASS = 98
START, END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"
SKELETON = "# Benchmark results\n\n<!-- bench:start -->\n<!-- bench:end -->\n"
WARM_UP = 4  # requests per page before auditing, so that each gunicorn worker has rendered it
RUN_TIMEOUT = 300  # seconds one Lighthouse run may take
ATTEMPTS = 3  # a run that fails to record the page load ("Please run Lighthouse again") is retried


@dataclass
class Audited:
    """One page's Lighthouse reports, a run each."""

    name: str
    path: str
    reports: list[dict[str, Any]]

    def scores(self, category: str) -> list[int]:
        """The category's score (0 to 100) in each run."""
        return [round(report["categories"][category]["score"] * 100) for report in self.reports]

    def median(self, category: str) -> int:
        """The median score of the category (the lower middle one for an even count of runs)."""
        return statistics.median_low(self.scores(category))

    def failures(self, category: str) -> list[str]:
        """The audits the median run failed: weighted below 1, unweighted below 0.9 (as shown)."""
        report = self.reports[self.scores(category).index(self.median(category))]
        found = []
        for ref in sorted(report["categories"][category]["auditRefs"], key=lambda r: -r["weight"]):
            audit = report["audits"][ref["id"]]
            score = audit["score"]
            if score is not None and score < (1 if ref["weight"] else 0.9):
                value = f", {audit['displayValue']}" if audit.get("displayValue") else ""
                weight = ref["weight"]
                found.append(
                    f"{ref['id']}: {audit['title']} (score {score:g}, weight {weight}{value})"
                )
        return found


def command(url: str, output: Path) -> list[str]:
    """The Lighthouse command line that audits ``url`` into a JSON report at ``output``."""
    return [
        LIGHTHOUSE,
        url,
        "--output=json",
        f"--output-path={output}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--quiet",
    ]


def audit(url: str, output: Path) -> dict[str, Any]:
    """Run Lighthouse on ``url`` until it records a page load; its report."""
    for attempt in range(1, ATTEMPTS + 1):
        output.unlink(missing_ok=True)
        done = subprocess.run(
            command(url, output),
            cwd=ROOT,
            env=os.environ | {"CHROME_PATH": CHROMIUM},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        if done.returncode == 0 and output.exists():
            return json.loads(output.read_text())
        problem = (done.stdout + done.stderr).strip()
        print(f"lighthouse: attempt {attempt} on {url} failed: {problem}", file=sys.stderr)
    raise SystemExit(f"lighthouse: {ATTEMPTS} attempts on {url} failed")


def fetch(port: int, path: str) -> str:
    """GET ``path`` from the site; its body, or stop when it does not answer 200."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    if response.status != 200:
        raise SystemExit(f"lighthouse: {path} answered {response.status}")
    return body


def pages(port: int) -> dict[str, str]:
    """The pages to audit by name: the front page and the lead story it links to first."""
    found = re.search(r'href="(/articles/[^"?#]+)"', fetch(port, "/"))
    if found is None:
        raise SystemExit("lighthouse: the front page links to no article")
    return {"front page": "/", "article": found[1]}


def chromium_version() -> str:
    """Chromium's version number, as the browser prints it."""
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"\d+(?:\.\d+)+", done.stdout)
    return found[0] if found else done.stdout.strip()


def section(audited: list[Audited], runs: int, busy: float) -> str:
    """The Markdown between the markers: versions, machine, scores, commands, failures."""
    version = audited[0].reports[0]["lighthouseVersion"]
    made_by = "make lighthouse" + (
        f' LIGHTHOUSE_ARGS="{shlex.join(sys.argv[1:])}"' if sys.argv[1:] else ""
    )
    if "MAKELEVEL" not in os.environ:
        made_by = shlex.join(["python", "bench/lighthouse.py", *sys.argv[1:]])
    medians = "the median of each category" if runs > 1 else "each category's score"
    lines = [
        "## Lighthouse",
        "",
        f"Written by `{made_by}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with Lighthouse "
        f"{version} and Chromium {chromium_version()} (headless), on {os.cpu_count()} cores "
        f"shared with other work (load average {busy:.2f} before the run). Mobile profile "
        "(Lighthouse's default: an emulated phone, simulated slow 4G and a 4x slower CPU); "
        f"the site is a new one with the demo articles, served by gunicorn with 2 workers. "
        f"Each page was audited {runs} time{'s' if runs > 1 else ''}; the table gives {medians}, "
        "and the Performance score of every run.",
        "",
        "| page | " + " | ".join(CATEGORIES.values()) + " | Performance per run |",
        "| --- |" + " ---: |" * len(CATEGORIES) + " --- |",
    ]
    for page in audited:
        medians_row = [str(page.median(category)) for category in CATEGORIES]
        per_run = ", ".join(map(str, page.scores("performance")))
        lines.append(
            f"| {page.name} `{page.path}` | " + " | ".join(medians_row) + f" | {per_run} |"
        )
    lines += ["", f"Commands (`<n>` is the run, 1 to {runs}):", "", "```sh"]
    for page in audited:
        line = command(
            f"http://{HOST}:<port>{page.path}", Path(f"<tmp>/{slug(page.name)}-<n>.json")
        )
        lines.append(f"CHROME_PATH={CHROMIUM} {shlex.join(line)}")
    lines.append("```")
    failing = failures(audited)
    lines += ["", f"Result: every score ≥ {PASS}." if not failing else f"Result: below {PASS}:"]
    if failing:
        lines += ["", *(f"- {line}" for line in failing)]
    return "\n".join(lines)


def failures(audited: list[Audited]) -> list[str]:
    """Each median score below the bar, with the audits its run failed."""
    found = []
    for page in audited:
        for category, title in CATEGORIES.items():
            if page.median(category) < PASS:
                found.append(f"{page.name} {title} {page.median(category)}")
                found += [f"  - {audit}" for audit in page.failures(category)]
    return found


def slug(name: str) -> str:
    """A file name part for a page name."""
    return name.replace(" ", "-")


def write(text: str) -> None:
    """Put ``text`` between the Lighthouse markers of RESULTS.md, leaving the rest as it is."""
    current = RESULTS.read_text() if RESULTS.exists() else SKELETON
    block = f"{START}\n{text}\n{END}"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        RESULTS.write_text(before + block + after)
    else:
        RESULTS.write_text(current.rstrip("\n") + "\n\n" + block + "\n")


def run(runs: int, folder: Path) -> int:
    """Build the site, audit each page ``runs`` times, write the section; the exit status."""
    if not (ROOT / LIGHTHOUSE).exists():
        raise SystemExit("lighthouse: bench/node_modules has no Lighthouse; run `make lighthouse`")
    busy = os.getloadavg()[0]  # other work on the machine skews the Performance score
    env = demo_instance(folder, "lighthouse")
    port = free_port()
    log = folder / "gunicorn.log"
    server = start_server(env, port, 2, log)
    try:
        targets = pages(port)
        for path in targets.values():
            for _ in range(WARM_UP):
                fetch(port, path)
        audited = []
        for name, path in targets.items():
            reports = [
                audit(f"http://{HOST}:{port}{path}", folder / f"{slug(name)}-{n}.json")
                for n in range(1, runs + 1)
            ]
            audited.append(Audited(name, path, reports))
    except SystemExit:
        print(f"Server log (end):\n{tail(log)}", file=sys.stderr)
        raise
    finally:
        stop_server(server)
    text = section(audited, runs, busy)
    write(text)
    print(text)
    return 1 if failures(audited) else 0


def main() -> int:
    """Run the audits; non-zero when any median score is below the bar."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="audits of each page (3)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="dateline-lighthouse-") as folder:
            return run(args.runs, Path(folder))
    except KeyboardInterrupt:
        print("lighthouse: interrupted; the server is stopped, no results written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

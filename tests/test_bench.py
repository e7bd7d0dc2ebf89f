"""The benchmark's own parts: reading wrk, the budgets, RESULTS.md, the seeder, the commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import results, seed
from bench.bench import Run, pages, parse_args, wrk_command
from bench.results import Check, Load, Measured, SizeRun, Transfer, Visit
from blog.dates import long_date
from blog.extensions import db
from blog.models import Article, article_tags

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/articles/benchmark-article
  2 threads and 8 connections
  Latency Distribution
     50%    6.18ms
     99%   32.59ms
  1538 requests in 2.00s, 698.41KB read
Requests/sec:    767.35
{"requests": 1538, "duration_us": 2000000, "bytes": 715170, "status_errors": 2, \
"socket_errors": 1, "p50_us": 6182, "p90_us": 16125, "p99_us": 32594, "max_us": 45060}
"""


def load(per_second: float, p50_ms: float = 10.0, errors: int = 0) -> Load:
    """A wrk result of ``per_second`` requests over ten seconds."""
    requests = round(per_second * 10)
    return Load(requests, 10.0, p50_ms, p50_ms * 3, errors, requests * 10_000)


def size_run(size: int, ceiling: float = 1000.0, **pages: Load | None) -> SizeRun:
    """A size's results with a page per keyword (its key), ``None`` for a missing page."""
    measured = [
        Measured(key, key, f"/{key}", figures, "" if figures else "missing (404)")
        for key, figures in pages.items()
    ]
    return SizeRun(size, load(ceiling), measured)


def test_parse_wrk_reads_the_report_line() -> None:
    figures = results.parse_wrk(WRK_OUTPUT)
    assert figures == Load(1538, 2.0, 6.182, 32.594, 3, 715170)
    assert figures.per_second == 769


def test_parse_wrk_without_the_report_script_says_so() -> None:
    with pytest.raises(ValueError, match=r"wrk_report\.lua"):
        results.parse_wrk("Running 10s test @ http://127.0.0.1:8000/\nRequests/sec: 767.35\n")


def test_ceiling_budgets_hold_the_article_page_to_080_and_sidebars_to_090() -> None:
    run = size_run(1000, article=load(800), featured=load(850), latest=load(900), front=load(10))
    checks = {check.name.split(" ≥")[0]: check.passed for check in results.ceiling_checks(run)}
    assert checks == {"article": True, "featured": False, "latest": True}


def test_latency_budget_compares_each_page_with_itself_at_the_smaller_size() -> None:
    small = size_run(1000, article=load(500, 10.0), deep=load(500, 10.0), search=None)
    large = size_run(100_000, article=load(500, 12.5), deep=load(100, 40.0), search=None)
    checks = results.latency_checks(small, large)
    assert [(check.name.split(":")[0], check.passed) for check in checks] == [
        ("article", True),
        ("deep", False),
    ]
    assert "40.0 vs 10.0 ms (4.00)" in checks[1].measured


def test_a_missing_page_is_reported_but_a_wrong_answer_or_errors_fail() -> None:
    missing = size_run(1000, article=load(500), search=None)
    assert results.answer_checks([missing])[0].passed
    wrong = SizeRun(1000, load(900), [Measured("front", "front page", "/", None, "answered 500")])
    errors = size_run(1000, article=load(500, errors=3))
    for run in (wrong, errors):
        assert not results.answer_checks([run])[0].passed
    assert "front page at 1,000: answered 500" in results.answer_checks([wrong])[0].measured


def visit(requests: int, transferred: int, shift: float = 0.0) -> Visit:
    """A first visit of ``requests`` requests of equal size summing to ``transferred`` bytes."""
    each = transferred // requests
    transfers = [Transfer(f"/{n}", "script", each * 3, each, "br") for n in range(requests)]
    return Visit("article page", "/articles/x", transfers, shift)


@pytest.mark.parametrize(
    ("article", "weight_passes", "shift_passes"),
    [
        (visit(5, 30_000), True, True),
        (visit(6, 12_000), False, True),
        (visit(5, 30_005), False, True),
        (visit(5, 20_000, shift=0.02), True, False),
    ],
)
def test_first_visit_budgets(article: Visit, weight_passes: bool, shift_passes: bool) -> None:
    weight, shift = results.visit_checks(article, [article])
    assert (weight.passed, shift.passed) == (weight_passes, shift_passes)


def test_check_lines_say_pass_or_fail() -> None:
    assert Check("a", "b", True).line() == "PASS  a: b"
    assert Check("a", "b", False).line() == "FAIL  a: b"


def test_load_table_puts_the_ceiling_after_the_article_page_and_ratios_beside() -> None:
    small = size_run(1000, article=load(500, 10.0), search=None)
    large = size_run(100_000, ceiling=800, article=load(400, 15.0), search=None)
    lines = results.load_table(large, small).splitlines()
    assert lines[0].endswith("| of ceiling | p50 / p50 at 1,000 |")
    assert lines[2] == "| article | `/article` | 400 | 15.0 | 45.0 | 0.50 | 1.50 |"
    assert lines[3].startswith("| ceiling (the same bytes from memory) | `/article` | 800 |")
    assert lines[3].endswith("| 1.00 | 1.00 |")
    assert lines[4] == "| search | `/search` | missing (404) |  |  |  |  |"
    assert "p50 / p50" not in results.load_table(small, None)


def test_merge_writes_between_its_markers_only() -> None:
    created = results.merge(None, "first")
    assert created.index(results.START) < created.index("first") < created.index(results.END)
    assert results.LIGHTHOUSE_START in created and results.LIGHTHOUSE_END in created
    lighthouse = created.replace(
        results.LIGHTHOUSE_START, f"{results.LIGHTHOUSE_START}\nscores kept"
    )
    updated = results.merge(lighthouse, "second")
    assert "second" in updated and "first" not in updated and "scores kept" in updated
    appended = results.merge("# Results\n\nsomething else\n", "third")
    assert appended.startswith("# Results\n\nsomething else\n\n" + results.START)


def test_pages_measure_the_middle_of_the_listing_and_leave_the_article_out() -> None:
    measured = {
        page.key: page for page in pages(seed.Seeded(article_id=77, articles=1010, public=1000))
    }
    assert measured["deep"].path == "/latest?page=50"
    assert measured["featured"].path == "/sidebars/featured?exclude=77"
    assert measured["featured"].headers == {"HX-Request": "true"}
    assert measured["search"].optional and not measured["article"].optional


def test_commands_are_reported_without_paths_ports_or_secrets(tmp_path: Path) -> None:
    args = argparse.Namespace(threads=2, connections=8, seconds=10)
    run = Run(args, tmp_path, instances=[tmp_path / "1000-articles"])
    env = {"FLASK_SECRET_KEY": "s3cret", "FLASK_MEDIA_DIR": str(tmp_path / "1000-articles/media")}
    run.keep(["gunicorn", "--bind", "127.0.0.1:41234", "app:app"], env)
    featured = next(page for page in pages(seed.Seeded(7, 100, 90)) if page.key == "featured")
    run.keep(wrk_command(args, 41234, featured))
    assert run.commands == [
        "FLASK_SECRET_KEY=<random> FLASK_MEDIA_DIR=<instance>/media "
        "gunicorn --bind 127.0.0.1:<port> app:app",
        "wrk -t2 -c8 -d10s --latency -s bench/wrk_report.lua -H 'HX-Request: true' "
        "'http://127.0.0.1:<port>/sidebars/featured?exclude=7'",
    ]


def test_seeder_writes_articles_readers_can_read(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        seeded = seed.seed(50)
        articles = db.session.scalars(sa.select(Article)).all()
        measured = Article.by_slug(seed.SLUG)
        assert measured is not None and measured.id == seeded.article_id
        stored = measured.body_html, measured.toc
        measured.render()  # the pipeline itself makes the same HTML as the seeder stored
        assert (measured.body_html, measured.toc) == stored
        assert f"– {long_date(measured.published_at)} –" in measured.body_html
        tags = db.session.execute(sa.select(sa.func.count()).select_from(article_tags)).scalar()
        hero = Path(app.config["MEDIA_DIR"]) / str(measured.hero_image)
    assert len(articles) == seeded.articles == 50
    assert len({article.slug for article in articles}) == 50
    assert seeded.public == sum(article.is_public for article in articles)
    assert len({article.author_id for article in articles}) > 1
    assert 2 * 50 <= tags <= 4 * 50
    assert hero.is_file()
    page = client.get(f"/articles/{seed.SLUG}")
    assert page.status_code == 200
    for marker in pages(seeded)[0].markers:
        assert marker in page.text
    sidebar = client.get(f"/sidebars/latest?exclude={seeded.article_id}")
    assert f"/articles/{seed.SLUG}" not in sidebar.text
    assert sidebar.text.count("<li>") == 5


def test_command_line_sorts_sizes_and_refuses_nonsense() -> None:
    args = parse_args(["--sizes", "100000,1000", "--seconds", "3", "--no-cache"])
    assert (args.sizes, args.seconds, args.no_cache) == ([1000, 100_000], 3, True)
    assert parse_args([]).sizes == [1000, 100_000]
    for bad in (["--sizes", "1k"], ["--sizes", "0,10"], ["--seconds", "-1"]):
        with pytest.raises(SystemExit):
            parse_args(bad)

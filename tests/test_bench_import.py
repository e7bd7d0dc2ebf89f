"""The import benchmark's parts: the generated WordPress export, the checks and the report."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

from bench import results, wxr
from bench.import_memory import BUDGET_MIB, Measured, Run, checks, counts, measure, section

WP = "{http://wordpress.org/export/1.2/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
POSTS = 400


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> wxr.Generated:
    """A 400-post export with its uploads folder."""
    folder = tmp_path_factory.mktemp("wxr")
    return wxr.write_wxr(folder / "export.xml", POSTS, uploads=folder / "uploads")


@pytest.fixture(scope="module")
def items(export: wxr.Generated) -> list[etree._Element]:
    """Every ``<item>`` of the export, parsed by lxml."""
    return etree.parse(str(export.path)).getroot().findall("channel/item")


def meta(item: etree._Element, key: str) -> str | None:
    """The value of the item's postmeta ``key``."""
    for entry in item.iter(f"{WP}postmeta"):
        if entry.findtext(f"{WP}meta_key") == key:
            return entry.findtext(f"{WP}meta_value")
    return None


def of_type(items: list[etree._Element], kind: str) -> list[etree._Element]:
    """The items of ``post_type`` ``kind``."""
    return [item for item in items if item.findtext(f"{WP}post_type") == kind]


def test_export_is_wxr_12_with_authors_categories_and_tags(export: wxr.Generated) -> None:
    channel = etree.parse(str(export.path)).getroot().find("channel")
    assert channel.findtext(f"{WP}wxr_version") == "1.2"
    assert channel.findtext(f"{WP}base_site_url") == wxr.SITE
    assert len(channel.findall(f"{WP}author")) == len(wxr.AUTHORS)
    assert len(channel.findall(f"{WP}category")) == len(wxr.CATEGORIES)
    assert len(channel.findall(f"{WP}tag")) == len(wxr.TAGS)
    namespaces = etree.parse(str(export.path)).getroot().nsmap
    assert set(namespaces) == {"wp", "content", "excerpt", "dc", "wfw"}


def test_posts_have_the_requested_count_per_status(
    export: wxr.Generated, items: list[etree._Element]
) -> None:
    found = Counter(item.findtext(f"{WP}status") for item in of_type(items, "post"))
    assert found == wxr.status_counts(POSTS) == export.statuses
    assert sum(found.values()) == POSTS
    assert set(found) == {"publish", "draft", "pending", "future", "private", "trash"}


def test_status_counts_add_up_with_the_rest_published() -> None:
    assert wxr.status_counts(10_000) == {
        "publish": 9_200,
        "draft": 300,
        "pending": 100,
        "future": 100,
        "private": 100,
        "trash": 200,
    }


def test_export_holds_pages_menu_items_sticky_posts_and_comments(
    export: wxr.Generated, items: list[etree._Element]
) -> None:
    assert len(of_type(items, "page")) == export.types["page"] >= 3
    assert len(of_type(items, "nav_menu_item")) == export.types["nav_menu_item"] > 0
    sticky = [item for item in items if item.findtext(f"{WP}is_sticky") == "1"]
    assert len(sticky) == export.sticky > 0
    assert {item.findtext(f"{WP}status") for item in sticky} == {"publish"}
    assert sum(len(item.findall(f"{WP}comment")) for item in items) == export.comments > 0


def test_item_ids_are_unique_and_in_order(items: list[etree._Element]) -> None:
    ids = [int(item.findtext(f"{WP}post_id")) for item in items]
    assert ids == sorted(set(ids))


def test_featured_images_name_attachments_whose_files_are_in_the_uploads(
    export: wxr.Generated, items: list[etree._Element]
) -> None:
    attachments = {item.findtext(f"{WP}post_id"): item for item in of_type(items, "attachment")}
    thumbnails = [meta(item, "_thumbnail_id") for item in of_type(items, "post")]
    thumbnails = [thumbnail for thumbnail in thumbnails if thumbnail]
    assert len(thumbnails) == export.featured > POSTS / 3
    assert set(thumbnails) <= attachments.keys()
    for attachment in attachments.values():
        url = attachment.findtext(f"{WP}attachment_url")
        assert url.startswith(f"{wxr.UPLOADS}/")
        assert meta(attachment, "_wp_attached_file") == url.removeprefix(f"{wxr.UPLOADS}/")
        assert (export.uploads / url.removeprefix(f"{wxr.UPLOADS}/")).is_file()


def test_images_in_bodies_point_at_files_in_the_uploads(
    export: wxr.Generated, items: list[etree._Element]
) -> None:
    bodies = "".join(item.findtext(CONTENT) for item in items)
    sources = re.findall(r'<img [^>]*src="([^"]+)"', bodies)
    assert len(sources) > 20
    for source in sources:
        assert source.startswith(f"{wxr.UPLOADS}/")
        assert (export.uploads / source.removeprefix(f"{wxr.UPLOADS}/")).is_file()


def test_uploads_are_a_few_photographs_linked_many_times(export: wxr.Generated) -> None:
    files = [path for path in export.uploads.rglob("*") if path.is_file()]
    assert len(files) == export.upload_files > 50
    assert len({path.read_bytes() for path in files}) == 2 * wxr.PICTURES
    assert re.fullmatch(r"\d{4}/\d{2}/[^/]+\.jpg", files[0].relative_to(export.uploads).as_posix())


def test_bodies_look_like_wordpress(items: list[etree._Element]) -> None:
    bodies = [item.findtext(CONTENT) for item in of_type(items, "post")]
    classic = [body for body in bodies if "<!-- wp:" not in body]
    assert classic and len(classic) < len(bodies)  # classic and block editor posts
    assert all("\n\n" in body and not body.startswith("<p>") for body in classic)
    joined = "".join(bodies)
    for mark in ("[caption id=", "[/caption]", "<h2>", '<a href="', "<!--more-->", "&amp;"):
        assert mark in joined


def test_unicode_titles_get_percent_encoded_post_names(items: list[etree._Element]) -> None:
    titles = {item.findtext(f"{WP}post_name"): item.findtext("title") for item in items}
    encoded = {name: title for name, title in titles.items() if "%" in (name or "")}
    assert encoded
    for name, title in encoded.items():
        assert name == name.lower()
        assert any(word in title for word in unquote(name).split("-"))


def test_wp_slug_follows_wordpress() -> None:
    assert wxr.wp_slug("“We were not asked,” say Kraków residents") == (
        "we-were-not-asked-say-krakow-residents"
    )
    assert wxr.wp_slug("Київ — farmers' market") == "%d0%ba%d0%b8%d1%97%d0%b2-farmers-market"
    assert wxr.wp_slug("Søren’s café") == "sorens-cafe"


def test_cdata_splits_its_end_marker() -> None:
    text = "a ]]> b"
    parsed = etree.fromstring(f"<x>{wxr.cdata(text)}</x>".encode())
    assert parsed.text == text


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = wxr.write_wxr(tmp_path / "one.xml", 60, seed=7)
    again = wxr.write_wxr(tmp_path / "two.xml", 60, seed=7)
    other = wxr.write_wxr(tmp_path / "three.xml", 60, seed=8)
    assert first.path.read_bytes() == again.path.read_bytes()
    assert first.path.read_bytes() != other.path.read_bytes()


def run(name: str, mib: float, seconds: float = 10.0) -> Run:
    """A measured command with a peak of ``mib`` MiB."""
    return Run(name, f"flask {name}", round(mib * 1024), seconds)


def measured(small: float = 120, large: float = 130, **changes: dict[str, int]) -> Measured:
    """Benchmark figures with the 1,000-post import at ``small`` MiB and the 10,000-post runs
    at ``large``; the database counts as given in ``changes``, else a clean run's.
    """
    empty = {"articles": 0, "users": 0, "media": 0}
    full = {"articles": 9_900, "users": 8, "media": 12}
    stages = {"before": empty, "after_dry_run": empty, "after_first": full, "after_second": full}
    return Measured(
        posts=10_000,
        small_posts=1_000,
        file_bytes=56_000_000,
        small_file_bytes=5_600_000,
        items={"post": 10_000, "attachment": 8_000},
        upload_files=16_000,
        baseline=run("--help", 100, 1.3),
        whole_tree=run("whole tree", 600),
        small=run("small", small),
        dry_run=run("dry run", large),
        first=run("import", large),
        second=run("second import", large),
        media_files=48,
        **(stages | changes),
    )


def passed(figures: Measured) -> dict[str, bool]:
    """Each check's outcome by the start of its name."""
    return {check.name.split(" ≤")[0]: check.passed for check in checks(figures)}


def test_checks_pass_on_flat_memory_within_budget_and_idempotent_runs() -> None:
    assert all(passed(measured()).values())


def test_budget_fails_when_any_large_run_is_over() -> None:
    figures = measured()
    over = Measured(**(figures.__dict__ | {"second": run("second import", BUDGET_MIB + 1)}))
    found = {check.name: check for check in checks(over)}
    budget = found[f"peak RSS of every 10,000-post run ≤ {BUDGET_MIB} MiB"]
    assert not budget.passed
    assert budget.measured == f"{BUDGET_MIB + 1} MiB at most (second import)"


def test_growth_fails_when_memory_follows_the_file() -> None:
    outcome = passed(measured(small=120, large=160))
    assert outcome["peak RSS at 10,000 posts"] is False
    assert outcome["peak RSS of every 10,000-post run"] is True


def test_a_dry_run_or_second_run_that_writes_fails() -> None:
    wrote = {"articles": 5, "users": 0, "media": 0}
    doubled = {"articles": 19_800, "users": 8, "media": 12}
    outcome = passed(measured(after_dry_run=wrote, after_second=doubled))
    assert outcome["the dry run changes nothing"] is False
    assert outcome["a second import adds nothing"] is False
    detail = {check.name: check.measured for check in checks(measured(after_second=doubled))}
    assert detail["a second import adds nothing"] == "articles 9,900 → 19,800"


def test_a_dry_run_that_leaves_media_files_fails() -> None:
    left = measured(media_after_dry_run=("2024/03/x.jpg",))
    assert passed(left)["the dry run changes nothing"] is False
    assert passed(measured())["the dry run changes nothing"] is True


def test_an_import_that_adds_no_article_fails() -> None:
    empty = {"articles": 0, "users": 0, "media": 0}
    assert (
        passed(measured(after_first=empty, after_second=empty))["the import adds articles"] is False
    )


def test_section_reports_checks_memory_counts_and_commands() -> None:
    figures = measured()
    text = section(figures, checks(figures), "make bench-import", 12.5)
    assert text.startswith("## WordPress import\n")
    assert "the run took 12.5 minutes" in text
    assert "- PASS  peak RSS of every 10,000-post run" in text
    assert "| import of 10,000 posts | 130 | 30 | 10.0 |" in text
    assert "| the app starting (`flask --help`), the baseline | 100 | 0 | 1.3 |" in text
    assert "| after the second import | 9,900 | 12 | 8 |" in text
    assert "56.0 MB" in text
    commands = text.split("```sh\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert sorted(commands) == sorted(
        f"flask {name}"
        for name in ("--help", "whole tree", "small", "dry run", "import", "second import")
    )


def test_section_goes_between_its_markers_leaving_the_others(tmp_path: Path) -> None:
    existing = (
        "# Benchmark results\n\n<!-- bench:start -->\nwrk\n<!-- bench:end -->\n\n"
        "<!-- lighthouse:start -->\nscores\n<!-- lighthouse:end -->\n"
    )
    merged = results.merge_section(existing, results.IMPORT_START, results.IMPORT_END, "one\n")
    assert merged == existing + "\n<!-- import:start -->\none\n<!-- import:end -->\n"
    again = results.merge_section(merged, results.IMPORT_START, results.IMPORT_END, "two")
    assert again == existing + "\n<!-- import:start -->\ntwo\n<!-- import:end -->\n"
    assert results.merge(again, "new wrk").count("<!-- import:start -->\ntwo") == 1


def test_counts_reads_the_tables_the_database_has(tmp_path: Path) -> None:
    database = tmp_path / "site.db"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE articles (id INTEGER)")
        connection.executemany("INSERT INTO articles VALUES (?)", [(1,), (2,)])
        connection.execute("CREATE TABLE tags (id INTEGER)")
        connection.commit()
    assert counts(database) == {"articles": 2, "tags": 0}


def test_measure_reports_each_childs_own_peak(tmp_path: Path) -> None:
    env = dict(os.environ)
    filled = "x = bytearray(b'1') * (80 * 2**20)"  # written, so every page is resident
    big = measure("big", [sys.executable, "-c", filled], env, tmp_path / "big.log", "big")
    small = measure("small", [sys.executable, "-c", "pass"], env, tmp_path / "small.log", "small")
    assert big.peak_mib > 80 > small.peak_mib
    assert big.command == "big" and big.seconds > 0


def test_measure_stops_with_the_output_of_a_failing_command(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "raise SystemExit('no such command')"]
    with pytest.raises(SystemExit, match=r"flask nope failed \(1\):\nno such command"):
        measure("nope", failing, dict(os.environ), tmp_path / "nope.log", "flask nope")

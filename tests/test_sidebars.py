"""Sidebar fragments: five items, the current article left out, two states of one template."""

from __future__ import annotations

import re


def test_latest_sidebar_lists_five_newest_and_leaves_out_current(client, make_article):
    articles = [make_article(f"Story {n}") for n in range(7)]
    current = articles[0]
    body = client.get(f"/sidebars/latest?exclude={current.id}").text
    items = re.findall(r"<li><a href=\"/articles/([^\"]+)\">", body)
    assert len(items) == 5
    assert current.slug not in items


def test_featured_sidebar_lists_only_featured(client, make_article):
    featured = [make_article(f"Featured {n}", featured=True) for n in range(3)]
    make_article("Plain")
    body = client.get(f"/sidebars/featured?exclude={featured[1].id}").text
    assert "Featured 0" in body and "Featured 2" in body
    assert "Featured 1" not in body and "Plain" not in body


def test_sidebar_items_have_short_dates_in_time_elements(client, make_article):
    make_article("Dated")
    body = client.get("/sidebars/latest").text
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">[A-Z][a-z]{2} \d{1,2}, \d{4}</time>', body
    )


def test_filled_sidebar_keeps_the_root_of_the_empty_one(client, make_article):
    article = make_article("Reading")
    page = client.get(f"/articles/{article.slug}").text
    fragment = client.get(f"/sidebars/featured?exclude={article.id}").text
    assert '<aside class="sidebar" id="sidebar-featured"' in page
    assert fragment.lstrip().startswith('<aside class="sidebar" id="sidebar-featured"')
    assert "hx-get" not in fragment


def test_empty_sidebar_says_so(client):
    assert "Nothing here yet." in client.get("/sidebars/featured").text


def test_bad_exclude_is_ignored(client, make_article):
    make_article("Still listed")
    assert "Still listed" in client.get("/sidebars/latest?exclude=abc").text

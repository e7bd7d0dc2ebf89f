"""Related posts: tag matches, then section matches, newest first, as a lazy fragment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from blog.dates import utcnow
from blog.models import Article
from tests.test_editor import form_data
from tests.test_pagination import explained_plans

ITEM = re.compile(r'<li><a href="/articles/([^"]+)">')


def related_slugs(client, article: Article) -> list[str]:
    """The slugs the filled box lists for ``article``, in order."""
    response = client.get(f"/sidebars/related/{article.id}")
    assert response.status_code == 200
    return ITEM.findall(response.text)


def hours_ago(hours: int):
    """A publication time ``hours`` before now."""
    return utcnow() - timedelta(hours=hours)


@pytest.fixture
def reading(make_article) -> Article:
    """The article being read: section Local, tags harbour and storm."""
    return make_article(
        "Reading", section="Local", tags=["harbour", "storm"], published_at=hours_ago(10)
    )


def test_tag_matches_come_before_section_matches_each_newest_first(client, make_article, reading):
    make_article("Old tag", slug="old-tag", tags=["storm"], published_at=hours_ago(30))
    make_article("New section", slug="new-section", section="Local", published_at=hours_ago(1))
    make_article("New tag", slug="new-tag", tags=["harbour"], published_at=hours_ago(2))
    make_article("Old section", slug="old-section", section="Local", published_at=hours_ago(40))
    assert related_slugs(client, reading) == ["new-tag", "old-tag", "new-section", "old-section"]


def test_an_article_sharing_tag_and_section_is_listed_once(client, make_article, reading):
    make_article("Both", slug="both", section="Local", tags=["storm"])
    assert related_slugs(client, reading) == ["both"]


def test_unrelated_hidden_and_current_articles_are_left_out(client, make_article, reading):
    make_article("Elsewhere", slug="elsewhere", section="Sport", tags=["football"])
    hidden = {"status": "draft"}, {"status": "review"}, {"published_at": utcnow() + timedelta(1)}
    for n, fields in enumerate(hidden):
        make_article(f"Hidden {n}", slug=f"hidden-{n}", section="Local", tags=["harbour"], **fields)
    make_article(
        "Trashed", slug="trashed", section="Local", tags=["harbour"], status="draft",
        deleted_at=utcnow(), published_at=None,
    )  # fmt: skip
    make_article("Shown", slug="shown", section="Local", tags=["harbour"])
    assert related_slugs(client, reading) == ["shown"]


@pytest.mark.parametrize("size", [None, 2])
def test_the_list_stops_at_related_size(app, client, make_article, reading, size):
    if size is not None:
        app.config["RELATED_SIZE"] = size
    for n in range(3):
        make_article(f"Tag {n}", slug=f"tag-{n}", tags=["storm"], published_at=hours_ago(n + 1))
        make_article(f"Local {n}", slug=f"local-{n}", section="Local")
    expected = ["tag-0", "tag-1", "tag-2", "local-0"]  # four by default
    assert related_slugs(client, reading) == expected[: size or 4]


def test_an_article_without_section_or_tags_has_nothing_related(client, make_article):
    make_article("Other", section="Local", tags=["harbour"])
    alone = make_article("Alone")
    assert related_slugs(client, alone) == []
    assert "No related posts yet." in client.get(f"/sidebars/related/{alone.id}").text


def test_items_are_linked_titles_with_short_dates(client, make_article, reading):
    make_article("Dated", section="Local")
    body = client.get(f"/sidebars/related/{reading.id}").text
    assert re.search(
        r'<li><a href="/articles/[^"]+">Dated</a> <time datetime="\d{4}-\d\d-\d\dT[^"]+">'
        r"[A-Z][a-z]{2} \d{1,2}, \d{4}</time></li>",
        body,
    )


def test_the_filled_box_keeps_the_root_of_the_empty_one(client, make_article, reading):
    make_article("Match", section="Local")
    page = client.get(f"/articles/{reading.slug}").text
    fragment = client.get(f"/sidebars/related/{reading.id}").text
    root = '<section class="sidebar related" id="related" aria-labelledby="related-title"'
    assert root in page
    assert f'hx-get="/sidebars/related/{reading.id}" hx-trigger="intersect once"' in page
    assert 'hx-swap="outerHTML"' in page
    assert fragment.lstrip().startswith(root)
    assert "hx-get" not in fragment and "<html" not in fragment
    assert '<a href="/sections/local">More in Local</a>' in page
    assert '<a href="/sections/local">More in Local</a>' in fragment


def test_the_box_sits_in_the_main_column_after_the_article(client, reading):
    page = client.get(f"/articles/{reading.slug}").text
    main = page[page.index('<main id="main"') : page.index("</main>")]
    assert main.index("</article>") < main.index('id="related"')


def test_without_a_section_the_box_links_to_the_latest_posts(client, make_article):
    article = make_article("No desk", tags=["harbour"])
    page = client.get(f"/articles/{article.slug}").text
    box = page[page.index('id="related"') : page.index("</section>", page.index('id="related"'))]
    assert '<a href="/latest">All latest posts</a>' in box


def test_a_section_name_in_the_link_is_escaped(client, make_article):
    article = make_article("Escaped", section="<b>Desk</b>")
    page = client.get(f"/articles/{article.slug}").text
    assert "More in &lt;b&gt;Desk&lt;/b&gt;" in page and "<b>Desk</b>" not in page


def test_staff_reading_an_unpublished_article_get_no_box(client, auth, make_article):
    draft = make_article("Draft", status="draft", section="Local")
    auth.login("editor")
    page = client.get(f"/articles/{draft.slug}").text
    assert "Not published." in page and 'id="related"' not in page


@pytest.mark.parametrize("state", ["missing", "draft", "review", "scheduled", "trash"])
def test_the_fragment_of_an_article_readers_cannot_see_is_404(client, make_article, state):
    fields = {
        "draft": {"status": "draft"},
        "review": {"status": "review"},
        "scheduled": {"published_at": utcnow() + timedelta(days=1)},
        "trash": {"status": "draft", "deleted_at": utcnow()},
    }
    article_id = 999 if state == "missing" else make_article(**fields[state]).id
    response = client.get(f"/sidebars/related/{article_id}")
    assert response.status_code == 404 and "We could not find that page." in response.text


def test_publishing_a_related_article_renews_the_kept_fragment(app, client, auth, reading):
    url = f"/sidebars/related/{reading.id}"
    assert "Just published" not in app.test_client().get(url).text  # now kept by the cache
    auth.login("editor")
    data = form_data(client, title="Just published", slug="just-published", tags="storm")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    assert ITEM.findall(app.test_client().get(url).text) == ["just-published"]


@pytest.mark.sqlite
def test_related_walks_indexes_newest_first_and_reads_only_its_rows(app, make_article, reading):
    for n in range(6):  # two tag matches leave room for the section's
        if n < 2:
            make_article(f"Tag {n}", tags=["storm"], section="Sport")
        make_article(f"Local {n}", section="Local")
    plans = explained_plans(app, f"/sidebars/related/{reading.id}")
    assert plans
    for plan in plans:
        assert "SCAN articles" not in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan or "USING INTEGER PRIMARY KEY" in plan, plan
    assert any("ix_articles_status_published_at" in plan for plan in plans), plans  # tags
    assert any("ix_articles_section_status_published_at" in plan for plan in plans), plans

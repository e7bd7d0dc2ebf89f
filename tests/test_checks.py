"""Publish checks: each check, the live panel's endpoint, and enforcement when publishing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from blog.checks import LONG_HEADLINE_CHARS, SHORT_BODY_WORDS, Problem, problems
from blog.dates import utcnow
from blog.extensions import db
from blog.forms import ArticleForm
from blog.importing import import_records
from blog.models import Article, AuditEvent, Revision, User
from tests.conftest import csrf_token
from tests.test_editor import form_data, stored

WORDS = " ".join(["word"] * SHORT_BODY_WORDS)
BODY = f"The harbour reopened on Monday.\n\n{WORDS}"
GOOD = {
    "title": "Harbour reopens",
    "summary": "Ships are back.",
    "dateline": "Lviv",
    "body": BODY,
    "status": "published",
}


def found(app, article_id: int | None = None, **fields: str) -> list[Problem]:
    """The problems of a form holding GOOD changed by ``fields`` (for article ``article_id``)."""
    with app.test_request_context():
        article = db.session.get(Article, article_id) if article_id else None
        form = ArticleForm(
            formdata=MultiDict({**GOOD, **fields}),
            meta={"csrf": False},
            article=article,
            can_publish=True,
        )
        return problems(form)


def codes(app, **fields: str) -> list[tuple[str, str, bool]]:
    """Each problem as (code, field, blocking)."""
    return [(p.code, p.field, p.blocking) for p in found(app, **fields)]


def test_a_complete_article_has_no_problems(app):
    assert found(app) == []


# --- placeholders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("Talks end [within the coming week].", "[within the coming week]"),
        ("The mayor said TK.", "TK"),
        ("Turnout was TKTK percent.", "TKTK"),
        ("Quote: TKTKTK.", "TKTKTK"),
        ("TK: the council's vote.", "TK"),
        ("The fire [add cause\nhere] spread.", "[add cause here]"),
        ("See [the report][nowhere].", "[nowhere]"),
        ("<p>Inline HTML with [a placeholder].</p>", "[a placeholder]"),
        ('A <a href="/x">[link text to come]</a>.', "[link text to come]"),
        ("![[photo of the mayor]](mayor.jpg)", "[photo of the mayor]"),
        ("- [ ] call back [name]", "[name]"),
    ],
)
def test_placeholders_in_the_body_block_publishing(app, body, shown):
    (problem,) = found(app, body=f"{body}\n\n{WORDS}")
    assert (problem.code, problem.field, problem.blocking) == ("placeholder", "body", True)
    assert f"“{shown}”" in problem.message


def test_a_tk_inside_a_bracketed_placeholder_is_not_counted_again(app):
    (problem,) = found(app, body=f"He said [quote TK] and TK.\n\n{WORDS}")
    assert problem.message.count("“") == 2 and "“[quote TK]”" in problem.message


@pytest.mark.parametrize(
    "body",
    [
        "Read [the report](https://example.org/report).",
        "Read [the report][r].\n\n[r]: https://example.org/report",
        "Read [the report].\n\n[the report]: https://example.org/report",
        "Read [the report][].\n\n[the report]: https://example.org/report",
        "![A chart of the vote](chart.png)",
        "- [ ] call the mayor\n- [x] call the council\n* [X] done",
        "A claim.[^1]\n\n[^1]: The source.",
        "Use `items[0]` here.",
        "```\nvotes = [7, 2]\n```",
        "    indented = [code]",
        "He said \\[the mayor\\] would go.",
        "He “recieved [sic]” it, and then […] left [...].",
        "Empty brackets [] and [ ] are not words.",
        "<https://example.org/a[1]>",
        "tk, Tk, TKO, ATK and Atkins are no placeholders.",
        "<!-- TK: a comment readers never see -->",
        "<style>\na[href] { color: red }\n</style>",
    ],
)
def test_markdown_syntax_code_and_escapes_are_not_placeholders(app, body):
    assert found(app, body=f"{body}\n\n{WORDS}") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Mayor resigns over TK"),
        ("summary", "Talks end [date]."),
        ("dateline", "[City]"),
        ("hero_caption", "The quay TKTK"),
    ],
)
def test_placeholders_in_other_fields_name_their_field(app, field, value):
    assert codes(app, **{field: value}) == [("placeholder", field, True)]


def test_brackets_in_plain_fields_are_placeholders_even_when_they_look_like_links(app):
    (problem,) = found(app, summary="See [here](https://example.org).")
    assert problem.field == "summary" and "“[here]”" in problem.message


# --- alt text, credit --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    ["![](harbour.jpg)", '<img src="harbour.jpg">', '<img src="harbour.jpg" alt=" ">'],
)
def test_body_images_without_alt_text_block_publishing(app, image):
    (problem,) = found(app, body=f"{image}\n\n{BODY}")
    assert (problem.code, problem.field, problem.blocking) == ("missing-alt", "body", True)
    assert problem.message.startswith("1 image without alt text")


@pytest.mark.parametrize(
    "image", ["![The quay](harbour.jpg)", '<img src="harbour.jpg" alt="The quay">']
)
def test_body_images_with_alt_text_pass(app, image):
    assert found(app, body=f"{image}\n\n{BODY}") == []


def test_hero_without_alt_text_blocks_and_without_credit_warns(app):
    assert codes(app, hero_upload="abc.jpg") == [
        ("missing-alt", "hero_alt", True),
        ("missing-credit", "hero_credit", False),
    ]
    assert codes(app, hero_upload="abc.jpg", hero_alt="The quay", hero_credit="Photo: Ana") == []


def test_hero_of_the_saved_article_counts_unless_removed(app, make_article):
    article = make_article("Harbour story", hero_image="abc.jpg", hero_alt="The quay")
    assert [p.code for p in found(app, article.id, hero_alt="")] == [
        "missing-alt",
        "missing-credit",
    ]
    assert found(app, article.id, hero_alt="", remove_hero="y") == []


def test_no_hero_needs_no_alt_text_or_credit(app):
    assert found(app, hero_alt="", hero_credit="") == []


# --- summary, body length, headline ------------------------------------------------------------


def test_missing_summary_is_a_warning(app):
    assert codes(app, summary="") == [("summary", "summary", False)]


def test_empty_body_blocks(app):
    assert codes(app, body="  \n\n## \n") == [("empty-body", "body", True)]


def test_very_short_body_blocks_and_says_how_short(app):
    (problem,) = found(app, body=" ".join(["word"] * (SHORT_BODY_WORDS - 1)))
    assert (problem.code, problem.blocking) == ("short-body", True)
    assert f"{SHORT_BODY_WORDS - 1} words" in problem.message
    assert found(app, body=" ".join(["word"] * SHORT_BODY_WORDS)) == []


def test_markup_and_link_addresses_are_not_counted_as_words(app):
    body = "## A\n\n" + "[word](https://example.org/a/b/c/d/e/f/g/h) " * (SHORT_BODY_WORDS - 2)
    assert codes(app, body=body) == [("short-body", "body", True)]


def test_headline_over_the_limit_is_a_warning(app):
    assert found(app, title="x" * LONG_HEADLINE_CHARS) == []
    assert codes(app, title="x" * (LONG_HEADLINE_CHARS + 1)) == [("long-headline", "title", False)]


def test_headline_of_another_article_blocks_whatever_its_case(app, make_article):
    make_article("Harbour Reopens")
    (problem,) = found(app, title="  harbour reopens ")
    assert (problem.code, problem.field, problem.blocking) == ("used-headline", "title", True)
    assert "“Harbour Reopens”" in problem.message
    assert found(app, title="Harbour reopens at last") == []


def test_an_articles_own_headline_and_trashed_ones_do_not_count(app, make_article):
    article = make_article("Harbour reopens")
    make_article("Bridge closes", deleted_at=utcnow(), status="draft")
    assert found(app, article.id) == []
    assert found(app, title="Bridge closes") == []


# --- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "[local](http://localhost:5000/draft)",
        "[local](https://127.0.0.1/x)",
        "[local](http://127.8.0.1/x)",
        "[local](http://[::1]:8000/)",
        "[local](http://0.0.0.0/)",
        "[printer](https://printer.local/queue)",
        "[local](http://LOCALHOST./x)",
        "<http://localhost/auto>",
        '<a href="http://localhost/page">inline HTML</a>',
        '<img src="http://127.0.0.1/pic.jpg" alt="A picture">',
    ],
)
def test_links_to_this_computer_block_publishing(app, link):
    (problem,) = found(app, body=f"{link}\n\n{BODY}")
    assert (problem.code, problem.field, problem.blocking) == ("local-link", "body", True)


@pytest.mark.parametrize(
    "link",
    [
        "[plain](http://example.org/story)",
        "<http://example.org/auto>",
        '<a href="HTTP://example.org/">inline HTML</a>',
    ],
)
def test_http_links_are_a_warning(app, link):
    assert codes(app, body=f"{link}\n\n{BODY}") == [("http-link", "body", False)]


@pytest.mark.parametrize(
    "link",
    [
        "[safe](https://example.org/story)",
        "[near](https://localhost.example.org/)",
        "[relative](/articles/other)",
        "[mail](mailto:desk@example.org)",
        "Text mentioning http://localhost without a link.",
    ],
)
def test_https_relative_and_unlinked_addresses_pass(app, link):
    assert found(app, body=f"{link}\n\n{BODY}") == []


def test_blocking_problems_come_first(app):
    listed = found(app, summary="", body=f"[x](http://example.org) TK\n\n{WORDS}")
    assert [p.blocking for p in listed] == [True, False, False]


# --- the live panel ----------------------------------------------------------------------------


def post_checks(client, hx, **fields: str):
    """Ask the checks endpoint as the editor page's htmx request would."""
    token = csrf_token(client, "/editor/articles/new")
    return hx.post("/editor/checks", data={**GOOD, **fields}, headers={"X-CSRFToken": token})


def test_checks_endpoint_lists_the_problems_linked_to_their_fields(client, hx, auth):
    auth.login("editor")
    response = post_checks(client, hx, body="Talks end [soon].", summary="")
    assert response.status_code == 200 and "<html" not in response.text
    page = response.text
    assert 'href="#body">Body</a>: Placeholder left: “[soon]”' in page
    assert 'href="#summary">Summary</a>: No summary' in page
    assert "These stop publishing" in page and "give a reason below to publish anyway" in page
    assert "Write \\[ and \\] for brackets you mean." in page
    assert "Worth a look" in page


def test_checks_endpoint_says_when_all_is_well(client, hx, auth):
    auth.login("writer")
    response = post_checks(client, hx)
    assert response.status_code == 200 and "No problems found" in response.text


def test_checks_for_writers_do_not_offer_the_override(client, hx, auth):
    auth.login("writer")
    response = post_checks(client, hx, body="TK")
    assert "These stop publishing" in response.text and "reason" not in response.text
    assert "brackets" not in response.text  # the hint is for bracketed placeholders


def test_checks_endpoint_needs_the_csrf_token(client, hx, auth):
    auth.login("editor")
    response = hx.post("/editor/checks", data={**GOOD, "body": "TK"})
    assert response.headers["HX-Retarget"] == "#session-notice"
    assert "Placeholder" not in response.text
    assert client.post("/editor/checks", data=GOOD).status_code == 400


def test_checks_endpoint_is_for_staff_only(client, hx, make_user):
    token = csrf_token(client, "/auth/login")
    response = hx.post("/editor/checks", data=GOOD, headers={"X-CSRFToken": token})
    assert response.headers["HX-Retarget"] == "#session-notice"
    assert "No problems" not in response.text
    plain = client.post("/editor/checks", data=GOOD, headers={"X-CSRFToken": token})
    assert plain.status_code == 401 and "No problems" not in plain.text


def test_writer_cannot_check_someone_elses_article(client, hx, auth, make_article):
    article = make_article("Not yours", status="draft")
    auth.login("writer", username="other")
    response = post_checks(client, hx, article_id=str(article.id))
    assert (
        response.status_code == 200 and "Not checked any more: You can no longer" in response.text
    )
    assert "Placeholder" not in response.text and "ready to publish" not in response.text
    token = csrf_token(client, "/editor/")
    plain = client.post(
        "/editor/checks", data={**GOOD, "article_id": article.id}, headers={"X-CSRFToken": token}
    )
    assert plain.status_code == 403


def test_edit_page_shows_the_checks_without_javascript(client, auth, make_article):
    article = make_article("Harbour story", body="Talks end [soon].", summary="")
    auth.login("editor")
    page = client.get(f"/editor/articles/{article.id}/edit").text
    assert "Before publishing" in page and 'aria-live="polite"' in page
    assert "Placeholder left: “[soon]”" in page and "No summary" in page
    params = re.search(r'hx-post="/editor/checks"[^>]*hx-params="([^"]*)"', page).group(1)
    assert "body" in params.split(",") and "hero_image" not in params
    assert 'name="override_reason"' in page


def test_writers_see_the_checks_but_no_override_field(client, auth):
    auth.login("writer")
    page = client.get("/editor/articles/new").text
    assert "Before publishing" in page and "The body is empty." in page
    assert 'name="override_reason"' not in page


# --- enforcement -------------------------------------------------------------------------------


def test_publishing_with_a_blocking_problem_is_refused_with_the_text_kept(app, client, auth):
    auth.login("editor")
    body = "Talks end [within the coming week]. " + WORDS
    response = client.post("/editor/articles/new", data=form_data(client, body=body))
    assert response.status_code == 422
    page = response.text
    assert body in page and 'id="body-error"' in page
    assert "Not published: fix the problems marked" in page
    assert "give a reason to publish anyway" in page
    assert stored(app, slug="council-approves-budget") is None


def test_every_blocking_problem_of_a_field_is_marked(client, auth):
    auth.login("editor")
    body = "TK [local](http://localhost/x)"
    response = client.post("/editor/articles/new", data=form_data(client, body=body))
    assert response.status_code == 422
    error = response.text.split('id="body-error">')[1].split("</p>")[0]
    assert "Placeholder left" in error and "The body has 2 words" in error
    assert "to a local address" in error


def test_warnings_do_not_stop_publishing(app, client, auth):
    auth.login("editor")
    data = form_data(client, summary="", title="x" * (LONG_HEADLINE_CHARS + 1))
    assert client.post("/editor/articles/new", data=data).status_code == 303
    assert stored(app, status="published") is not None


def test_drafts_and_reviews_are_saved_with_problems(app, client, auth):
    auth.login("writer")
    data = form_data(client, body="TK", status="review", override_reason="Not needed")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    with app.app_context():
        revision = db.session.scalar(sa.select(Revision))
        assert revision.fields["status"] == "review" and revision.note == ""


def test_saving_a_published_article_is_checked_too(app, client, auth, make_article):
    article = make_article("Harbour story", body=BODY, summary="Ships are back.")
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    data = form_data(client, url, title="Harbour story", body=BODY + " TK", version=1)
    assert client.post(url, data=data).status_code == 422
    assert stored(app, id=article.id).body == BODY


def test_editor_overrides_with_a_reason_that_is_kept(app, client, auth):
    editor = auth.login("editor")
    reason = "Breaking news: the full story follows within the hour."
    data = form_data(client, body="Bridge closed.", override_reason=reason)
    assert client.post("/editor/articles/new", data=data).status_code == 303
    with app.app_context():
        article = db.session.scalar(sa.select(Article))
        assert article.status == "published" and article.body == "Bridge closed."
        revision = db.session.scalar(sa.select(Revision).filter_by(article_id=article.id))
        assert revision.note == reason and revision.editor_id == editor.id
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="publish"))
        assert event.article_id == article.id and reason in event.detail


def test_override_needs_a_reason(client, auth):
    auth.login("editor")
    data = form_data(client, body="Bridge closed.", override_reason="   ")
    assert client.post("/editor/articles/new", data=data).status_code == 422


def test_a_reason_given_with_nothing_to_override_is_not_kept(app, client, auth):
    auth.login("editor")
    data = form_data(client, override_reason="Just in case")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Revision.note)) == ""
        assert db.session.scalar(sa.select(AuditEvent.detail).filter_by(action="publish")) == ""


def test_writer_cannot_override(app, client, auth):
    auth.login("writer")
    data = form_data(client, body="Bridge closed.", override_reason="I say so")
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422
    assert "Only editors can publish." in response.text
    assert "Placeholder" not in response.text and "The body has 2 words" in response.text
    assert "give a reason" not in response.text
    assert stored(app, slug="council-approves-budget") is None


def test_importing_an_archive_skips_the_publish_checks(app, make_user, tmp_path: Path):
    make_user("boss", role="admin")
    records = [{"title": "Old brief", "body": "Short [sic] TK.", "status": "published"}]
    with app.test_request_context():
        boss = db.session.scalar(sa.select(User).filter_by(username="boss"))
        (article,) = import_records(records, tmp_path, boss)
        assert article.status == "published" and article.body == "Short [sic] TK."

"""No lost updates: a save made from an older version gets the conflict page, with nothing lost."""

from __future__ import annotations

import html5lib
import sqlalchemy as sa

import blog.editor
from blog.extensions import db
from blog.models import Article
from tests.conftest import PASSWORD, csrf_token
from tests.test_revisions import BODY, create, form_fields, revisions_of, stored


def signed_in(app, make_user, username: str, display_name: str):
    """A client of its own, signed in as a new editor."""
    make_user(username, role="editor", display_name=display_name)
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    assert client.post("/auth/login", data=data).status_code == 303
    return client


def changed_fields(page: str) -> dict[str, tuple[str, str]]:
    """The conflict table: each field's label with the saved text and the typed one."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    table = tree.find(".//section[@class='conflict']//table")
    rows = {}
    for row in table.findall("./tbody/tr"):
        saved, typed = ("".join(cell.itertext()).strip() for cell in row.findall("td"))
        rows[row.findtext("th").strip()] = (saved, typed)
    return rows


def test_a_save_from_an_older_version_gets_a_conflict_page_keeping_the_text(app, make_user):
    ana = signed_in(app, make_user, "ana", "Ana Lee")
    ben = signed_in(app, make_user, "ben", "Ben Ode")
    article_id = create(ana, title="Storm hits the coast")
    edit_url = f"/editor/articles/{article_id}/edit"
    anas_form = form_fields(ana.get(edit_url).text)
    bens_form = form_fields(ben.get(edit_url).text)
    assert anas_form["version"] == bens_form["version"] == "1"

    anas_form["title"] = "Storm hits the north coast"
    assert ana.post(edit_url, data=anas_form).status_code == 303
    bens_body = "Ben's new lead.\n\n" + BODY
    response = ben.post(edit_url, data=bens_form | {"body": bens_body})

    assert response.status_code == 409
    assert "Saved by someone else while you were editing" in response.text
    assert "Ana Lee saved version 2" in response.text
    conflict_form = form_fields(response.text)
    assert conflict_form["body"] == bens_body
    assert conflict_form["title"] == "Storm hits the coast"
    assert conflict_form["version"] == "2"
    changes = changed_fields(response.text)
    assert set(changes) == {"Headline", "Body"}
    assert changes["Headline"] == ("Storm hits the north coast", "Storm hits the coast")
    assert "Ben's new lead." not in changes["Body"][0]
    assert "Ben's new lead." in changes["Body"][1]
    article = stored(app, article_id)
    assert (article.title, article.body, article.version) == (
        "Storm hits the north coast",
        BODY,
        2,
    )

    merged = conflict_form | {"title": "Storm hits the north coast"}
    assert ben.post(edit_url, data=merged).status_code == 303
    article = stored(app, article_id)
    assert (article.title, article.body, article.version) == (
        "Storm hits the north coast",
        bens_body,
        3,
    )
    assert [revision.version for revision in revisions_of(app, article_id)] == [1, 2, 3]


def test_the_conflict_page_escapes_what_both_people_typed(app, make_user):
    ana = signed_in(app, make_user, "ana", "Ana Lee")
    ben = signed_in(app, make_user, "ben", "Ben Ode")
    article_id = create(ana, status="draft")
    edit_url = f"/editor/articles/{article_id}/edit"
    anas_form = form_fields(ana.get(edit_url).text)
    bens_form = form_fields(ben.get(edit_url).text)
    ana.post(edit_url, data=anas_form | {"summary": "<img src=x onerror=alert(1)>"})
    response = ben.post(edit_url, data=bens_form | {"summary": "<script>alert(2)</script>"})
    assert response.status_code == 409
    assert "<img src=x" not in response.text and "<script>alert" not in response.text
    assert changed_fields(response.text)["Summary"] == (
        "<img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
    )


def test_a_form_without_a_version_is_not_a_conflict(app, client, auth):
    auth.login("editor")
    article_id = create(client, status="draft")
    edit_url = f"/editor/articles/{article_id}/edit"
    client.post(edit_url, data=form_fields(client.get(edit_url).text) | {"title": "Second"})
    old_form = form_fields(client.get(edit_url).text)
    del old_form["version"]
    response = client.post(edit_url, data=old_form | {"title": "Third"})
    assert response.status_code == 303
    assert stored(app, article_id).title == "Third"


def test_a_save_overtaken_while_it_runs_gets_the_conflict_page(app, client, auth, monkeypatch):
    auth.login("editor")
    article_id = create(client, status="draft")
    edit_url = f"/editor/articles/{article_id}/edit"
    form = form_fields(client.get(edit_url).text)
    real_save = blog.editor.save_article

    def overtaken(*args, **kwargs):
        """Let another save commit after this one loaded the article, then go on."""
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Article)
                .where(Article.id == article_id)
                .values(title="Changed meanwhile", version=Article.version + 1)
            )
        return real_save(*args, **kwargs)

    monkeypatch.setattr(blog.editor, "save_article", overtaken)
    response = client.post(edit_url, data=form | {"body": "Typed during the race. " + BODY})
    monkeypatch.undo()

    assert response.status_code == 409
    assert form_fields(response.text)["body"] == "Typed during the race. " + BODY
    assert form_fields(response.text)["version"] == "2"
    assert changed_fields(response.text)["Headline"] == (
        "Changed meanwhile",
        "Council approves budget",
    )
    assert "Someone saved version 2" in response.text
    article = stored(app, article_id)
    assert (article.title, article.body) == ("Changed meanwhile", BODY)
    assert len(revisions_of(app, article_id)) == 1

    again = client.post(edit_url, data=form_fields(response.text))
    assert again.status_code == 303
    assert stored(app, article_id).body == "Typed during the race. " + BODY

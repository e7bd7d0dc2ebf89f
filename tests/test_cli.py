"""The command line: init-db, create-user, ensure-admin, import-articles, seed-demo."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from blog.extensions import db
from blog.models import Article, AuditEvent, User
from tests.conftest import PASSWORD


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_init_db_is_safe_to_run_again(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0 and "up to date" in result.output


def test_create_user_with_password(app, runner):
    result = runner.invoke(
        args=["create-user", "ed", "--role", "editor", "--name", "Ed Itor", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username="ed"))
        assert user.role == "editor" and user.display_name == "Ed Itor"
        assert user.check_password(PASSWORD)


def test_create_user_prompts_for_the_password(app, runner):
    result = runner.invoke(
        args=["create-user", "wri", "--role", "writer"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).filter_by(username="wri")).check_password(PASSWORD)


def test_create_user_refuses_short_password_bad_role_and_duplicates(app, runner, make_user):
    make_user("taken")
    short = runner.invoke(args=["create-user", "new", "--role", "writer", "--password", "short"])
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    role = runner.invoke(args=["create-user", "new", "--role", "boss", "--password", PASSWORD])
    assert role.exit_code != 0 and "boss" in role.output
    dup = runner.invoke(args=["create-user", "taken", "--role", "writer", "--password", PASSWORD])
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad = runner.invoke(
        args=["create-user", "Bad Name", "--role", "writer", "--password", PASSWORD]
    )
    assert bad.exit_code != 0 and "lowercase" in bad.output
    assert count(app, User) == 1


def test_ensure_admin_prints_a_login_once(app, runner):
    first = runner.invoke(args=["ensure-admin"])
    assert first.exit_code == 0 and "username admin, password " in first.output
    password = first.output.split("password ")[1].split()[0]
    with app.app_context():
        admin = db.session.scalar(sa.select(User).filter_by(username="admin"))
        assert admin.role == "admin" and admin.check_password(password)
    second = runner.invoke(args=["ensure-admin"])
    assert second.exit_code == 0 and second.output == ""
    assert count(app, User) == 1


def test_import_articles_goes_through_the_form_pipeline(app, runner, make_user, tmp_path):
    make_user("boss", role="admin")
    make_user("ada")
    Image.new("RGB", (64, 48), "teal").save(tmp_path / "hero.png")
    records = [
        {
            "title": "Imported story",
            "body": "Text <script>alert(1)</script>\n\n## A\n\nx\n\n## B\n\ny",
            "slug": "imported-story",
            "summary": "Dek",
            "dateline": "Millbrook",
            "section": "Local",
            "tags": ["council", "budget"],
            "author": "ada",
            "featured": True,
            "status": "published",
            "published_at": "2025-02-24T08:30:00Z",
            "hero_image": "hero.png",
            "hero_alt": "A teal rectangle",
            "hero_caption": "Caption",
            "hero_credit": "Credit",
        },
        {"title": "Minimal draft", "body": "Just text."},
    ]
    result = runner.invoke(args=["import-articles", str(write_json(tmp_path / "a.json", records))])
    assert result.exit_code == 0, result.output
    assert "Imported 2 article(s)" in result.output
    with app.app_context():
        story = db.session.scalar(sa.select(Article).filter_by(slug="imported-story"))
        assert "<script" not in story.body_html and "alert" not in story.body_html
        assert story.author.username == "ada" and story.featured
        assert story.published_at.isoformat() == "2025-02-24T08:30:00+00:00"
        assert not story.was_updated
        assert "Millbrook – February 24, 2025 – " in story.body_html
        assert (story.hero_width, story.hero_height) == (64, 48)
        assert [tag.name for tag in story.tags] == ["budget", "council"]
        assert story.created_at == story.updated_at == story.published_at
        assert [(r.version, r.fields["title"]) for r in story.revisions] == [(1, "Imported story")]
        assert story.version == 1
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.article_id == story.id))
        assert [(e.action, e.actor_id) for e in events] == [("create", None), ("publish", None)]
        draft = db.session.scalar(sa.select(Article).filter_by(slug="minimal-draft"))
        assert draft.status == "draft" and draft.author.username == "boss"


def test_malformed_json_is_reported(app, runner, make_user, tmp_path):
    make_user("boss", role="admin")
    path = tmp_path / "bad.json"
    path.write_text('[{"title": "x",', encoding="utf-8")
    result = runner.invoke(args=["import-articles", str(path)])
    assert result.exit_code == 1 and "bad.json is not valid JSON" in result.output


def test_bad_records_are_named_and_nothing_is_imported(
    app, runner, make_user, make_article, tmp_path
):
    make_user("boss", role="admin")
    make_article("Existing", slug="existing")
    records = [
        {"title": "Good one", "body": "fine"},
        {"body": "no title"},
        {"title": "Clash", "body": "x", "slug": "existing"},
        {"title": "Twin", "body": "x", "slug": "twin"},
        {"title": "Twin again", "body": "x", "slug": "twin"},
        {"title": "Who", "body": "x", "author": "ghost"},
        {"title": "When", "body": "x", "published_at": "last tuesday"},
        {"title": "Odd", "body": "x", "status": "live", "colour": "red"},
        {"title": "Escape", "body": "x", "hero_image": "../../etc/passwd", "hero_alt": "a"},
        "not an object",
    ]
    path = write_json(tmp_path / "records.json", records)
    result = runner.invoke(args=["import-articles", str(path)])
    assert result.exit_code == 1
    output = result.output
    assert "nothing imported" in output
    assert "record 1: title: This field is required." in output
    assert "record 2: slug: Another article already uses this slug." in output
    assert "record 4: slug: same slug as record 3" in output
    assert "record 5: author: no user named 'ghost'" in output
    assert "record 6: published_at: must be an ISO 8601" in output
    assert "record 7: status: Not a valid choice" in output
    assert "record 7: colour: unknown key" in output
    assert "record 8: hero_image: must stay inside" in output
    assert "record 9: record: expected an object" in output
    assert "record 0" not in output
    assert count(app, Article) == 1


def test_import_needs_a_list(runner, make_user, tmp_path):
    make_user("boss", role="admin")
    result = runner.invoke(args=["import-articles", str(write_json(tmp_path / "o.json", {}))])
    assert result.exit_code == 1 and "expected a JSON list" in result.output


def test_import_needs_a_user(runner, tmp_path):
    result = runner.invoke(args=["import-articles", str(write_json(tmp_path / "a.json", []))])
    assert result.exit_code == 1 and "run create-user first" in result.output


def test_seed_demo_fills_a_front_page(app, runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        articles = list(db.session.scalars(sa.select(Article)))
        assert len(articles) == 12
        assert sum(a.featured for a in articles) == 5
        assert len({a.section_id for a in articles}) >= 2
        assert all(a.hero_image and a.hero_alt for a in articles)
        assert sum(a.is_public for a in articles) >= 10
    front = client.get("/").text
    assert front.count('class="teaser"') >= 9
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and count(app, Article) == 12


def test_title_slugs_keep_clear_of_slugs_later_records_ask_for(app, runner, make_user, tmp_path):
    make_user("boss", role="admin")
    records = [{"title": "Budget", "body": "x"}, {"title": "Other", "body": "y", "slug": "budget"}]
    result = runner.invoke(args=["import-articles", str(write_json(tmp_path / "a.json", records))])
    assert result.exit_code == 0, result.output
    with app.app_context():
        slugs = dict(db.session.execute(sa.select(Article.title, Article.slug)).all())
    assert slugs == {"Budget": "budget-2", "Other": "budget"}


def test_records_with_odd_types_are_reported_not_crashed_on(app, runner, make_user, tmp_path):
    make_user("boss", role="admin")
    records = [
        {"title": "List author", "body": "x", "author": ["ada"]},
        {"title": "Year one", "body": "x", "published_at": "0001-01-01T00:00:00+05:00"},
        {"title": 7, "body": "x"},
        {"title": "Tags", "body": "x", "tags": "a, b", "featured": "yes"},
    ]
    result = runner.invoke(args=["import-articles", str(write_json(tmp_path / "a.json", records))])
    assert result.exit_code == 1, result.output
    assert "record 0: author: no user named ['ada']" in result.output
    assert "record 1: published_at: must be an ISO 8601" in result.output
    assert "record 2: title: must be text" in result.output
    assert "record 3: tags: must be a list of text" in result.output
    assert "record 3: featured: must be true or false" in result.output
    assert count(app, Article) == 0


def test_set_password_checks_the_rules_and_ends_sessions(app, runner, make_user, client, auth):
    user = auth.login("editor")
    weak = runner.invoke(args=["set-password", user.username, "--password", "aaaaaaaaaaaa"])
    assert weak.exit_code != 0 and "too easy to guess" in weak.output
    new = "a quiet harbour at dawn"
    result = runner.invoke(args=["set-password", user.username, "--password", new])
    assert result.exit_code == 0, result.output
    assert client.get("/editor/").status_code == 303
    with app.app_context():
        assert db.session.get(User, user.id).check_password(new)
    missing = runner.invoke(args=["set-password", "nobody", "--password", new])
    assert missing.exit_code != 0 and "no user named 'nobody'" in missing.output

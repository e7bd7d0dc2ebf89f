"""``rerender-articles`` brings stored HTML up to the current pipeline without editing anything."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from blog import content, rerendering
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article
from tests.test_sanitize import assert_nothing_executable

STALE_HTML = '<p onclick="alert(1)">Old rendering <script>alert(1)</script></p>'


def overwrite(app, article_id: int, **values: Any) -> None:
    """Change an article's row directly, as an old pipeline or a raw SQL edit would have."""
    with app.app_context():
        db.session.execute(sa.update(Article).where(Article.id == article_id).values(**values))
        db.session.commit()


def row(app, article_id: int) -> dict[str, Any]:
    """The stored columns of one article."""
    with app.app_context():
        return dict(
            db.session.execute(sa.select(Article.__table__).filter_by(id=article_id)).one()._mapping
        )


def test_stale_unsafe_html_is_rendered_again(app, runner, make_article):
    article = make_article("Stale", dateline="Kyiv")
    overwrite(app, article.id, body_html=STALE_HTML, toc=[])
    result = runner.invoke(args=["rerender-articles"])
    assert result.exit_code == 0, result.output
    assert "Checked 1 article(s): 1 changed." in result.output
    fixed = row(app, article.id)
    assert fixed["body_html"] == article.body_html and fixed["toc"] == article.toc
    assert len(fixed["toc"]) == 2 and "Kyiv – " in fixed["body_html"]
    assert_nothing_executable(fixed["body_html"], pipeline_markup=True)


def test_rerendering_is_not_an_edit(app, runner, make_article):
    article = make_article("Published")
    overwrite(app, article.id, body_html=STALE_HTML, revised_at=article.updated_at)
    before = row(app, article.id)
    runner.invoke(args=["rerender-articles"])
    after = row(app, article.id)
    assert after["body_html"] != before["body_html"]
    assert (after["updated_at"], after["revised_at"]) == (
        before["updated_at"],
        before["revised_at"],
    )


def test_current_articles_are_not_counted_or_touched(app, runner, make_article):
    current = [make_article(f"Current {n}") for n in range(3)]
    stale = make_article("Stale")
    overwrite(app, stale.id, body_html=STALE_HTML)
    before = {article.id: row(app, article.id) for article in current}
    result = runner.invoke(args=["rerender-articles"])
    assert "Checked 4 article(s): 1 changed." in result.output
    assert {article.id: row(app, article.id) for article in current} == before


def test_dry_run_counts_but_writes_nothing(app, runner, make_article):
    make_article("Current")
    stale = make_article("Stale")
    overwrite(app, stale.id, body_html=STALE_HTML, toc=[])
    result = runner.invoke(args=["rerender-articles", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Checked 2 article(s): 1 would change." in result.output
    assert "Nothing was written" in result.output
    assert (row(app, stale.id)["body_html"], row(app, stale.id)["toc"]) == (STALE_HTML, [])


def test_articles_are_loaded_in_batches_and_all_reached(app, runner, make_article, monkeypatch):
    articles = [make_article() for _ in range(5)]
    for article in articles:
        overwrite(app, article.id, body_html=STALE_HTML)
    sizes: list[int] = []
    original = rerendering._batch

    def counted(after: int, size: int) -> list[Article]:
        batch = original(after, size)
        sizes.append(len(batch))
        return batch

    monkeypatch.setattr(rerendering, "_batch", counted)
    result = runner.invoke(args=["rerender-articles", "--batch-size", "2"])
    assert "Checked 5 article(s): 5 changed." in result.output
    assert sizes == [2, 2, 1, 0]
    assert all(row(app, a.id)["body_html"] == a.body_html for a in articles)


def test_article_saved_during_the_run_keeps_its_newer_html(app, runner, make_article, monkeypatch):
    article = make_article("Raced")
    overwrite(app, article.id, body_html=STALE_HTML)
    saved = {"body": "Edited meanwhile.", "body_html": "<p>Edited meanwhile.</p>"}
    original = content.render

    def render_while_an_editor_saves(source: str, lead: str = "") -> content.Rendered:
        # Another connection commits a save after the batch was read, before it is written.
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Article)
                .where(Article.id == article.id)
                .values(**saved, updated_at=utcnow())
            )
        return original(source, lead)

    monkeypatch.setattr(content, "render", render_while_an_editor_saves)
    result = runner.invoke(args=["rerender-articles"])
    assert "Checked 1 article(s): 0 changed." in result.output
    assert row(app, article.id)["body_html"] == saved["body_html"]


def test_batch_size_must_be_positive(runner):
    result = runner.invoke(args=["rerender-articles", "--batch-size", "0"])
    assert result.exit_code != 0 and "--batch-size" in result.output

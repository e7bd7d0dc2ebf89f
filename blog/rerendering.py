"""Re-rendering stored article bodies through the current pipeline: ``rerender-articles``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from blog.extensions import db
from blog.models import Article

BATCH_SIZE = 200


@dataclass
class Rerendered:
    """What a run found: articles looked at, and those whose stored HTML changed."""

    checked: int = 0
    changed: int = 0


@dataclass(frozen=True)
class _NewHtml:
    """An article's fresh rendering, and the save it was made from."""

    id: int
    seen_updated_at: datetime
    body_html: str
    toc: list[dict[str, Any]]


def init_app(app: Flask) -> None:
    """Add ``rerender-articles`` to ``flask``."""
    app.cli.add_command(rerender_articles)


def rerender_all(dry_run: bool = False, batch_size: int = BATCH_SIZE) -> Rerendered:
    """Render every article again and store the HTML and contents that differ.

    Each batch is its own short transaction: SQLite has one writer, and a single
    transaction over a large archive would hold it for minutes and stall every save.
    Re-rendering is idempotent, so an interrupted run is finished by running it again.
    """
    result = Rerendered()
    after = 0
    while batch := _batch(after, batch_size):
        after = batch[-1].id
        result.checked += len(batch)
        fresh = [new for new in map(_rendered_again, batch) if new is not None]
        db.session.expunge_all()  # the batch was changed in memory only: never flush it
        if not dry_run:
            fresh = [new for new in fresh if _store(new)]
        db.session.commit()
        result.changed += len(fresh)
    return result


def _batch(after: int, size: int) -> list[Article]:
    """The next ``size`` articles by id after ``after`` (keyset: no OFFSET scan, no open cursor)."""
    query = sa.select(Article).where(Article.id > after).order_by(Article.id).limit(size)
    return list(db.session.scalars(query))


def _rendered_again(article: Article) -> _NewHtml | None:
    """The article's new HTML and contents, or None when they are what is stored."""
    stored = article.body_html, article.toc
    article.render()
    if (article.body_html, article.toc) == stored:
        return None
    return _NewHtml(article.id, article.updated_at, article.body_html, article.toc)


def _store(new: _NewHtml) -> bool:
    """Write the new HTML unless the article was saved (and so rendered) meanwhile.

    ``updated_at`` is left alone: re-rendering is not an edit.
    """
    statement = (
        sa.update(Article)
        .where(Article.id == new.id, Article.updated_at == new.seen_updated_at)
        .values(body_html=new.body_html, toc=new.toc)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


@click.command("rerender-articles")
@with_appcontext
@click.option(
    "--dry-run", is_flag=True, help="Count the articles that would change; write nothing."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=BATCH_SIZE,
    show_default=True,
    help="Articles loaded and committed at a time.",
)
def rerender_articles(dry_run: bool, batch_size: int) -> None:
    """Render every stored article again from its Markdown (after an allowlist change)."""
    result = rerender_all(dry_run=dry_run, batch_size=batch_size)
    if dry_run:
        click.echo(
            f"Checked {result.checked} article(s): {result.changed} would change. "
            "Nothing was written (dry run)."
        )
    else:
        click.echo(f"Checked {result.checked} article(s): {result.changed} changed.")

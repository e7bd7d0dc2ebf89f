"""search index on PostgreSQL: weighted tsvector with a GIN index

Revision ID: 9de17a5184c6
Revises: d7f7d71eced6
Create Date: 2026-11-30 05:40:40.055111

"""
import re
from html import unescape

import sqlalchemy as sa
from alembic import op
from flask import current_app
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '9de17a5184c6'
down_revision = 'd7f7d71eced6'
branch_labels = None
depends_on = None

# Body text as blog.search.plain_text made it when this revision was written.
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_INLINE = frozenset(
    {"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q", "s",
     "small", "span", "strong", "sub", "sup", "u"}
)
# blog.search's marks, and its stand-ins for "<" and "/" (PostgreSQL's parser takes "<…>" for
# a tag and "/a/b" for a path).
_MASK = str.maketrans(
    dict.fromkeys(("\ue000", "\ue001", "\ue002", "\ue003")) | {"<": "\ue002", "/": "\ue003"}
)
# The text search configurations blog.search uses (CONFIGURATIONS): a copy of each built-in
# one with accents folded first, as FTS5's remove_diacritics does on SQLite.
_CONFIGURATIONS = {"dateline_english": "english_stem", "dateline_simple": "simple"}
# Articles read and indexed per statement, as blog.search.BATCH: bodies travel through Python.
_BATCH = 500


def _indexed(text):
    return text.translate(_MASK)


def _plain_text(html):
    text = _TAG.sub(lambda tag: "" if tag[1].lower() in _INLINE else " ", html)
    return " ".join(unescape(text).split())


def upgrade():
    """On PostgreSQL, make the search index (blog/search.py) and fill it; elsewhere, nothing."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    for name, dictionary in _CONFIGURATIONS.items():
        base = name.removeprefix("dateline_")
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {base})")
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {name}"
            f" ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {dictionary}"
        )
    op.create_table(
        "article_search",
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("document", postgresql.TSVECTOR(), nullable=False),
    )
    op.create_index(
        "ix_article_search_document", "article_search", ["document"], postgresql_using="gin"
    )
    # The site's language as blog.search chose a configuration when this revision was written.
    config = "dateline_english" if current_app.config.get("LANGUAGE") == "en" else "dateline_simple"
    insert = sa.text(
        "INSERT INTO article_search (article_id, title, summary, body, document)"
        " VALUES (:id, :title, :summary, :body,"
        " setweight(to_tsvector(CAST(:config AS regconfig), :title), 'A')"
        " || setweight(to_tsvector(CAST(:config AS regconfig), :summary), 'B')"
        " || setweight(to_tsvector(CAST(:config AS regconfig), :body), 'C'))"
    )
    articles = sa.text("SELECT id, title, summary, body_html FROM articles")
    for batch in bind.execute(articles.execution_options(yield_per=_BATCH)).partitions(_BATCH):
        rows = [
            {
                "id": id_,
                "title": _indexed(title),
                "summary": _indexed(summary),
                "body": _indexed(_plain_text(html)),
                "config": config,
            }
            for id_, title, summary, html in batch
        ]
        bind.execute(insert, rows)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("article_search")
    for name in _CONFIGURATIONS:
        op.execute(f"DROP TEXT SEARCH CONFIGURATION {name}")
    # unaccent stays: other things in the database may use it.

"""search index: articles in an FTS5 table

Revision ID: fce4e0b60b15
Revises: 81eb448c61c5
Create Date: 2026-11-30 02:59:38.422571

"""
import re
from html import unescape

from alembic import op


# revision identifiers, used by Alembic.
revision = 'fce4e0b60b15'
down_revision = '81eb448c61c5'
branch_labels = None
depends_on = None

# Body text as blog.search.plain_text made it when this revision was written.
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_INLINE = frozenset(
    {"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q", "s",
     "small", "span", "strong", "sub", "sup", "u"}
)


def _plain_text(html):
    text = _TAG.sub(lambda tag: "" if tag[1].lower() in _INLINE else " ", html)
    return " ".join(unescape(text).replace("\ue000", "").replace("\ue001", "").split())


def upgrade():
    """On SQLite, make the search index (blog/search.py) and fill it; elsewhere, nothing."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # remove_diacritics 2: "cafe" finds "café" too.
    op.execute(
        "CREATE VIRTUAL TABLE article_search USING fts5("
        "title, summary, body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    bind.connection.driver_connection.create_function(
        "plain_text", 1, _plain_text, deterministic=True
    )
    op.execute(
        "INSERT INTO article_search (rowid, title, summary, body)"
        " SELECT id, replace(replace(title, char(57344), ''), char(57345), ''),"
        " replace(replace(summary, char(57344), ''), char(57345), ''), plain_text(body_html)"
        " FROM articles"
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE article_search")

"""Reader search: the full-text index of articles, the queries over it, bp "search" and
``reindex-search``.

On SQLite the index is an FTS5 table, ``article_search``, made by the migrations: one row per
article (rowid = article id) with its headline, summary and the words of its body. It holds
every article, whatever its state; each hit is checked against the conditions of
``Article.public()`` as the search runs, so a draft, a scheduled article or the trash is
never found and an unpublished article drops out at once. ORM events keep the index in step
with every change made through the session (the form, imports, the demo, restores, purges,
``rerender-articles``); rows written around the ORM are picked up by ``reindex_all()``.

Other databases have no index: ``search()`` there matches each word case-insensitively in
the headline, summary and stored HTML, newest first, without ranking or highlighting. A
PostgreSQL version (a ``tsvector`` column and ``ts_rank``/``ts_headline``) would be another
``Pagination`` behind ``search()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import click
import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup, escape
from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, selectinload

from blog.extensions import db
from blog.hx import fragment
from blog.models import Article
from blog.site import small_int

bp = Blueprint("search", __name__)

INDEX = "article_search"
# The index as the migrations make it. remove_diacritics 2: "cafe" finds "café" too.
CREATE_INDEX = (
    f"CREATE VIRTUAL TABLE {INDEX} USING fts5("
    "title, summary, body, tokenize = 'unicode61 remove_diacritics 2')"
)
# bm25 weights of the columns: a word in the headline counts most, then the summary, the body.
RANKING = "bm25(10.0, 4.0, 1.0)"
# Longer queries are refused (the form's maxlength); they are typed, not pasted articles.
MAX_QUERY = 200
SNIPPET_WORDS = 24
# A shorter last word is not taken as a prefix: "s*" matches nearly every article, and
# ranking them all takes a second on a large archive.
PREFIX_FROM = 3
# Private-use characters that FTS5 puts around matches: taken out of the text it indexes,
# so after HTML-escaping only they can become <mark> tags.
MARK, END_MARK = "\ue000", "\ue001"

_INDEX = sa.table(
    INDEX, *(sa.column(name) for name in ("rowid", "title", "summary", "body", "rank"))
)
# FTS5's MATCH and its auxiliary functions take the table's name as a column.
_WHOLE_INDEX = sa.literal_column(INDEX)
_INDEXED = ("title", "summary", "body_html")
# A tag of our sanitized HTML; attribute values may hold ">" but never a lone quote.
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
# Elements inside a line of text: removing them must not glue or split words.
_INLINE = frozenset(
    {"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q", "s",
     "small", "span", "strong", "sub", "sup", "u"}
)  # fmt: skip
_MARKED = re.compile(f"{MARK}([^{MARK}{END_MARK}]*){END_MARK}")
# A word as FTS5's unicode61 tokenizer sees one: letters or digits (not "_" or symbols).
_WORD = re.compile(r"[^\W_]")


def init_app(app: Flask) -> None:
    """Add ``reindex-search`` to ``flask``."""
    app.cli.add_command(reindex_search)


def plain_text(html: str) -> str:
    """The words of stored, sanitized HTML: tags out, entities decoded, blocks kept apart."""
    text = _TAG.sub(lambda tag: "" if tag[1].lower() in _INLINE else " ", html)
    return " ".join(unescape(text).replace(MARK, "").replace(END_MARK, "").split())


def match_expression(text: str) -> str | None:
    """``text`` as an FTS5 query that cannot be malformed, or None when it has no words.

    Each space-separated piece is quoted (a phrase, so operators, columns, ``NEAR``, ``*``
    and ``-`` are only text) and all are required; the last one also matches as a prefix
    once it has PREFIX_FROM characters, so that results follow typing.
    """
    # FTS5 reads the query as a C string: a NUL would end it inside a quoted piece.
    pieces = [piece for piece in text.replace("\0", " ").split() if _WORD.search(piece)]
    if not pieces:
        return None
    query = " ".join('"{}"'.format(piece.replace('"', '""')) for piece in pieces)
    return query + "*" if len(pieces[-1]) >= PREFIX_FROM else query


def marked(text: str) -> Markup:
    """``text`` from the index, HTML-escaped, with its marked matches as ``<mark>``."""
    html = _MARKED.sub(r"<mark>\1</mark>", str(escape(text)))
    return Markup(html.replace(MARK, "").replace(END_MARK, ""))


@dataclass(frozen=True)
class Hit:
    """A found article, with its headline, summary and a passage of its body as safe HTML."""

    article: Article
    title: Markup
    summary: Markup
    snippet: Markup


def _matches(expression: str) -> sa.Select[tuple[int]]:
    """The ids of the articles, public or not, whose index row matches ``expression``."""
    return sa.select(_INDEX.c.rowid).where(_WHOLE_INDEX.op("MATCH")(expression))


class IndexedHits(Pagination):
    """A page of hits from the FTS5 index, best first (kwarg ``expression``).

    How it scales: FTS5 reads the matching rows from its inverted index and ranks them all
    by bm25, so a page costs time in proportion to the articles that match, not to the size
    of the archive. The rows come out in rank order and are checked against ``articles``
    one by one, only until the page is full; only the page's rows get snippets and are
    loaded. The count reads the public ids from the articles' (status, published_at) index
    and the matches from FTS5, without ranking. With 100,000 articles of 500 words, a rare
    word takes about 20 ms and a word found in nearly all of them about 250 ms, most of it
    the ranking; a deeper page costs the same.
    """

    def _query_items(self) -> list[Hit]:
        """The hits on this page, each with its marked headline, summary and snippet."""
        marks = (MARK, END_MARK)
        public = Article.public().whereclause
        query = (
            _matches(self._query_args["expression"])
            .add_columns(
                sa.func.highlight(_WHOLE_INDEX, 0, *marks),
                sa.func.highlight(_WHOLE_INDEX, 1, *marks),
                sa.func.snippet(_WHOLE_INDEX, 2, *marks, "…", SNIPPET_WORDS),
            )
            .where(_INDEX.c.rank.op("MATCH")(RANKING))
            # Per row, not a join: SQLite could otherwise drive the search from the articles
            # and run the full-text query once per public article.
            .where(sa.exists().where(Article.id == _INDEX.c.rowid, public))
            .order_by(_INDEX.c.rank)
            .limit(self.per_page)
            .offset(self._query_offset)
        )
        rows = db.session.execute(query).all()
        # By id alone (the query checked them): given the public conditions as well, SQLite
        # walks all public articles by date instead of looking up the ids.
        found = (
            sa.select(Article)
            .where(Article.id.in_([row.rowid for row in rows]))
            .options(selectinload(Article.author), selectinload(Article.section))
        )
        articles = {article.id: article for article in db.session.scalars(found)}
        return [
            Hit(articles[rowid], marked(title), marked(summary), marked(snippet))
            for rowid, title, summary, snippet in rows
            if rowid in articles  # not deleted for good between the two queries
        ]

    def _query_count(self) -> int:
        """How many public articles match."""
        matches = _matches(self._query_args["expression"])
        query = sa.select(sa.func.count()).where(
            Article.public().whereclause, Article.id.in_(matches)
        )
        return db.session.scalar(query) or 0


class PlainHits(Pagination):
    """A page of public articles with every word of ``words`` (kwarg) in their headline,
    summary or stored HTML, newest first: the search of databases without an FTS5 index.
    """

    def _query(self) -> sa.Select[tuple[Article]]:
        """Public articles with every word somewhere, case-insensitively."""
        query = Article.public()
        for word in self._query_args["words"]:
            columns = (Article.title, Article.summary, Article.body_html)
            query = query.where(sa.or_(*(c.icontains(word, autoescape=True) for c in columns)))
        return query

    def _query_items(self) -> list[Hit]:
        """The articles on this page, their headline and summary escaped, without a snippet."""
        query = self._query().limit(self.per_page).offset(self._query_offset)
        return [
            Hit(article, escape(article.title), escape(article.summary), Markup(""))
            for article in db.session.scalars(query)
        ]

    def _query_count(self) -> int:
        """How many public articles match."""
        query = self._query().with_only_columns(sa.func.count(), maintain_column_froms=True)
        return db.session.scalar(query.order_by(None)) or 0


def search(text: str, page: int = 1) -> Pagination | None:
    """Page ``page`` of the public articles matching ``text``; None when it has no words.

    A page past the last one is a 404, as on the listings.
    """
    per_page = current_app.config["ARTICLES_PER_PAGE"]
    if not _has_index(db.session.get_bind()):
        words = text.split()
        return PlainHits(page=page, per_page=per_page, words=words) if words else None
    expression = match_expression(text)
    if expression is None:
        return None
    return IndexedHits(page=page, per_page=per_page, expression=expression)


def _has_index(bind: sa.Connection | sa.Engine) -> bool:
    """Whether the database has the FTS5 index (SQLite: the migrations made it)."""
    return bind.dialect.name == "sqlite"


def _index_rows(connection: sa.Connection, where: sa.ColumnElement[bool] | None = None) -> None:
    """Write the index rows of the articles matching ``where`` (all when None) from their rows.

    One INSERT … SELECT: SQLite calls ``plain_text`` for each body, no row travels to Python.
    """
    connection.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "plain_text", 1, plain_text, deterministic=True
    )
    articles = Article.__table__
    rows = sa.select(
        articles.c.id,
        _unmarked(articles.c.title),
        _unmarked(articles.c.summary),
        sa.func.plain_text(articles.c.body_html),
    )
    if where is not None:
        rows = rows.where(where)
    connection.execute(
        sa.insert(_INDEX)
        .prefix_with("OR REPLACE")
        .from_select(["rowid", "title", "summary", "body"], rows)
    )


def _unmarked(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``column`` without the characters that mark matches."""
    return sa.func.replace(sa.func.replace(column, MARK, ""), END_MARK, "")


def _remove_rows(connection: sa.Connection, ids: list[int]) -> None:
    """Take the articles ``ids`` out of the index."""
    connection.execute(sa.delete(_INDEX).where(_INDEX.c.rowid.in_(ids)))


def reindex_all() -> int | None:
    """Build the whole index again from the articles table and commit; how many it holds.

    None when the database has no index. For articles written around the ORM (a bulk
    import with SQLAlchemy Core), or an index to repair: one transaction, so searches see
    the old index until the new one is complete, but saves wait for it (SQLite has one
    writer; about half a minute for 100,000 articles).
    """
    connection = db.session.connection()
    if not _has_index(connection):
        return None
    # Dropping is instant; deleting the rows would cost as much as indexing them again.
    connection.execute(sa.text(f"DROP TABLE IF EXISTS {INDEX}"))
    connection.execute(sa.text(CREATE_INDEX))
    _index_rows(connection)
    count = connection.scalar(sa.select(sa.func.count()).select_from(_INDEX))
    db.session.commit()
    return count


@event.listens_for(Article, "after_insert")
def _added(_mapper: Mapper[Article], connection: sa.Connection, article: Article) -> None:
    """Index a new article as it is flushed."""
    if _has_index(connection):
        _index_rows(connection, Article.__table__.c.id == article.id)


@event.listens_for(Article, "after_update")
def _changed(_mapper: Mapper[Article], connection: sa.Connection, article: Article) -> None:
    """Index an article again when its headline, summary or HTML changed."""
    state = sa.inspect(article)
    if _has_index(connection) and any(state.attrs[n].history.has_changes() for n in _INDEXED):
        _index_rows(connection, Article.__table__.c.id == article.id)


@event.listens_for(Article, "after_delete")
def _deleted(_mapper: Mapper[Article], connection: sa.Connection, article: Article) -> None:
    """Take a deleted article out of the index."""
    if _has_index(connection):
        _remove_rows(connection, [article.id])


@event.listens_for(db.session, "do_orm_execute")
def _bulk_change(execute_state: ORMExecuteState) -> sa.Result[tuple[object, ...]] | None:
    """Keep the index right under ``update(Article)`` and ``delete(Article)`` statements.

    The rows they will touch are read first, then indexed again or taken out after.
    """
    mapper = execute_state.bind_mapper
    if not (execute_state.is_update or execute_state.is_delete) or mapper is None:
        return None
    connection = execute_state.session.connection()
    if mapper.class_ is not Article or not _has_index(connection):
        return None
    statement = execute_state.statement
    touched = sa.select(Article.__table__.c.id)
    if statement.whereclause is not None:  # type: ignore[attr-defined]
        touched = touched.where(statement.whereclause)  # type: ignore[attr-defined]
    ids = list(connection.scalars(touched))
    result = execute_state.invoke_statement()
    if ids and execute_state.is_update:
        _index_rows(connection, Article.__table__.c.id.in_(ids))
    elif ids:
        _remove_rows(connection, ids)
    return result


def _query_text() -> str:
    """The ``q`` of the request, trimmed."""
    return request.args.get("q", "").strip()


@bp.before_request
def _refuse_long_queries() -> ResponseReturnValue | None:
    """A query over MAX_QUERY characters gets a 400 page saying so."""
    if len(_query_text()) <= MAX_QUERY:
        return None
    message = f"Search for at most {MAX_QUERY} characters. Go back and shorten the words."
    page = render_template("errors/error.html", code=400, name="Search too long", message=message)
    return page, 400


def _page_number() -> int:
    """The ``?page=`` asked for; 1 when absent or not a number."""
    return request.args.get("page", 1, type=small_int)


@bp.get("/search")
def index() -> ResponseReturnValue:
    """The search page: the form and, for ``?q=``, a page of results, best first."""
    text = _query_text()
    found = search(text, _page_number())
    return render_template("search/index.html", q=text, results=found, max_query=MAX_QUERY)


@bp.get("/search/results")
def results() -> ResponseReturnValue:
    """The results and their count for ``?q=`` (live search), naming the full page."""
    text, number = _query_text(), _page_number()
    full_page = url_for("search.index", q=text or None, page=number if number > 1 else None)
    found = search(text, number)
    return fragment("search/_results.html", replace_url=full_page, oob=True, q=text, results=found)


@click.command("reindex-search")
@with_appcontext
def reindex_search() -> None:
    """Build the search index again from every stored article (saves wait meanwhile)."""
    count = reindex_all()
    if count is None:
        click.echo("This database has no search index: searches read the articles directly.")
    else:
        click.echo(f"Indexed {count} article(s).")

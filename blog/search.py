"""Reader search: the full-text index of articles, the queries over it, bp "search" and
``reindex-search``.

The index is a table, ``article_search``, made by the migrations: one row per article with
its headline, summary and the words of its body. Each database keeps it its own way behind
one small interface, a ``Backend``: on SQLite an FTS5 table (rowid = article id) ranked by
bm25, on PostgreSQL a ``tsvector`` weighted A/B/C with a GIN index, ranked by ``ts_rank``
in the text search configuration of the site's language. The index holds every article,
whatever its state; each hit is checked against the conditions of ``Article.public()`` as
the search runs, so a draft, a scheduled article or the trash is never found and an
unpublished article drops out at once. ORM events keep the index in step with every change
made through the session (the form, imports, the demo, restores, purges,
``rerender-articles``); rows written around the ORM are picked up by ``reindex_all()``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from html import unescape
from typing import Any

import click
import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup, escape
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapper, ORMExecuteState, selectinload

from blog.caching import content_changed
from blog.extensions import db
from blog.hx import fragment
from blog.models import Article
from blog.site import small_int, too_long_query

bp = Blueprint("search", __name__)

INDEX = "article_search"
# The index as the migrations make it on SQLite. remove_diacritics 2: "cafe" finds "café" too.
CREATE_INDEX = (
    f"CREATE VIRTUAL TABLE {INDEX} USING fts5("
    "title, summary, body, tokenize = 'unicode61 remove_diacritics 2')"
)
# bm25 weights of the columns: a word in the headline counts most, then the summary, the body.
RANKING = "bm25(10.0, 4.0, 1.0)"
# PostgreSQL's weights of D, C, B, A, in the same proportions: the headline is A, the
# summary B and the body C. ts_rank adds up a word's repeats with a falling weight (never
# past twice the first), so a headline match outranks any summary or body alone.
WEIGHTS = (0.1, 0.1, 0.4, 1.0)
# PostgreSQL's text search configuration per site language: the migrations make a copy of
# each that also folds accents (unaccent), as FTS5 does. Ukrainian has no stemmer there.
CONFIGURATIONS = {"en": "dateline_english", "uk": "dateline_simple"}
# Longer queries are refused (the form's maxlength); they are typed, not pasted articles.
MAX_QUERY = 200
SNIPPET_WORDS = 24
# A shorter last word is not taken as a prefix: "s*" matches nearly every article, and
# ranking them all takes a second on a large archive.
PREFIX_FROM = 3
# Private-use characters the database puts around matches: taken out of the text it indexes,
# so after HTML-escaping only they can become <mark> tags.
MARK, END_MARK = "\ue000", "\ue001"
ELLIPSIS = "…"
# PostgreSQL's parser takes "<…>" for an HTML tag and skips the words inside, and "/a/b"
# for one path: its index holds private-use characters (separators to it) for "<" and "/",
# and shows them again as they were. Marks and these characters typed in are dropped.
_MASKS = {"<": "\ue002", "/": "\ue003"}
_MASK = str.maketrans(dict.fromkeys((MARK, END_MARK, *_MASKS.values())) | _MASKS)
_UNMASK = str.maketrans({masked: char for char, masked in _MASKS.items()})
# Articles written to the PostgreSQL index per statement: bodies travel through Python.
BATCH = 500

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
_INDEXED = ("title", "summary", "body_html")


def init_app(app: Flask) -> None:
    """Refuse a database search cannot index; add ``reindex-search`` to ``flask``."""
    with app.app_context():
        name = db.engine.dialect.name
    if name not in BACKENDS:
        raise ValueError(
            f"SQLALCHEMY_DATABASE_URI is a {name} database; Dateline needs SQLite or PostgreSQL"
        )
    app.cli.add_command(reindex_search)


def plain_text(html: str) -> str:
    """The words of stored, sanitized HTML: tags out, entities decoded, blocks kept apart."""
    text = _TAG.sub(lambda tag: "" if tag[1].lower() in _INLINE else " ", html)
    return " ".join(unescape(text).replace(MARK, "").replace(END_MARK, "").split())


def _unmarked(text: str) -> str:
    """``text`` without the characters that mark matches."""
    return text.replace(MARK, "").replace(END_MARK, "")


def query_pieces(text: str) -> list[str]:
    """The space-separated pieces of ``text`` that hold a word, each searched for as a phrase."""
    # Both databases read queries as C strings: a NUL would end one inside a piece.
    return [piece for piece in text.replace("\0", " ").split() if _WORD.search(piece)]


def match_expression(text: str) -> str | None:
    """``text`` as an FTS5 query that cannot be malformed, or None when it has no words.

    Each piece is quoted (a phrase, so operators, columns, ``NEAR``, ``*`` and ``-`` are
    only text) and all are required; the last one also matches as a prefix once it has
    PREFIX_FROM characters, so that results follow typing.
    """
    pieces = query_pieces(text)
    if not pieces:
        return None
    query = " ".join('"{}"'.format(piece.replace('"', '""')) for piece in pieces)
    return query + "*" if len(pieces[-1]) >= PREFIX_FROM else query


def marked(text: str) -> Markup:
    """``text`` from the index, HTML-escaped, with its marked matches as ``<mark>``."""
    html = _MARKED.sub(r"<mark>\1</mark>", str(escape(text)))
    return Markup(_unmarked(html))


@dataclass(frozen=True)
class Hit:
    """A found article, with its headline, summary and a passage of its body as safe HTML."""

    article: Article
    title: Markup
    summary: Markup
    snippet: Markup


@dataclass(frozen=True)
class Found:
    """An index row that matched: the article id and its texts with matches marked."""

    id: int
    title: str
    summary: str
    snippet: str


class Backend(ABC):
    """The search index of one kind of database: writing rows, matching and ranking."""

    table: sa.TableClause
    key: sa.ColumnClause[int]

    @abstractmethod
    def query(self, text: str) -> Any:
        """``text`` as this database's query, or None when it has no words."""

    @abstractmethod
    def matches(self, query: Any) -> sa.Select[tuple[int]]:
        """The ids of the articles, public or not, that match ``query``."""

    @abstractmethod
    def ranked(self, query: Any, limit: int, offset: int) -> list[Found]:
        """The public articles matching ``query``, best first, from ``offset`` on."""

    @abstractmethod
    def write(self, connection: sa.Connection, where: sa.ColumnElement[bool] | None) -> None:
        """Write the index rows of the articles matching ``where`` (all when None)."""

    @abstractmethod
    def clear(self, connection: sa.Connection) -> None:
        """Empty the index, as part of the transaction that fills it again."""

    def remove(self, connection: sa.Connection, ids: Sequence[int]) -> None:
        """Take the articles ``ids`` out of the index."""
        connection.execute(sa.delete(self.table).where(self.key.in_(ids)))


def _public(article_id: sa.ColumnElement[int]) -> sa.Exists:
    """Whether the article ``article_id`` is one readers may see."""
    return sa.exists().where(Article.id == article_id, Article.public().whereclause)


def _strip_marks(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``column`` without the characters that mark matches, in SQL."""
    return sa.func.replace(sa.func.replace(column, MARK, ""), END_MARK, "")


class Fts5(Backend):
    """SQLite: an FTS5 table, bm25 ranking, ``highlight()`` and ``snippet()``.

    How it scales: FTS5 reads the matching rows from its inverted index and ranks them all
    by bm25, so a page costs time in proportion to the articles that match, not to the size
    of the archive. The rows come out in rank order and are checked against ``articles``
    one by one, only until the page is full; only the page's rows get snippets. The count
    reads the public ids from the articles' (status, published_at) index and the matches
    from FTS5, without ranking. With 100,000 articles of 500 words, a rare word takes about
    20 ms and a word found in nearly all of them about 250 ms, most of it the ranking; a
    deeper page costs the same.
    """

    table = sa.table(
        INDEX, *(sa.column(name) for name in ("rowid", "title", "summary", "body", "rank"))
    )
    key = table.c.rowid
    # FTS5's MATCH and its auxiliary functions take the table's name as a column.
    _whole = sa.literal_column(INDEX)

    def query(self, text: str) -> str | None:
        """``text`` as an FTS5 expression (``match_expression``)."""
        return match_expression(text)

    def matches(self, query: str) -> sa.Select[tuple[int]]:
        """The ids whose row matches the FTS5 expression ``query``."""
        return sa.select(self.key).where(self._whole.op("MATCH")(query))

    def ranked(self, query: str, limit: int, offset: int) -> list[Found]:
        """The page's rows by bm25, marked with ``highlight()`` and ``snippet()``."""
        marks = (MARK, END_MARK)
        statement = (
            self.matches(query)
            .add_columns(
                sa.func.highlight(self._whole, 0, *marks),
                sa.func.highlight(self._whole, 1, *marks),
                sa.func.snippet(self._whole, 2, *marks, ELLIPSIS, SNIPPET_WORDS),
            )
            .where(self.table.c.rank.op("MATCH")(RANKING))
            # Per row, not a join: SQLite could otherwise drive the search from the articles
            # and run the full-text query once per public article.
            .where(_public(self.key))
            .order_by(self.table.c.rank)
            .limit(limit)
            .offset(offset)
        )
        return [Found(*row) for row in db.session.execute(statement)]

    def write(self, connection: sa.Connection, where: sa.ColumnElement[bool] | None) -> None:
        """One INSERT … SELECT: SQLite calls ``plain_text`` for each body in place."""
        connection.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "plain_text", 1, plain_text, deterministic=True
        )
        articles = Article.__table__
        rows = sa.select(
            articles.c.id,
            _strip_marks(articles.c.title),
            _strip_marks(articles.c.summary),
            sa.func.plain_text(articles.c.body_html),
        )
        if where is not None:
            rows = rows.where(where)
        connection.execute(
            sa.insert(self.table)
            .prefix_with("OR REPLACE")
            .from_select(["rowid", "title", "summary", "body"], rows)
        )

    def clear(self, connection: sa.Connection) -> None:
        """Drop and make the table: instant, where deleting the rows costs a full indexing.

        Saves wait until the new index commits (SQLite has one writer; about half a minute
        for 100,000 articles).
        """
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {INDEX}"))
        connection.execute(sa.text(CREATE_INDEX))


class PostgresTextSearch(Backend):
    """PostgreSQL: a ``tsvector`` per article with a GIN index, ``ts_rank``, ``ts_headline``.

    The GIN index finds the matching rows; those that are public are ranked and only the
    page's rows get headlines, so a page costs time in proportion to the matches. The
    configuration comes from the site's language (``CONFIGURATIONS``): after changing
    ``LANGUAGE``, run ``reindex-search``.
    """

    table = sa.table(
        INDEX,
        sa.column("article_id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("summary", sa.Text),
        sa.column("body", sa.Text),
        sa.column("document", postgresql.TSVECTOR),
    )
    key = table.c.article_id

    @staticmethod
    def configuration() -> sa.BindParameter[str]:
        """The text search configuration of the site's language."""
        name = CONFIGURATIONS[current_app.config["LANGUAGE"]]
        return sa.literal(name, postgresql.REGCONFIG)

    def query(self, text: str) -> sa.ColumnElement[Any] | None:
        """Every piece of ``text`` as a phrase, all required, the last also as a prefix.

        The pieces are read by PostgreSQL's own parser (``phraseto_tsquery``), so quotes,
        ``-``, ``|``, ``!`` or ``:`` are only text; the prefix piece is quoted for
        ``to_tsquery``, where a quote is doubled and a backslash escapes.
        """
        pieces = [_masked(piece) for piece in query_pieces(text)]
        if not pieces:
            return None
        config = self.configuration()
        terms = [sa.func.phraseto_tsquery(config, piece) for piece in pieces]
        if len(pieces[-1]) >= PREFIX_FROM:
            quoted = pieces[-1].replace("\\", "\\\\").replace("'", "''")
            terms[-1] = sa.func.to_tsquery(config, f"'{quoted}':*")
        return reduce(lambda left, right: left.op("&&")(right), terms)

    def matches(self, query: sa.ColumnElement[Any]) -> sa.Select[tuple[int]]:
        """The ids whose document matches the tsquery ``query``."""
        return sa.select(self.key).where(self.table.c.document.op("@@")(query))

    def ranked(self, query: sa.ColumnElement[Any], limit: int, offset: int) -> list[Found]:
        """The page's rows by ``ts_rank``, then newest id; ``ts_headline`` for the page only."""
        weights = sa.literal(list(WEIGHTS), postgresql.ARRAY(sa.REAL))
        rank = sa.func.ts_rank(weights, self.table.c.document, query).label("rank")
        page = (
            self.matches(query)
            .add_columns(self.table.c.title, self.table.c.summary, self.table.c.body, rank)
            .where(_public(self.key))
            .order_by(rank.desc(), self.key.desc())
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        config, marks = self.configuration(), f"StartSel={MARK}, StopSel={END_MARK}"
        whole = f"{marks}, HighlightAll=true"
        passage = f"{marks}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}"
        # A subquery's order is lost in the select around it: the page is ordered again.
        statement = sa.select(
            page.c.article_id,
            sa.func.ts_headline(config, page.c.title, query, whole),
            sa.func.ts_headline(config, page.c.summary, query, whole),
            sa.func.ts_headline(config, page.c.body, query, passage),
            page.c.body,
        ).order_by(page.c.rank.desc(), page.c.article_id.desc())
        return [
            Found(article_id, _unmasked(title), _unmasked(summary), _unmasked(_cut(snippet, body)))
            for article_id, title, summary, snippet, body in db.session.execute(statement)
        ]

    def write(self, connection: sa.Connection, where: sa.ColumnElement[bool] | None) -> None:
        """The articles' texts in batches from Python (``plain_text``), their documents built
        in one INSERT … SELECT per batch, an existing row replaced.
        """
        articles = Article.__table__
        rows = sa.select(articles.c.id, articles.c.title, articles.c.summary, articles.c.body_html)
        # Every article is read from a server-side cursor, never all in memory at once.
        rows = rows.execution_options(yield_per=BATCH) if where is None else rows.where(where)
        for batch in connection.execute(rows).partitions(BATCH):
            self._insert(connection, batch)

    def _insert(self, connection: sa.Connection, batch: Sequence[sa.Row[Any]]) -> None:
        """Index the rows ``batch`` of (id, title, summary, body_html)."""
        texts = sa.values(
            sa.column("id", sa.Integer),
            sa.column("title", sa.Text),
            sa.column("summary", sa.Text),
            sa.column("body", sa.Text),
            name="texts",
        ).data(
            [
                (id_, _masked(title), _masked(summary), _masked(plain_text(html)))
                for id_, title, summary, html in batch
            ]
        )
        config = self.configuration()
        document = reduce(
            lambda left, right: left.op("||")(right),
            (
                sa.func.setweight(
                    sa.func.to_tsvector(config, column), sa.literal_column(f"'{weight}'")
                )
                for column, weight in zip(texts.c[1:], "ABC", strict=True)
            ),
        )
        statement = postgresql.insert(self.table).from_select(
            ["article_id", "title", "summary", "body", "document"],
            sa.select(*texts.c, document),
        )
        replaced = {
            name: statement.excluded[name] for name in ("title", "summary", "body", "document")
        }
        connection.execute(
            statement.on_conflict_do_update(index_elements=["article_id"], set_=replaced)
        )

    def clear(self, connection: sa.Connection) -> None:
        """Delete every row: searches keep reading the old rows until the new ones commit.

        An article's row stays locked until then, so a save that changes its words waits.
        """
        connection.execute(sa.delete(self.table))


def _masked(text: str) -> str:
    """``text`` as PostgreSQL's index holds it (``_MASKS``)."""
    return text.translate(_MASK)


def _unmasked(text: str) -> str:
    """Text from PostgreSQL's index as it was written."""
    return text.translate(_UNMASK)


def _cut(snippet: str, body: str) -> str:
    """``snippet`` with an ellipsis on each side where it cuts ``body`` short, as FTS5 does."""
    text = _unmarked(snippet)
    start = body.find(text)
    if start < 0:
        return snippet
    before = ELLIPSIS if start > 0 else ""
    after = ELLIPSIS if start + len(text) < len(body) else ""
    return f"{before}{snippet}{after}"


BACKENDS: dict[str, Backend] = {"sqlite": Fts5(), "postgresql": PostgresTextSearch()}


def backend(bind: sa.Connection | sa.Engine) -> Backend:
    """The search index of the database behind ``bind`` (``init_app`` checked it has one)."""
    return BACKENDS[bind.dialect.name]


class Hits(Pagination):
    """A page of hits from the index, best first (kwargs ``backend`` and ``query``).

    Only the page's rows are ranked out and marked; their articles are then loaded by id
    alone (the search checked them): given the public conditions as well, SQLite walks all
    public articles by date instead of looking up the ids.
    """

    def _query_items(self) -> list[Hit]:
        """The hits on this page, each with its marked headline, summary and snippet."""
        index, query = self._query_args["backend"], self._query_args["query"]
        rows = index.ranked(query, self.per_page, self._query_offset)
        found = (
            sa.select(Article)
            .where(Article.id.in_([row.id for row in rows]))
            .options(selectinload(Article.author), selectinload(Article.section))
        )
        articles = {article.id: article for article in db.session.scalars(found)}
        return [
            Hit(articles[row.id], marked(row.title), marked(row.summary), marked(row.snippet))
            for row in rows
            if row.id in articles  # not deleted for good between the two queries
        ]

    def _query_count(self) -> int:
        """How many public articles match."""
        matches = self._query_args["backend"].matches(self._query_args["query"])
        count = sa.select(sa.func.count()).where(
            Article.public().whereclause, Article.id.in_(matches)
        )
        return db.session.scalar(count) or 0


def search(text: str, page: int = 1) -> Pagination | None:
    """Page ``page`` of the public articles matching ``text``; None when it has no words.

    A page past the last one is a 404, as on the listings.
    """
    index = backend(db.session.get_bind())
    query = index.query(text)
    if query is None:
        return None
    per_page = current_app.config["ARTICLES_PER_PAGE"]
    return Hits(page=page, per_page=per_page, backend=index, query=query)


def reindex_all() -> int:
    """Build the whole index again from the articles table and commit; how many it holds.

    For articles written around the ORM (a bulk import with SQLAlchemy Core, a copy from
    another database), an index to repair, or a new ``LANGUAGE``: one transaction, so
    searches see the old index until the new one is complete. Kept search pages retire.
    """
    connection = db.session.connection()
    index = backend(connection)
    index.clear(connection)
    index.write(connection, None)
    count = connection.scalar(sa.select(sa.func.count()).select_from(index.table))
    db.session.commit()
    content_changed()
    return count or 0


@event.listens_for(Article, "after_insert")
def _added(_mapper: Mapper[Article], connection: sa.Connection, article: Article) -> None:
    """Index a new article as it is flushed."""
    backend(connection).write(connection, Article.__table__.c.id == article.id)


@event.listens_for(Article, "after_update")
def _changed(_mapper: Mapper[Article], connection: sa.Connection, article: Article) -> None:
    """Index an article again when its headline, summary or HTML changed."""
    state = sa.inspect(article)
    if any(state.attrs[name].history.has_changes() for name in _INDEXED):
        backend(connection).write(connection, Article.__table__.c.id == article.id)


@event.listens_for(Article, "after_delete")
def _deleted(_mapper: Mapper[Article], connection: sa.Connection, article: Article) -> None:
    """Take a deleted article out of the index."""
    backend(connection).remove(connection, [article.id])


@event.listens_for(db.session, "do_orm_execute")
def _bulk_change(execute_state: ORMExecuteState) -> sa.Result[tuple[object, ...]] | None:
    """Keep the index right under ``update(Article)`` and ``delete(Article)`` statements.

    The rows they will touch are read first, then indexed again or taken out after.
    """
    mapper = execute_state.bind_mapper
    if not (execute_state.is_update or execute_state.is_delete) or mapper is None:
        return None
    if mapper.class_ is not Article:
        return None
    connection = execute_state.session.connection()
    statement = execute_state.statement
    touched = sa.select(Article.__table__.c.id)
    if statement.whereclause is not None:  # type: ignore[attr-defined]
        touched = touched.where(statement.whereclause)  # type: ignore[attr-defined]
    ids = list(connection.scalars(touched))
    result = execute_state.invoke_statement()
    index = backend(connection)
    if ids and execute_state.is_update:
        index.write(connection, Article.__table__.c.id.in_(ids))
    elif ids:
        index.remove(connection, ids)
    return result


def _query_text() -> str:
    """The ``q`` of the request, trimmed."""
    return request.args.get("q", "").strip()


@bp.before_request
def _refuse_long_queries() -> ResponseReturnValue | None:
    """A query over MAX_QUERY characters gets a 400 page saying so."""
    return too_long_query(MAX_QUERY) if len(_query_text()) > MAX_QUERY else None


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
    """Build the search index again from every stored article.

    Saves wait until it is done: on SQLite every one, on PostgreSQL those that change the
    headline, summary or body of an article already indexed.
    """
    click.echo(f"Indexed {reindex_all()} article(s).")

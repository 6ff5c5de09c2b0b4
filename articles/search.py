"""Search: one function over titles, summaries and article text, on either database.

SQLite uses an FTS5 table kept in step by triggers (created by
``create_sqlite_search_index``, attached to the articles table's ``after_create`` so
``db.create_all()`` builds it; a migration calls it the same way). PostgreSQL uses the
GIN expression index declared in ``articles.models``. Either way the query is split into
words and quoted phrases (``search_terms``), every one required, and never passed through
as syntax: unbalanced quotes or stray operators cannot cause an error, and neither
database reads "-" or "or" as an operator.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup, escape

from articles import reading
from articles.models import SEARCH_CONFIG, Article, Feed, search_config, search_document
from articles.text import strip_control
from club.extensions import db

log = logging.getLogger(__name__)

PER_PAGE = 20
MAX_QUERY = 200
MAX_TERMS = 12
START, STOP = "\x02", "\x03"  # control characters never survive ingestion, so safe markers
# A quoted phrase, or a run of anything but spaces and quotes; the tokenizer finds the
# words inside (\w would split a word at a combining mark, as in Hindi).
TERM = re.compile(r'"([^"]+)"|([^\s"]+)')

SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS article_search USING fts5("
    "title, summary, body_text, content='articles', content_rowid='id', "
    # Combining marks (category M) belong to words: without them Hindi or vowelled Arabic
    # words split into single letters.
    "tokenize='porter unicode61 remove_diacritics 2 categories ''L* N* Co M*''')",
    "CREATE TRIGGER IF NOT EXISTS article_search_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO article_search(rowid, title, summary, body_text) "
    "VALUES (new.id, new.title, new.summary, new.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS article_search_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO article_search(article_search, rowid, title, summary, body_text) "
    "VALUES ('delete', old.id, old.title, old.summary, old.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS article_search_update "
    "AFTER UPDATE OF title, summary, body_text ON articles BEGIN "
    "INSERT INTO article_search(article_search, rowid, title, summary, body_text) "
    "VALUES ('delete', old.id, old.title, old.summary, old.body_text); "
    "INSERT INTO article_search(rowid, title, summary, body_text) "
    "VALUES (new.id, new.title, new.summary, new.body_text); END",
    "INSERT INTO article_search(article_search) VALUES ('rebuild')",
)


# What the articles table's GIN index needs first on PostgreSQL: the unaccent dictionary
# (a trusted extension since PostgreSQL 13: the database owner may create it) and the
# configuration that reads accent-free English words. Safe to run again.
POSTGRES_SEARCH_CONFIG_DDL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "DO $$ BEGIN "
    f"CREATE TEXT SEARCH CONFIGURATION {SEARCH_CONFIG} (COPY = pg_catalog.english); "
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    f"ALTER TEXT SEARCH CONFIGURATION {SEARCH_CONFIG} "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
)


def create_postgres_search_config(target: sa.Table, connection: sa.Connection, **kw) -> None:
    """Create the accent-free search configuration (no-op on SQLite)."""
    if connection.dialect.name != "postgresql":
        return
    for statement in POSTGRES_SEARCH_CONFIG_DDL:
        connection.exec_driver_sql(statement)


def create_sqlite_search_index(target: sa.Table, connection: sa.Connection, **kw) -> None:
    """Create the SQLite FTS5 search table and its triggers (no-op on PostgreSQL)."""
    if connection.dialect.name != "sqlite":
        return
    for statement in SQLITE_SEARCH_DDL:
        connection.exec_driver_sql(statement)


def drop_sqlite_search_index(target: sa.Table, connection: sa.Connection, **kw) -> None:
    """Drop the SQLite FTS5 search table (its triggers go with the articles table)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TABLE IF EXISTS article_search")


sa.event.listen(Article.__table__, "before_create", create_postgres_search_config)
sa.event.listen(Article.__table__, "after_create", create_sqlite_search_index)
sa.event.listen(Article.__table__, "before_drop", drop_sqlite_search_index)


@dataclass
class Hit:
    """One search result: the article and its highlighted title and snippet."""

    article: Article
    title: Markup
    snippet: Markup


@dataclass
class SearchPage:
    """One page of ranked results."""

    query: str
    hits: list[Hit]
    page: int
    has_next: bool

    @property
    def advice(self) -> str:
        """What to try when the query found nothing (empty when nothing would help)."""
        return advice_for(self.query)


def search_articles(query: str, page: int = 1, per_page: int = PER_PAGE) -> SearchPage:
    """Return published articles matching ``query``, best first, highlighted, paginated."""
    query = " ".join(strip_control(query or "").split())[:MAX_QUERY]
    page = max(1, page)
    empty = SearchPage(query, [], page, False)
    if not query:
        return empty
    dialect = db.session.get_bind().dialect.name
    build = _postgres_statement if dialect == "postgresql" else _sqlite_statement
    statement = build(query)
    if statement is None:
        return empty
    statement = statement.limit(per_page + 1).offset((page - 1) * per_page)
    try:
        with db.session.begin_nested():
            rows = db.session.execute(statement).all()
    except sa.exc.DBAPIError:
        # Our query building should make this impossible; a visitor still gets a page.
        log.exception("search failed for %r", query)
        return empty
    hits = [Hit(row[0], highlight(row[1]), highlight(row[2])) for row in rows[:per_page]]
    return SearchPage(query, hits, page, len(rows) > per_page)


def highlight(text: str | None) -> Markup:
    """Escape ``text`` and turn the database's match markers into <mark> elements."""
    escaped = str(escape(text or ""))
    return Markup(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704


def search_terms(query: str) -> list[str]:
    """The words and quoted phrases of free text, every one required.

    Both databases read the query this way, so nothing a visitor types is syntax: "-" or
    "or" is never an operator (PostgreSQL skips stop words such as "or"; SQLite keeps them).
    """
    terms = []
    for phrase, word in TERM.findall(query):
        term = (phrase or word).strip()
        if _has_a_word(term):  # a lone "*" or "(" would match nothing and sink the rest
            terms.append(term)
    return terms[:MAX_TERMS]


def advice_for(query: str) -> str:
    """What to try when ``query`` finds nothing: a phrase without its quotes (then its
    words may appear apart), or fewer words (every one must appear)."""
    if any(len(phrase.split()) > 1 for phrase, _ in TERM.findall(query)):
        return "A phrase in quotes must appear word for word: try it without the quotes."
    if len(search_terms(query)) > 1:
        return "Every word must appear in an article: try fewer words."
    return ""


def fts5_query(query: str) -> str | None:
    """Turn free text into an FTS5 query of quoted terms (AND), so nothing is syntax."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in search_terms(query)) or None


def _has_a_word(term: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LMN" for ch in term)


def _shows_excerpt_only() -> sa.ColumnElement:
    """The article's source is shown as an excerpt only: a snippet must not quote the body."""
    return Feed.full_content.is_(False)


def _published() -> sa.ColumnElement:
    return Article.status == "published"


def _sqlite_statement(query: str) -> sa.Select | None:
    match = fts5_query(query)
    if match is None:
        return None
    fts = sa.table("article_search", sa.column("rowid"))
    index = sa.literal_column("article_search")
    summary = sa.func.snippet(index, 1, START, STOP, "…", 30)
    body = sa.func.snippet(index, 2, START, STOP, "…", 30)
    # The title is the result's heading: the snippet quotes the text, where it matched.
    body_or_summary = sa.case((sa.func.instr(body, START) > 0, body), else_=summary)
    return (
        sa.select(
            Article,
            sa.func.highlight(index, 0, START, STOP),
            sa.case((_shows_excerpt_only(), summary), else_=body_or_summary),
        )
        .join_from(Article, fts, fts.c.rowid == Article.id)
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .where(index.match(match), _published())
        .order_by(sa.func.bm25(index, 10.0, 4.0, 1.0), *reading.NEWEST_FIRST)
    )


def _postgres_statement(query: str) -> sa.Select | None:
    terms = search_terms(query)
    if not terms:
        return None
    config = search_config()
    # Each term a phrase (a single word is a one-word phrase), all of them required.
    tsquery = functools.reduce(
        lambda left, right: left.op("&&")(right),
        (sa.func.phraseto_tsquery(config, term) for term in terms),
    )
    document = search_document()
    body = sa.func.coalesce(sa.func.nullif(Article.body_text, ""), Article.summary)
    text = sa.case((_shows_excerpt_only(), Article.summary), else_=body)
    options = f"StartSel={START}, StopSel={STOP}"
    return (
        sa.select(
            Article,
            sa.func.ts_headline(config, Article.title, tsquery, f"{options}, HighlightAll=true"),
            sa.func.ts_headline(config, text, tsquery, f"{options}, MaxWords=35, MinWords=15"),
        )
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .where(document.op("@@")(tsquery), _published())
        .order_by(sa.func.ts_rank_cd(document, tsquery).desc(), *reading.NEWEST_FIRST)
    )

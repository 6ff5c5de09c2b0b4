"""Extension objects, created unbound at import time and bound in ``create_app``."""

import ipaddress
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TypeVar

import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_PAGE_SIZE = 16384
# SQLite gives a new row the largest id + 1, so deleting the newest row hands its id to
# the next one, and with it the audit history, emailed links and addresses that name the
# id. AUTOINCREMENT never reuses an id (nor do PostgreSQL's sequences). For the tables
# whose ids people see: accounts, feeds, articles, topics, comments, keyword rules.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

# A statement's IN list stays this long at most, however many values there are: SQLite
# refuses more than 32,766 bound parameters, and very long lists slow both databases.
IN_LIST_SIZE = 500

T = TypeVar("T")


def in_batches(values: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``, for bounded IN lists."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class unicode_lower(FunctionElement):
    """SQL ``lower()`` that lower-cases every letter, on SQLite as on PostgreSQL.

    SQLite's own ``lower()`` changes ASCII letters only, so an admin typing "économie"
    would never find "Économie"; on SQLite this is Python's ``str.lower``, registered on
    each connection (``configure_sqlite``). Not for index expressions: an index built with
    it could not be read by a connection that lacks the function.
    """

    type = sa.String()
    inherit_cache = True
    name = "unicode_lower"


SQLITE_UNICODE_LOWER = "unicode_lower"


@compiles(unicode_lower)
def _compile_lower(element: unicode_lower, compiler, **kw) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _compile_sqlite_lower(element: unicode_lower, compiler, **kw) -> str:
    return f"{SQLITE_UNICODE_LOWER}({compiler.process(element.clauses, **kw)})"


def _lower_text(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def client_network() -> str:
    """The rate-limit key for a client: its IPv4 address, or its IPv6 /64.

    One IPv6 subscriber is usually handed a whole /64, so keying on the full address would
    give anyone 2**64 fresh allowances.
    """
    address = get_remote_address()
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


limiter = Limiter(key_func=client_network)


@sa.event.listens_for(sa.engine.Engine, "connect")
def configure_sqlite(dbapi_connection, connection_record) -> None:
    """Make SQLite behave like the PostgreSQL it stands in for.

    Foreign keys are enforced (ON DELETE SET NULL/CASCADE). WAL lets pages read while the
    dev server's feed refresh writes, and with synchronous=NORMAL a commit no longer waits
    for an fsync: a crash of the process loses nothing, a power cut at most the last
    commits, which is the right trade for the local default (production runs PostgreSQL).

    A new database file gets 16 KB pages (an existing one keeps its own; WAL fixes the
    size, so this comes first). An article row, its HTML and its text, runs to kilobytes:
    the larger page packs them with less slack (the file is about 15 % smaller) and
    storing a feed writes fewer pages. The WAL is checkpointed every 1,000 pages, so it
    grows to about 16 MB between checkpoints (4 MB with SQLite's default pages).

    ``unicode_lower`` lower-cases every letter, as PostgreSQL's ``lower()`` does.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function(SQLITE_UNICODE_LOWER, 1, _lower_text, deterministic=True)

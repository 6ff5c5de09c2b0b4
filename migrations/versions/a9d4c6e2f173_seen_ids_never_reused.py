"""never hand a deleted feed's, article's, topic's, comment's or rule's id to a new one (SQLite)

Revision ID: a9d4c6e2f173
Revises: c3e8a1f5d290
Create Date: 2026-11-29 11:20:00

SQLite gives a new row the largest id + 1. After the newest feed was deleted, the next
one added got its id, and the audit log's rows about the old feed read "now named" the
new one and linked to it; a deleted article's address and a removed comment's emailed
link would likewise reach another. AUTOINCREMENT never reuses an id, as accounts have
had since d3f1a6c8e210; PostgreSQL's sequences never do: nothing to do there.

Each table is rebuilt (SQLite cannot add AUTOINCREMENT in place); env.py turns foreign
keys off around it. Its indexes and triggers (the search index's, on articles) are read
from the schema first and made again after, as batch mode keeps only what it reflects.
The new counter starts past every id the audit log names, so even an id freed before
this migration is not handed out again.
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "a9d4c6e2f173"
down_revision = "c3e8a1f5d290"
branch_labels = None
depends_on = None

# Each table, and the target type its rows have in the audit log.
TABLES = {
    "feeds": "feed",
    "topics": "topic",
    "articles": "article",
    "comments": "comment",
    "keyword_rules": "keywordrule",
}


def _schema_objects(table: str) -> list[tuple[str, str, str]]:
    """The table's own indexes and triggers: (type, name, the SQL that made it)."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE tbl_name = :table AND type IN ('index', 'trigger') AND sql IS NOT NULL"
        ),
        {"table": table},
    )
    return [tuple(row) for row in rows]


def _rebuild(table: str, autoincrement: bool) -> None:
    kept = _schema_objects(table)
    with warnings.catch_warnings():
        # Expression and partial indexes it warns about are made again below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    for kind, name, sql in kept:
        op.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        op.execute(sql)


def _start_past_named_ids(table: str, target_type: str) -> None:
    """Start the table's counter past its rows and every id the audit log names for it."""
    bind = op.get_bind()
    highest = bind.execute(sa.text(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')).scalar()
    named = bind.execute(
        sa.text(
            "SELECT COALESCE(MAX(CAST(target_id AS INTEGER)), 0) FROM audit_entries "
            "WHERE target_type = :type AND target_id GLOB '[0-9]*' "
            "AND target_id NOT GLOB '*[^0-9]*'"
        ),
        {"type": target_type},
    ).scalar()
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :table"), {"table": table})
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)"),
        {"table": table, "seq": max(highest, named)},
    )


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, target_type in TABLES.items():
        _rebuild(table, autoincrement=True)
        _start_past_named_ids(table, target_type)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)

"""The local SQLite database: set up on every connection the way the site relies on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from club import create_app
from club.extensions import SQLITE_PAGE_SIZE, db
from tests.conftest import base_test_config


def pragmas_of(database: Path, *names: str) -> list:
    app = create_app(base_test_config(f"sqlite:///{database}", database.parent))
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
                connection.commit()
                return [connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in names]
        finally:
            db.engine.dispose()


def test_a_new_database_enforces_foreign_keys_in_wal_mode_with_large_pages(tmp_path):
    found = pragmas_of(tmp_path / "new.sqlite3", "foreign_keys", "journal_mode", "page_size")
    assert found == [1, "wal", SQLITE_PAGE_SIZE]


def test_an_existing_database_keeps_its_page_size_and_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA page_size=4096")
        old.execute("CREATE TABLE t (x)")
        old.execute("INSERT INTO t VALUES ('kept')")
    old.close()
    assert pragmas_of(path, "page_size", "journal_mode") == [4096, "wal"]
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT x FROM t").scalar() == "kept"
    engine.dispose()

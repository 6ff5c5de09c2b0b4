"""Articles: feed ingestion (fetch → parse → clean → store), curation, reading pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a feed-parsing child process imports this package without Flask
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, commands and demo content."""
    from articles import admin, cli, demo, models, search, views  # noqa: F401  (tables, DDL hooks)

    views.init_app(app)
    admin.init_app(app)
    app.cli.add_command(cli.feeds)
    demo.init_app(app)

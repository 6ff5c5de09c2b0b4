"""Articles: feed ingestion (fetch → parse → clean → store), curation, reading pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints and commands on ``app``."""
    from articles import models  # noqa: F401  (registers the tables)

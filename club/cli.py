"""Command-line tools: ``flask --app club users ...`` and ``flask --app club demo ...``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register club's command groups."""

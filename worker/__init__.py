"""Background work: RQ queues, thin job entry points, periodic scheduling."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the worker command and the jobs admin page."""

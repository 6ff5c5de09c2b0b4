"""The one way the project runs work in the background.

``enqueue`` sends a job to RQ when ``REDIS_URL`` is set and runs it inline otherwise:
same function, same arguments. This module imports no domain code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

QUEUES = ("feeds", "billing", "mail", "default")


def enqueue(func: Callable[..., Any] | str, *args: Any, queue: str = "default", **kwargs: Any):
    """Run ``func(*args, **kwargs)`` in the background, or inline without Redis."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if not current_app.config.get("REDIS_URL"):
        return func(*args, **kwargs) if callable(func) else None
    raise NotImplementedError("RQ enqueueing arrives with the worker issue (#6)")

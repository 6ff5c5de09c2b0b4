"""The one way the project runs work in the background.

``enqueue`` sends a job to RQ when ``REDIS_URL`` is set and runs it inline otherwise:
same function, same arguments. Jobs are named by dotted path ("worker.jobs.send_mail")
so callers need not import the job module. This module imports no domain code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from flask import current_app

QUEUES = ("feeds", "billing", "mail", "default")


def resolve(func: Callable[..., Any] | str) -> Callable[..., Any]:
    """Return the callable a dotted path names (or ``func`` itself)."""
    if callable(func):
        return func
    module_name, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def enqueue(func: Callable[..., Any] | str, *args: Any, queue: str = "default", **kwargs: Any):
    """Run ``func(*args, **kwargs)`` in the background, or inline without Redis."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if not current_app.config.get("REDIS_URL"):
        return resolve(func)(*args, **kwargs)
    raise NotImplementedError("RQ enqueueing arrives with the worker issue (#6)")

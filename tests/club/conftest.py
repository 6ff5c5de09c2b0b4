"""Helpers for the foundation's tests: links from the outbox and a test-only interaction route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import links_in, read_outbox


def last_link(outbox: Path, path_part: str) -> str:
    """Return the path of the newest emailed link containing ``path_part``."""
    for message in reversed(read_outbox(outbox)):
        for link in links_in(message):
            if path_part in link:
                return re.sub(r"^https?://[^/]+", "", link)
    raise AssertionError(f"no emailed link contains {path_part!r}")


def messages_to(outbox: Path, address: str) -> list[str]:
    """Return every message in the outbox addressed to ``address``."""
    return [m for m in read_outbox(outbox) if f"To: {address}" in m]


@pytest.fixture
def interaction_route(app: Flask) -> str:
    """An unmarked write route, standing in for any member interaction (like, comment)."""

    def interact():
        return "done"

    app.add_url_rule("/__test__/interact", "test_interact", interact, methods=["POST"])
    return "/__test__/interact"

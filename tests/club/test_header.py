"""The site header marks the link to the page being shown (aria-current), and no other."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login, make_user

CURRENT = re.compile(r'<a href="([^"]*)" aria-current="page"')


def current_links(client, path: str) -> list[str]:
    """The header links marked as the page being shown, by address."""
    header = client.get(path).get_data(as_text=True).split("</header>")[0]
    return CURRENT.findall(header)


@pytest.mark.parametrize(
    ("path", "marked"),
    [
        ("/saved", ["/saved"]),
        ("/notifications", ["/notifications"]),
        ("/videos", ["/videos"]),
        ("/for-you", ["/for-you"]),
        ("/settings", ["/settings"]),
        ("/admin/feeds/", ["/admin/"]),
        ("/", []),
    ],
)
def test_the_header_marks_the_page_being_shown(client, path, marked):
    login(client, make_user(handle="ada", subscription="active", admin=True))
    assert current_links(client, path) == marked


def test_a_visitors_header_marks_the_page_too(client):
    assert current_links(client, "/") == []
    assert current_links(client, "/videos") == ["/videos"]

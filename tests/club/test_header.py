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


def after_skip_target(client, path: str) -> str:
    """The page from the element "Skip to content" leads to, onwards."""
    html = client.get(path).get_data(as_text=True)
    target = re.search(r'<a class="skip-link" href="#([\w-]+)"', html).group(1)
    return html.split(f'id="{target}"', 1)[1]


def leave_message(client, message: str) -> None:
    with client.session_transaction() as session:
        session["_flashes"] = [("success", message)]


def test_skip_to_content_on_admin_pages_passes_the_admin_links_but_no_message(client):
    login(client, make_user(handle="ada", subscription="active", admin=True))
    leave_message(client, "Feed paused.")
    content = after_skip_target(client, "/admin/feeds/")
    assert 'aria-label="Admin"' not in content
    assert "<h1>Feeds</h1>" in content
    assert "Feed paused." in content


def test_skip_to_content_on_reading_pages_leads_to_the_message_and_the_page(client):
    login(client, make_user(handle="ada", subscription="active"))
    leave_message(client, "Saved.")
    content = after_skip_target(client, "/saved")
    assert 'aria-label="Main"' not in content
    assert "Saved." in content

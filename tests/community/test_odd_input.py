"""Odd but well-formed input gets a 4xx or the ordinary page, never a 500.

CI runs these on PostgreSQL too, which refuses ids above its integer and NUL in text
where SQLite shrugs.
"""

from __future__ import annotations

import html

import pytest

from club.extensions import db
from club.web import MAX_ID, parse_id
from tests.conftest import login

TOO_BIG = MAX_ID + 1
HUGE = 2**63


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=walking&page=%C2%B2",  # "²": str.isdigit says yes, int() says no
        f"/search?q=walking&page={HUGE}",
        f"/?before=1-{HUGE}",
        f"/?before=1-{TOO_BIG}",
        f"/videos?before=1-{TOO_BIG}",
        f"/u/alice?before={TOO_BIG}",
        f"/saved?before={TOO_BIG}",
        f"/notifications?before={TOO_BIG}",
        f"/for-you?before=2026-01-01T00:00:00%2B00:00_{TOO_BIG}",
        "/for-you?before=2026-01-01T00:00:00%2B00:00_%C2%B2",
    ],
)
def test_it_shows_the_ordinary_page_for_odd_paging(member, article, path):
    assert member.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/articles/{TOO_BIG}",
        f"/articles/{HUGE}",
        f"/comments/{TOO_BIG}",
        f"/comments/{TOO_BIG}/report",
        "/topics/%00",
        "/u/%00",
        "/u/ali%00ce",
    ],
)
def test_it_answers_not_found_for_ids_and_names_that_cannot_exist(member, path):
    assert member.get(path).status_code == 404


@pytest.mark.parametrize("field", ["parent_id", "up_to"])
def test_it_refuses_a_posted_id_that_cannot_exist(member, article, field):
    url = f"/articles/{article.id}/comments" if field == "parent_id" else "/notifications/read"
    response = member.submit(url, {"body": "Hello there", field: str(TOO_BIG)})
    assert response.status_code == 400


def test_it_refuses_a_nul_in_a_form_and_says_what_is_wrong(client, member, article):
    login_form = {"email": "a\x00@example.com", "password": "x"}
    assert client.submit("/login", login_form).status_code == 400
    response = member.submit(
        f"/articles/{article.id}/comments", {"body": "Pasted:\x00 text", "client_token": "t" * 20}
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "holds an invisible NUL character" in page
    assert "Pasted:" in page  # the text comes back to copy


@pytest.mark.parametrize(
    "path",
    [
        "/admin/articles/?before=%C2%B2",
        f"/admin/articles/?before={TOO_BIG}",
        f"/admin/users?before={TOO_BIG}",
        f"/admin/audit?before={TOO_BIG}",
        "/admin/users?q=ali%00ce",
    ],
)
def test_it_shows_admin_lists_for_odd_paging(client, carol, path):
    login(client, carol)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/articles/{TOO_BIG}/edit",
        f"/admin/feeds/{TOO_BIG}/edit",
        f"/admin/users/{TOO_BIG}",
    ],
)
def test_it_answers_not_found_for_admin_ids_that_cannot_exist(client, carol, path):
    login(client, carol)
    assert client.get(path).status_code == 404


def test_it_ignores_bulk_ids_that_cannot_exist(client, carol, article):
    login(client, carol)
    data = {"action": "reject", "ids": ["%C2%B2", "²", str(TOO_BIG), str(article.id)]}
    assert client.submit("/admin/articles/bulk", data).status_code in (302, 303)
    db.session.expire_all()
    assert article.status == "rejected"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), (str(MAX_ID), MAX_ID), (str(TOO_BIG), None), ("0", None), ("²", None),
     ("-1", None), (" 1", None), ("1_0", None), ("", None), (None, None)],
)  # fmt: skip
def test_parse_id_takes_only_what_can_be_an_id(raw, expected):
    assert parse_id(raw) == expected

"""A production site that takes no real payments says so to its admins, and only to them."""

from __future__ import annotations

import logging

import pytest

from billing import LOCAL_CHECKOUT_NOTICE, TEST_KEY_NOTICE
from tests.conftest import login

TEST_KEY = {"BILLING_BACKEND": "stripe", "STRIPE_SECRET_KEY": "sk_test_staging"}
LIVE_KEY = {"BILLING_BACKEND": "stripe", "STRIPE_SECRET_KEY": "sk_live_real"}
LOCAL = {"BILLING_BACKEND": "local", "STRIPE_SECRET_KEY": None}
NOTICES = (TEST_KEY_NOTICE, LOCAL_CHECKOUT_NOTICE)

CASES = {
    "production, test key": ({"PRODUCTION": True, **TEST_KEY}, TEST_KEY_NOTICE),
    "production, local checkout": ({"PRODUCTION": True, **LOCAL}, LOCAL_CHECKOUT_NOTICE),
    "production, live key": ({"PRODUCTION": True, **LIVE_KEY}, None),
    "local site, test key": ({"PRODUCTION": False, **TEST_KEY}, None),
}


@pytest.fixture(params=CASES.values(), ids=CASES.keys())
def case(request) -> tuple[dict, str | None]:
    return request.param


@pytest.fixture
def app_config(app_config: dict, case) -> dict:
    return {**app_config, **case[0]}


def test_admins_are_told_on_every_admin_page_when_memberships_cost_nothing(client, carol, case):
    expected = case[1]
    login(client, carol)
    for url in ("/admin/", "/admin/users", "/admin/audit"):
        page = client.get(url).get_data(as_text=True)
        shown = [notice for notice in NOTICES if notice in page]
        assert shown == ([expected] if expected else []), url


def test_members_never_see_the_notice(client, alice):
    login(client, alice)
    page = client.get("/").get_data(as_text=True)
    assert not any(notice in page for notice in NOTICES)


def test_it_is_logged_when_the_site_starts(case, app_config, caplog):
    from club import create_app

    caplog.set_level(logging.WARNING, logger="billing")
    create_app(app_config)
    logged = [notice for notice in NOTICES if notice in caplog.text]
    assert logged == ([case[1]] if case[1] else [])

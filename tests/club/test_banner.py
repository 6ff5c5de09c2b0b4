"""The frozen banner on every page, nothing for paying members (#2 point 6)."""

from __future__ import annotations

import pytest

from club import membership
from club.membership import FROZEN_MESSAGE
from tests.conftest import login, make_user

PAGES = ["/settings", "/signup/check-email", "/reset/sent", "/no/such/page"]


def banner_of(page: str) -> str | None:
    start = page.find('<section class="banner')
    if start == -1:
        return None
    return page[start : page.index("</section>", start)]


def get_page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    ("persona", "section"),
    # A failed payment is mended in billing; a moderator's freeze is appealed under the
    # account's status, as an unconfirmed address is confirmed there.
    [("bob", "billing"), ("frank", "status"), ("erin", "billing"), ("dave", "status")],
)
def test_it_shows_the_account_frozen_banner_on_every_page(client, request, persona, section, path):
    login(client, request.getfixturevalue(persona))
    banner = banner_of(get_page(client, path))
    assert banner is not None, path
    assert "Account Frozen" in banner and FROZEN_MESSAGE in banner
    assert f'<a class="button" href="/settings#{section}">Open Profile Settings</a>' in banner


def test_it_shows_the_banner_on_the_refusal_page(client, bob, interaction_route):
    login(client, bob)
    assert "Account Frozen" in banner_of(client.submit(interaction_route).get_data(as_text=True))


def site_pages(app, handle: str):
    """Every HTML page the site has that takes no argument but a member's handle."""
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in {"static", "health.healthz"}:
            continue
        if rule.arguments <= {"handle"} and not rule.endpoint.startswith("test_"):
            yield rule.rule.replace("<handle>", handle)


def test_it_shows_the_banner_on_every_page_the_site_has(app, client, bob, alice):
    login(client, bob)
    seen = 0
    for path in site_pages(app, alice.handle):
        response = client.get(path)
        if response.mimetype != "text/html" or response.status_code in (301, 302, 303):
            continue
        seen += 1
        assert "Account Frozen" in (banner_of(response.get_data(as_text=True)) or ""), path
    assert seen >= 4


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_it_shows_no_banner_to_members_who_can_interact(client, request, persona, path):
    login(client, request.getfixturevalue(persona))
    assert banner_of(get_page(client, path)) is None


@pytest.mark.parametrize("path", ["/login", "/signup", "/no/such/page"])
def test_it_shows_no_banner_to_visitors(client, path):
    assert banner_of(get_page(client, path)) is None


def test_it_tells_an_unconfirmed_account_to_confirm_its_email(client, dave):
    login(client, dave)
    banner = banner_of(get_page(client, "/settings"))
    assert "Account Frozen" in banner and FROZEN_MESSAGE in banner
    assert "Confirm your email address" in banner
    assert "Open Profile Settings" in banner


def test_it_tells_a_never_subscribed_account_to_subscribe(client, erin):
    login(client, erin)
    banner = banner_of(get_page(client, "/no/such/page"))
    assert "Account Frozen" in banner and FROZEN_MESSAGE in banner
    assert "Subscribe in your settings" in banner and "Membership is $1.00/month." in banner
    assert "Open Profile Settings" in banner


def test_it_warns_a_member_in_the_grace_period_with_the_freeze_date(client):
    user = make_user(handle="gina", subscription="past_due", past_due_days=1)
    login(client, user)
    banner = banner_of(get_page(client, "/settings"))
    grace_ends = membership.standing(user).grace_ends_at
    assert "Payment problem" in banner
    assert grace_ends.strftime("%d %B %Y at %H:%M UTC") in banner
    assert "Account Frozen" not in banner


def test_it_shows_a_moderators_reason_in_the_banner(client, frank):
    login(client, frank)
    assert "Spam in comments" in banner_of(get_page(client, "/settings"))


def test_it_tells_a_member_whose_first_payment_is_pending_to_wait_not_to_subscribe(client):
    """Stripe's "incomplete": Checkout was paid with a bank debit that settles later.
    "Subscribe in your settings" would invite a second payment, and settings offers none."""
    waiting = make_user(handle="wendy", subscription="incomplete")
    login(client, waiting)

    page = get_page(client, "/settings")

    banner = banner_of(page)
    assert "Account Frozen" in banner and FROZEN_MESSAGE in banner
    assert "Your first payment is still being processed" in banner
    assert "Subscribe" not in banner
    assert "no need to subscribe again" in page

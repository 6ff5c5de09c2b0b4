"""A form's address opened with GET (a reload after a refused form, a bookmark, a shared
link) leads to the page the form is on, not to a "Wrong kind of request" page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.conftest import login

# Not forms: Stripe posts events to the webhook, and nobody opens it in a browser; the
# header's Log out button is on every page, none of which is more its page than another
# (and a GET must never log out: a link or an image on any site could send one).
NOT_FORMS = {"billing_webhooks.webhook", "auth.logout"}


def post_only_addresses(app) -> list[tuple[str, str]]:
    """Every address only POST reaches, with sample values for its parts, by endpoint.

    Left out: those a page's own address takes in (``/articles/7/comments`` is article 7
    with "comments" where its title's words go), which GET opens anyway.
    """
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if rule.methods - {"POST", "OPTIONS"} or rule.endpoint in NOT_FORMS:
            continue
        values = {name: sample(rule._converters[name]) for name in rule.arguments}
        address = adapter.build(rule.endpoint, values, method="POST")
        if not opens_with_get(adapter, address):
            found.append((rule.endpoint, address))
    return sorted(found)


def opens_with_get(adapter, address: str) -> bool:
    try:
        adapter.match(address, method="GET")
    except MethodNotAllowed:
        return False
    return True


def sample(converter) -> object:
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "sample"


def test_every_form_address_opened_with_get_leads_to_a_page(app, client, carol):
    login(client, carol)
    addresses = post_only_addresses(app)
    assert {"settings.password", "admin.freeze_user", "curation.import_opml"} <= {
        endpoint for endpoint, _ in addresses
    }
    get_pages = app.url_map.bind("localhost")
    for endpoint, address in addresses:
        response = client.get(address)
        assert response.status_code == 303, (endpoint, address, response.status_code)
        page = urlsplit(response.location).path
        get_pages.match(page, method="GET")  # raises if GET could not open it


def test_reloading_a_refused_password_change_opens_the_password_form(client, alice):
    login(client, alice)
    refused = client.submit(
        "/settings/password", {"current_password": "not my password", "new_password": "x" * 12}
    )
    assert refused.status_code == 400

    reloaded = client.get("/settings/password", follow_redirects=True)

    assert reloaded.status_code == 200
    assert reloaded.request.path == "/settings"
    assert 'id="password"' in reloaded.get_data(as_text=True)
    assert client.get("/settings/password").location.endswith("/settings#password")


@pytest.mark.parametrize(
    ("address", "page"),
    [
        ("/comments/5/like", "/comments/5"),
        ("/admin/users/3/freeze", "/admin/users/3"),
        ("/admin/feeds/import", "/admin/feeds/"),
    ],
)
def test_the_address_leads_to_the_form_it_came_from(client, carol, address, page):
    login(client, carol)
    assert client.get(address).location == page


def test_a_script_asking_for_json_still_hears_the_method_is_wrong(client, alice):
    login(client, alice)
    response = client.get("/settings/password", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.get_json()["error"] == "Wrong kind of request"


def test_a_get_of_the_stripe_webhook_is_still_refused(client):
    assert client.get("/billing/webhook").status_code == 405

"""The local test checkout: the whole membership flow with no Stripe account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.billing.conftest import reload
from tests.conftest import login, make_user, read_outbox


def settings_section(app, client, user: User) -> str:
    """Return the billing section of ``user``'s /settings page."""
    login(client, user)
    page = client.get("/settings").get_data(as_text=True)
    start = page.index('id="billing"')
    return page[start : page.index("</section>", start)]


def test_it_sends_subscribe_to_the_labelled_test_checkout(client, erin):
    login(client, erin)

    response = client.submit("/billing/checkout", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "Test checkout — no real payment" in page
    assert "Pay $1.00" in page and "Decline card" in page


def test_it_grants_membership_and_the_badge_when_the_test_card_pays(client, erin, outbox):
    login(client, erin)

    response = client.submit("/billing/local/checkout", {"outcome": "pay"})

    assert response.status_code == 303
    st = membership.standing(reload(erin))
    assert st.can_interact and st.badge
    assert sum("Subject: Welcome" in mail for mail in read_outbox(outbox)) == 1


def test_it_freezes_with_payment_failed_when_the_test_card_declines(client, erin, outbox):
    login(client, erin)

    client.submit("/billing/local/checkout", {"outcome": "decline"})

    st = membership.standing(reload(erin))
    assert st.frozen and st.reason is membership.Reason.PAYMENT_FAILED
    assert "declined" in reload(erin).last_payment_error
    # No "update your payment method" mail: there is no membership to pay for, the page
    # has said to subscribe again, and Stripe's Checkout starts no subscription either.
    assert not [mail for mail in read_outbox(outbox) if "payment failed" in mail]


def test_it_tells_a_declined_first_payment_to_subscribe_again_not_to_update_a_card(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "decline"})

    page = client.get("/settings").get_data(as_text=True)

    assert "Your first payment did not go through" in page and "Subscribe again" in page
    assert "Your last payment did not go through" not in page


def test_it_lets_a_frozen_member_pay_on_the_test_checkout(client, bob):
    login(client, bob)

    client.submit("/billing/local/checkout", {"outcome": "pay"})

    assert membership.standing(reload(bob)).can_interact


def test_it_cancels_at_period_end_and_resumes_on_the_local_manage_page(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    client.submit("/billing/local/manage", {"action": "cancel"})
    cancelled = membership.standing(reload(erin))
    assert cancelled.can_interact and cancelled.access_ends_at is not None

    client.submit("/billing/local/manage", {"action": "resume"})
    assert membership.standing(reload(erin)).access_ends_at is None


def test_it_ends_a_local_membership_and_says_so_by_mail(client, erin, outbox):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    client.submit("/billing/local/manage", {"action": "end"})

    assert membership.standing(reload(erin)).reason is membership.Reason.SUBSCRIPTION_ENDED
    assert any("Subject: Your membership has ended" in mail for mail in read_outbox(outbox))


def test_it_warns_in_grace_after_a_simulated_failed_renewal(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    client.submit("/billing/local/manage", {"action": "fail_renewal"})

    st = membership.standing(reload(erin))
    assert st.can_interact and st.in_grace
    # The page that simulated it says when the account freezes, as settings does.
    page = client.get("/billing/local/manage").get_data(as_text=True)
    assert f"<dt>Freezes on</dt><dd>{st.grace_ends_at:%d %B %Y at %H:%M UTC}" in page


def test_it_refuses_an_unknown_local_action(client, alice):
    login(client, alice)

    assert client.submit("/billing/local/manage", {"action": "grant_forever"}).status_code == 400
    assert client.submit("/billing/local/checkout", {"outcome": "free"}).status_code == 400


def test_it_refuses_billing_writes_from_visitors(client):
    assert client.submit("/billing/local/checkout", {"outcome": "pay"}).status_code == 401
    assert client.submit("/billing/checkout").status_code == 401


def test_it_has_no_success_page_without_stripe(client, erin):
    login(client, erin)

    assert client.get("/billing/success?session_id=cs_test_1").status_code == 404


def test_it_shows_plan_price_status_and_subscribe_in_settings(app, client, erin):
    html = settings_section(app, client, erin)

    assert "Monthly membership — $1.00/month" in html
    assert "Not subscribed" in html
    assert "Subscribe for $1.00/month" in html


def test_it_shows_renewal_and_manage_for_a_member(app, client, alice):
    html = settings_section(app, client, alice)

    assert "Active" in html and "Renews on" in html
    assert "Manage subscription" in html


def test_it_shows_the_end_date_after_a_cancellation(app, client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "cancel"})

    html = settings_section(app, client, erin)

    assert "cancelled, ends at the end of the paid period" in html and "Ends on" in html


def test_it_shows_the_last_payment_problem(app, client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "decline"})

    html = settings_section(app, client, erin)

    assert "Last payment problem" in html and "declined" in html
    assert "First payment failed" in html


def test_it_tells_a_frozen_by_moderator_member_that_paying_will_not_help(app, client, frank):
    html = settings_section(app, client, frank)

    assert "paying does not lift a moderator&#39;s freeze" in html


def test_it_shows_the_price_in_the_banner_global(app):
    assert app.jinja_env.from_string("{{ membership_price }}").render() == "$1.00/month"


@pytest.mark.parametrize("frozen", [False, True])
def test_it_refuses_the_test_checkout_until_the_email_is_confirmed(client, dave, frozen):
    if frozen:
        # As a frozen member's deleted account carries its freeze to whoever signs up
        # with the address: the freeze must not hide that the address is unproven.
        dave.frozen_at, dave.frozen_reason = utcnow(), "Spam links"
        db.session.commit()
    login(client, dave)

    response = client.submit("/billing/local/checkout", {"outcome": "pay"})

    assert response.status_code == 403
    assert "Confirm your email address first" in response.get_data(as_text=True)
    assert reload(dave).subscription_status is None


def test_it_sends_an_unconfirmed_account_from_subscribe_to_no_checkout(client, dave):
    login(client, dave)

    response = client.submit("/billing/checkout", follow_redirects=True)

    assert response.status_code == 403
    assert "Pay $1.00" not in response.get_data(as_text=True)


def test_it_asks_an_unconfirmed_account_to_confirm_instead_of_subscribing(app, client, dave):
    html = settings_section(app, client, dave)

    assert "Confirm your email first" in html
    assert "Subscribe for" not in html


def test_it_refuses_to_revive_an_ended_subscription_on_the_local_manage_page(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "end"})

    response = client.submit("/billing/local/manage", {"action": "fail_renewal"})

    assert response.status_code == 409
    assert "no running test subscription" in response.get_data(as_text=True)
    st = membership.standing(reload(erin))
    assert st.reason is membership.Reason.SUBSCRIPTION_ENDED and not st.can_interact


def test_it_refuses_to_change_a_declined_first_payment_on_the_local_manage_page(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "decline"})

    response = client.submit("/billing/local/manage", {"action": "resume"})

    assert response.status_code == 409
    assert reload(erin).subscription_status == "incomplete_expired"


def manage_page(client) -> str:
    return client.get("/billing/local/manage").get_data(as_text=True)


def test_it_offers_cancel_renewal_failure_and_end_to_a_running_local_member(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    html = manage_page(client)

    assert "Cancel at the end of the period" in html and "Resume subscription" not in html
    assert "Simulate a failed renewal" in html and "End membership now" in html
    # Ending or cancelling is never the page's main button, and asks first.
    for value in ("cancel", "end"):
        button = re.search(rf'<button [^>]*value="{value}"[^>]*>', html).group(0)
        assert 'class="secondary"' in button and "data-confirm=" in button, button
    assert "Subscribe again" not in html


def test_it_offers_resume_after_a_local_cancellation(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "cancel"})

    html = manage_page(client)

    assert "Resume subscription" in html and "Cancel at the end of the period" not in html


def test_it_offers_only_subscribe_again_once_the_local_membership_ended(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "end"})

    html = manage_page(client)

    assert "Subscribe again" in html
    assert "Simulate a failed renewal" not in html and "End membership now" not in html


def test_it_shows_an_ended_membership_as_ended_today_not_at_the_old_renewal(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    client.submit("/billing/local/manage", {"action": "end"})

    page = client.get("/billing/local/manage").get_data(as_text=True)
    assert f"Ended on</dt><dd>{utcnow():%d %B %Y}" in page


def test_it_confirms_what_the_test_checkout_and_manage_page_did(client, erin):
    login(client, erin)
    paid = client.submit("/billing/local/checkout", {"outcome": "pay"}, follow_redirects=True)
    assert "Payment received (test checkout)" in paid.get_data(as_text=True)

    failed = client.submit(
        "/billing/local/manage", {"action": "fail_renewal"}, follow_redirects=True
    )
    assert "The renewal failed (simulated)" in failed.get_data(as_text=True)


def test_it_lets_a_member_behind_on_payment_pay_the_overdue_renewal(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "fail_renewal"})
    assert "Pay the overdue renewal" in client.get("/billing/local/manage").get_data(as_text=True)

    client.submit("/billing/local/manage", {"action": "pay_overdue"})

    user = reload(erin)
    assert (user.subscription_status, user.last_payment_error) == ("active", None)
    assert not membership.standing(user).in_grace


def test_it_lets_the_demo_frozen_member_pay_and_get_back_in(app, runner, client):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    frozen = db.session.scalar(sa.select(User).where(User.email == "frozen@example.com"))
    assert membership.standing(frozen).reason is membership.Reason.PAYMENT_FAILED
    login(client, frozen)

    client.submit("/billing/local/manage", {"action": "pay_overdue"})

    assert membership.standing(reload(frozen)).can_interact


def test_paying_an_overdue_renewal_is_thanked_for_not_welcomed_as_new(runner, client, outbox):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    frozen = db.session.scalar(sa.select(User).where(User.email == "frozen@example.com"))
    login(client, frozen)

    client.submit("/billing/local/manage", {"action": "pay_overdue"})

    subjects = [line for mail in read_outbox(outbox) for line in mail.splitlines()]
    subjects = [line for line in subjects if line.startswith("Subject:")]
    assert subjects == ["Subject: Payment received: your membership is active again"]


def test_a_stale_decline_tab_leaves_a_running_membership_and_sends_no_failure_mail(
    client, erin, outbox
):
    # Pay in one tab, then press "Decline card" on the test checkout still open in another.
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    response = client.submit(
        "/billing/local/checkout", {"outcome": "decline"}, follow_redirects=True
    )

    page = response.get_data(as_text=True)
    assert membership.standing(reload(erin)).can_interact
    assert "already running" in page and "card was declined" not in page
    assert not [m for m in read_outbox(outbox) if "payment failed" in m]


# --- Found by the new-member walk-through of 2026-11-28 -----------------------------------


def test_a_cancelled_membership_past_its_end_reads_ended_before_stripe_says_so(app, client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "cancel"})
    user = reload(erin)
    user.subscription_period_end = utcnow() - timedelta(days=1)  # no webhook has landed
    db.session.commit()

    html = settings_section(app, client, erin)

    assert "Ended" in html and "Ended on" in html
    assert "Active" not in html and "Ends on" not in html


def test_a_test_checkout_left_open_cannot_undo_a_cancellation(client, erin):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "cancel"})

    response = client.submit("/billing/local/checkout", {"outcome": "pay"}, follow_redirects=True)

    assert "already running (test checkout): nothing changed" in response.text
    assert reload(erin).subscription_cancel_at_period_end is True


def subjects_in(outbox) -> list[str]:
    mails = read_outbox(outbox)
    return [line for mail in mails for line in mail.splitlines() if line.startswith("Subject:")]


def test_a_former_member_who_subscribes_again_is_welcomed_back_not_as_new(client, erin, outbox):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "end"})

    client.submit("/billing/local/checkout", {"outcome": "pay"})

    assert subjects_in(outbox) == [
        "Subject: Welcome to Billionaire Club",
        "Subject: Your membership has ended",
        "Subject: Welcome back to Billionaire Club",
    ]
    assert membership.standing(reload(erin)).can_interact


def test_a_former_member_whose_first_card_back_is_declined_is_still_welcomed_back(
    client, erin, outbox
):
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    client.submit("/billing/local/manage", {"action": "end"})
    client.submit("/billing/local/checkout", {"outcome": "decline"})  # waits "incomplete"

    client.submit("/billing/local/checkout", {"outcome": "pay"})

    assert subjects_in(outbox)[-1] == "Subject: Welcome back to Billionaire Club"
    assert membership.standing(reload(erin)).can_interact


def failed_payment_mail(outbox) -> str:
    [mail] = [m for m in read_outbox(outbox) if "Subject: Your membership payment failed" in m]
    return mail


def test_an_admin_whose_renewal_fails_is_warned_of_the_badge_not_a_freeze(client, carol, outbox):
    """Admins are never read-only: what a failed payment costs them is the badge."""
    login(client, carol)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    client.submit("/billing/local/manage", {"action": "fail_renewal"})

    st = membership.standing(reload(carol))
    warning = f"Your verified badge will be removed on {st.grace_ends_at:%d %B %Y at %H:%M} UTC"
    home = client.get("/").get_data(as_text=True)
    assert warning in home and "will be frozen" not in home
    billing = settings_section(None, client, carol)
    assert "<dt>Badge removed on</dt>" in billing and "Freezes on" not in billing
    mail = failed_payment_mail(outbox)
    assert warning in mail and "frozen" not in mail and "read-only" not in mail


def test_a_complimentary_admin_whose_renewal_fails_loses_nothing_and_is_not_warned(client):
    admin = make_user(admin=True, complimentary=True, subscription="past_due")
    login(client, admin)

    assert membership.standing(admin).badge
    assert "Payment problem" not in client.get("/").get_data(as_text=True)


def test_a_complimentary_member_whose_renewal_fails_is_not_told_they_are_read_only(client, outbox):
    member = make_user(complimentary=True)
    login(client, member)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    client.submit("/billing/local/manage", {"action": "fail_renewal"})

    assert membership.standing(reload(member)).can_interact
    mail = failed_payment_mail(outbox)
    assert "Your complimentary membership keeps your account" in mail
    assert "read-only" not in mail and "frozen" not in mail


def test_a_member_a_moderator_froze_is_told_when_their_membership_ends(client, erin, carol, outbox):
    """The freeze may be lifted: the account is then read-only for the ended membership."""
    login(client, erin)
    client.submit("/billing/local/checkout", {"outcome": "pay"})
    membership.freeze(reload(erin), by=carol, reason="Spam in comments")
    db.session.commit()

    client.submit("/billing/local/manage", {"action": "end"})

    [mail] = [m for m in read_outbox(outbox) if "Subject: Your membership has ended" in m]
    assert "subscribing again does not lift the freeze. You can appeal in settings." in mail


@pytest.mark.parametrize(
    ("persona", "said"),
    [
        ("erin", "The account becomes read-only at once"),
        ("carol", "Your verified badge goes at once; your admin access carries on."),
        ("complimentary", "Your complimentary membership carries on, badge included."),
    ],
)
def test_ending_a_membership_asks_with_what_each_account_really_loses(
    client, request, persona, said
):
    user = (
        make_user(complimentary=True)
        if persona == "complimentary"
        else request.getfixturevalue(persona)
    )
    login(client, user)
    client.submit("/billing/local/checkout", {"outcome": "pay"})

    page = client.get("/billing/local/manage").get_data(as_text=True)

    assert f'value="end" class="secondary" data-confirm="End your membership now? {said}' in page

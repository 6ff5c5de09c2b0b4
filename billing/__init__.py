"""Billing: Stripe checkout, portal, webhooks and the local test checkout."""

import logging

from flask import Flask

log = logging.getLogger(__name__)

# A production site whose payments are not real: anyone becomes a member for nothing.
LOCAL_CHECKOUT_NOTICE = (
    "Billing runs the local test checkout (BILLING_BACKEND=local): no payment is taken, "
    "and anyone who subscribes becomes a member for free."
)
TEST_KEY_NOTICE = (
    "Stripe is in test mode (STRIPE_SECRET_KEY is a test key): no payment is real, and "
    "anyone paying with a test card becomes a member."
)

MISSING_SETTING_EFFECTS = {
    "STRIPE_WEBHOOK_SECRET": "every webhook will be refused, so payments never reach accounts",
    "STRIPE_PRICE_ID": "Subscribe will fail; run `flask --app club billing setup` to get one",
}


def init_app(app: Flask) -> None:
    """Register this package's blueprints, commands and template globals on ``app``."""
    # webhooks imports billing.models, which puts stripe_events in the schema.
    from billing import cli, hooks, plan, summary, views, webhooks

    app.register_blueprint(views.bp)
    app.register_blueprint(webhooks.bp)
    app.cli.add_command(cli.billing_cli)
    app.jinja_env.globals["membership_price"] = plan.MembershipPrice()
    app.jinja_env.globals["billing_summary"] = summary.billing_summary
    # The admin's member page describes another account's membership in the same words.
    app.jinja_env.globals["billing_summary_of"] = summary.summarize
    hooks.connect()
    warn_about_missing_settings(app)
    warn_about_free_memberships(app)


def warn_about_missing_settings(app: Flask) -> None:
    """Say at start-up which Stripe setting is missing and what that will break."""
    if app.config.get("BILLING_BACKEND") != "stripe" or app.config.get("TESTING"):
        return
    for name, effect in MISSING_SETTING_EFFECTS.items():
        if not app.config.get(name):
            log.error("%s is not set: %s", name, effect)


def warn_about_free_memberships(app: Flask) -> None:
    """Tell admins, on every admin page and in the log, that a production site takes no
    real payments: a staging setting left in place must not go unnoticed."""
    from billing import gateway
    from club.web import add_admin_notice

    if not app.config.get("PRODUCTION"):
        return
    if app.config.get("BILLING_BACKEND") == "local":
        notice = LOCAL_CHECKOUT_NOTICE
    elif not gateway.is_live_key(app.config.get("STRIPE_SECRET_KEY")):
        notice = TEST_KEY_NOTICE
    else:
        return
    log.warning(notice)
    add_admin_notice(app, notice)

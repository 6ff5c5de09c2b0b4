"""Billing: Stripe checkout, portal, webhooks and the local test checkout."""

import logging

from flask import Flask

log = logging.getLogger(__name__)

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
    hooks.connect()
    warn_about_missing_settings(app)


def warn_about_missing_settings(app: Flask) -> None:
    """Say at start-up which Stripe setting is missing and what that will break."""
    if app.config.get("BILLING_BACKEND") != "stripe" or app.config.get("TESTING"):
        return
    for name, effect in MISSING_SETTING_EFFECTS.items():
        if not app.config.get(name):
            log.error("%s is not set: %s", name, effect)

"""Billing: Stripe checkout, portal, webhooks and the local test checkout."""

from flask import Flask


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

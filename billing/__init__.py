"""Billing: Stripe checkout, portal, webhooks and the local test checkout."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints and commands on ``app``."""

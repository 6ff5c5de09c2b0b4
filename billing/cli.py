"""``flask --app club billing setup`` and ``flask --app club billing sync``."""

from __future__ import annotations

import click

from billing import gateway, plan, sync
from club.cli import SiteGroup

billing_cli = SiteGroup("billing", help="Stripe set-up and reconciliation.")


@billing_cli.command("setup")
def setup_command() -> None:
    """Create (or find) the membership product and its monthly price; print its id."""
    if plan.is_local():
        raise click.ClickException("Set STRIPE_SECRET_KEY first: setup creates the Stripe price.")
    try:
        price, created = plan.ensure_price()
    except gateway.BillingError as error:
        # The error's own words are written for members ("Nothing was charged"); the
        # operator needs Stripe's.
        cause = error.__cause__ or error
        raise click.ClickException(
            f"Stripe did not create or find the price: {type(cause).__name__}: {cause}"
        ) from None
    verb = "Created" if created else "Found"
    click.echo(f"{verb} the membership price {plan.format_price(price)} ({plan.LOOKUP_KEY}).")
    click.echo(f"STRIPE_PRICE_ID={price['id']}")


@billing_cli.command("sync")
@click.option("--email", help="Only reconcile this account.")
def sync_command(email: str | None) -> None:
    """Compare accounts with Stripe's subscriptions and repair drift."""
    if plan.is_local():
        raise click.ClickException("No Stripe key configured: nothing to reconcile.")
    report = sync.reconcile(email)
    if email and not (report.checked or report.unchecked):
        raise click.ClickException(f"No account with the email {email!r} has a Stripe customer.")
    for line in report.changes + report.unchecked:
        click.echo(line)
    if report.unchecked:
        raise click.ClickException(
            f"{len(report.unchecked)} account(s) could not be checked against Stripe; "
            f"{len(report.changes)} of the {report.checked} checked changed. Run it again later."
        )
    click.echo(
        f"{len(report.changes)} of {report.checked} account(s) changed."
        if report.changes
        else f"Everything matches Stripe ({report.checked} account(s) checked)."
    )

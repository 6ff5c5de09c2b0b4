"""Outgoing mail: SMTP when configured, otherwise the log and ``instance/outbox/*.eml``.

The local fallback lets sign-up confirmation and password reset work end to end with
nothing else running; tests read the links back out of the outbox.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from club.clock import utcnow
from club.extensions import db
from club.models import MailStop

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """Return a plain-text message from the site's sender.

    It carries what receiving servers and mail programs expect of automated mail: a Date
    (RFC 5322; spam filters score its absence), ``Auto-Submitted`` (RFC 3834: holiday
    auto-replies stay quiet), a Message-ID in the sender's own domain, and a Reply-To
    naming support when the site has a support address, so a reply reaches a person.
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = deliverable_mailbox(config["MAIL_FROM"])
    message["To"] = deliverable(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender_domain(config["MAIL_FROM"]))
    message["Auto-Submitted"] = "auto-generated"
    if config.get("SUPPORT_EMAIL"):
        message["Reply-To"] = deliverable_mailbox(config["SUPPORT_EMAIL"])
    message.set_content(body)
    return message


def deliverable(address: str) -> str:
    """``address`` with its domain in ASCII (punycode), as every SMTP server accepts it.

    A member may sign up as anna@bücher.example; sent as typed, only a relay that speaks
    SMTPUTF8 would take it. An address whose own part is not ASCII still needs one.
    """
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    # The local part as written (email_validator NFC-normalises it): only the domain changes.
    return f"{address.rpartition('@')[0]}@{checked.ascii_domain}"


def deliverable_mailbox(mailbox: str) -> str:
    """``Name <address>`` (or a bare address) with the address's domain in ASCII.

    Left as typed, a From or Reply-To on an international domain goes out as an encoded
    word inside the address, which no mail program can answer, or not at all.
    """
    name, address = parseaddr(mailbox)
    domain = address.rpartition("@")[2]
    if not domain or domain.isascii():
        return mailbox  # nothing to change: as the operator wrote it
    try:
        return formataddr((name, deliverable(address)))
    except UnicodeEncodeError:
        return mailbox  # a non-ASCII local part: only an SMTPUTF8 relay takes it anyway


def sender_domain(sender: str) -> str:
    """The domain of the ``From`` address (in ASCII), for Message-IDs."""
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    return deliverable(f"x@{domain}").rpartition("@")[2] if domain else "localhost"


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one message now (jobs call this; views enqueue ``worker.jobs.send_mail``)."""
    message = build_message(to, subject, body)
    config = current_app.config
    if config.get("MAIL_SERVER"):
        deliver_smtp(message)
    else:
        write_to_outbox(message)


def deliver_smtp(message: EmailMessage) -> None:
    """Hand ``message`` to the configured SMTP server."""
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def write_to_outbox(message: EmailMessage) -> Path:
    """Write ``message`` as an .eml file in the outbox folder and log it."""
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"{stamp}-{message['To'].replace('@', '_at_')}.eml"
    path.write_bytes(bytes(message))
    log.info(
        "mail to %s: %s (written to %s)\n%s",
        message["To"],
        message["Subject"],
        path,
        message.get_content(),
    )
    return path


# --- Mail to a deleted account -----------------------------------------------------------

# Longer than RQ keeps a failed mail job (the worker's FAILURE_TTL, 14 days), which an
# admin can requeue until then.
MAIL_STOP_KEPT = timedelta(days=15)


def stop_mail_to(address: str) -> None:
    """Stop the mail queued to ``address``, a deleted account's, before now from being sent."""
    # One statement: the daily prune may delete an old stop for the address meanwhile.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    db.session.execute(
        dialect.insert(MailStop)
        .values(email_digest=_digest(address), created_at=now)
        .on_conflict_do_update(index_elements=["email_digest"], set_={"created_at": now})
    )


def is_stopped(address: str, queued_at: datetime) -> bool:
    """Whether mail queued to ``address`` at ``queued_at`` was for an account deleted since."""
    stopped_at = db.session.scalar(
        sa.select(MailStop.created_at).where(MailStop.email_digest == _digest(address))
    )
    return stopped_at is not None and stopped_at >= queued_at


def prune_mail_stops(now: datetime | None = None) -> int:
    """Forget stops older than ``MAIL_STOP_KEPT``; return how many."""
    old = sa.delete(MailStop).where(MailStop.created_at < (now or utcnow()) - MAIL_STOP_KEPT)
    return db.session.execute(old).rowcount


def _digest(address: str) -> str:
    from club.moderation import email_digest  # moderation mails, so it imports this module

    return email_digest(address.strip().lower())

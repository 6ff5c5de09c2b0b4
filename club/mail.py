"""Outgoing mail: SMTP when configured, otherwise the log and ``instance/outbox/*.eml``.

The local fallback lets sign-up confirmation and password reset work end to end with
nothing else running; tests read the links back out of the outbox.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app

from club.clock import utcnow

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """Return a plain-text message from the site's sender."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="billionaire-club.local")
    message.set_content(body)
    return message


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

"""Logs with the secret part of emailed links left out.

A confirm, reset or email-change link carries a bearer token in its path: written to a
log, anyone who reads the logs could use a link opened but not yet acted on. Every log
record leaves it out once ``install_log_redaction`` has run (``create_app`` runs it):
Flask's "Exception on /reset/..." line, RQ's line naming a mail job and its text.
gunicorn's access log does not use records; ``club.access_log`` covers it.
"""

from __future__ import annotations

import logging
import re

# The token routes (club.auth and club.settings): /confirm/<t>, /reset/<t>, /settings/email/<t>,
# as a path or URL-encoded inside another (a log-in page's ?next=%2Fsettings%2Femail%2F<t>).
SLASH = r"(?:/|%2F)"
TOKEN_IN_PATH = re.compile(
    rf"({SLASH}(?:confirm|reset|settings{SLASH}email){SLASH})[^/?#&\s%]+", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with the token of any emailed link replaced by "[token]"."""
    return TOKEN_IN_PATH.sub(r"\1[token]", text)


# The local mail fallback logs each message whole, links included, on purpose: with no
# mail server, a developer follows the link from there.
UNREDACTED_LOGGERS = frozenset({"club.mail"})


_TRACEBACK = logging.Formatter()


def _redact_traceback(record: logging.LogRecord) -> None:
    """Format the record's traceback now, without tokens: an exception's message may
    quote the path or URL it failed on, and handlers print the text cached here."""
    text = _TRACEBACK.formatException(record.exc_info)
    redacted = redact(text)
    if redacted != text:
        record.exc_text = redacted


def install_log_redaction() -> None:
    """Make every log record created from now on leave out emailed links' tokens."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_tokens", False):
        return

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name in UNREDACTED_LOGGERS:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format shows its own error when emitted
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            _redact_traceback(record)
        return record

    make_record.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)

"""gunicorn's access log, with the secret part of emailed links left out.

A confirm, reset or email-change link carries a bearer token in its path: written to the
access log, anyone who reads the logs could use a link opened but not yet acted on.
``platform/gunicorn.conf.py`` names this class as gunicorn's ``logger_class``.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

# The token routes (club.auth and club.settings): /confirm/<t>, /reset/<t>, /settings/email/<t>,
# as a path or URL-encoded inside another (a log-in page's ?next=%2Fsettings%2Femail%2F<t>).
SLASH = r"(?:/|%2F)"
TOKEN_IN_PATH = re.compile(
    rf"({SLASH}(?:confirm|reset|settings{SLASH}email){SLASH})[^/?#&\s%]+", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with the token of any emailed link replaced by "[token]"."""
    return TOKEN_IN_PATH.sub(r"\1[token]", text)


class RedactingLogger(Logger):
    """gunicorn's logger; the access log's request line and path never hold a token."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f"):  # the request line, the path, the referrer
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms

"""gunicorn's access log, with the secret part of emailed links left out.

``platform/gunicorn.conf.py`` names ``RedactingLogger`` as gunicorn's ``logger_class``;
``club.log_redaction`` says why and covers every other log.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from club.log_redaction import redact


class RedactingLogger(Logger):
    """gunicorn's logger; the access log's request line and path never hold a token."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f"):  # the request line, the path, the referrer
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms

"""The errors community actions raise; views turn them into a message and a status."""

from __future__ import annotations


class CommunityError(Exception):
    """A request the member can fix: bad input, a stale form, a missing object."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CommunityError):
    status = 404


class NotAllowed(CommunityError):
    status = 403


class Conflict(CommunityError):
    status = 409

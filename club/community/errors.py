"""The errors community actions raise; views turn them into a message and a status."""

from __future__ import annotations


class CommunityError(Exception):
    """A request the member can fix: bad input, a stale form, a missing object.

    ``final`` says sending the same form again cannot work (the comment is gone, the edit
    window closed): the problem page then offers the text to copy, not "Try again".
    ``field`` names the form field at fault, for a form to show the message under it.
    """

    status = 400
    final = False

    def __init__(
        self, message: str, *, final: bool | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if final is not None:
            self.final = final


class NotFound(CommunityError):
    status = 404
    final = True


class NotAllowed(CommunityError):
    status = 403
    final = True


class Conflict(CommunityError):
    status = 409
    final = True


class EditedMeanwhile(Conflict):
    """An edit from a form drawn before the comment's latest save (``club.edit_conflicts``):
    ``saved`` is what the form would show now. Saving again, from a form that shows it,
    can work."""

    final = False

    def __init__(self, message: str, *, saved: dict[str, str]) -> None:
        super().__init__(message)
        self.saved = saved

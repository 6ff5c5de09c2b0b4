"""Forms: each lists exactly the fields a request may set (nothing else is read)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, NumberRange, Optional

from club.community.models import REPORT_REASONS
from club.web import MAX_ID

# A number that can be an id; anything else fails validation, never reaches the database.
AN_ID = NumberRange(min=1, max=MAX_ID, message="That is not a comment on this site.")


class CommentForm(FlaskForm):
    # Length is checked by the domain function so the message can name the count.
    body = TextAreaField("Comment")
    parent_id = IntegerField("Reply to", validators=[Optional(), AN_ID])
    client_token = HiddenField()
    next = HiddenField()


class EditCommentForm(FlaskForm):
    body = TextAreaField("Comment")
    # What the form showed when it was drawn (club.edit_conflicts): an edit saved since,
    # from another tab, is noticed instead of silently undone.
    revision = HiddenField()
    next = HiddenField()


class StateForm(FlaskForm):
    """A like, save or follow button: says which state it wants, never "toggle"."""

    state = StringField("Button", validators=[AnyOf(["on", "off"], message="unexpected value.")])
    next = HiddenField()


class ReportForm(FlaskForm):
    reason = SelectField(
        "Why are you reporting this comment?",
        choices=[SelectChoice("", "Choose a reason")]
        + [SelectChoice(value, label) for value, label in REPORT_REASONS.items()],
        validate_choice=False,  # the domain function gives the clear message
    )
    # Length is checked by the domain function, which names the limit.
    details = TextAreaField("Anything moderators should know (optional)")
    next = HiddenField()


class MarkReadForm(FlaskForm):
    up_to = IntegerField(validators=[Optional(), AN_ID])

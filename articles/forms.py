"""Admin forms for feeds, articles, topics and keyword rules (Flask-WTF: validation and CSRF)."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from articles.models import DEFAULT_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from articles.topics import is_topic_name
from club.text import has_visible_text


def topic_names(form: FlaskForm, field: StringField) -> None:
    """Refuse a topic name with no letter or digit: it would have no address of its own."""
    for name in (field.data or "").split(","):
        if name.strip() and not is_topic_name(name):
            raise ValidationError(f"{name.strip()!r} is not a topic name: use letters or digits.")


class FeedForm(FlaskForm):
    url = StringField(
        "Feed or site address",
        validators=[
            DataRequired(),
            Length(max=2048),
            URL(require_tld=False, message="Enter a web address starting with http:// or https://"),
        ],
    )
    topic = StringField("Topic", validators=[Optional(), Length(max=80), topic_names])
    auto_publish = BooleanField(
        "Publish new articles straight away (otherwise they wait for review)"
    )
    full_content = BooleanField("Show the full article (otherwise only the excerpt)", default=True)
    interval_minutes = IntegerField(
        "Check every (minutes)",
        default=DEFAULT_INTERVAL_MINUTES,
        validators=[NumberRange(min=MIN_INTERVAL_MINUTES, max=24 * 60)],
    )
    # The feed address the admin saw previewed: Save adds only that feed.
    previewed = HiddenField()


class FeedEditForm(FlaskForm):
    title = StringField("Name", validators=[Optional(), Length(max=300)])
    topic = StringField("Topic", validators=[Optional(), Length(max=80), topic_names])
    auto_publish = BooleanField("Publish new articles straight away")
    full_content = BooleanField("Show the full article")
    interval_minutes = IntegerField(
        "Check every (minutes)", validators=[NumberRange(min=MIN_INTERVAL_MINUTES, max=24 * 60)]
    )
    # The settings as the form showed them, to notice another admin's save meanwhile.
    revision = HiddenField()


class DeleteFeedForm(FlaskForm):
    articles = RadioField(
        "Its articles",
        choices=[
            SelectChoice("keep", "Keep them, marked as from a removed source"),
            SelectChoice("remove", "Remove them from the site"),
        ],
        validators=[DataRequired(message="Choose what happens to the articles.")],
    )
    confirm = BooleanField(
        "Yes, delete this feed", validators=[DataRequired(message="Tick the box to confirm.")]
    )


class OPMLForm(FlaskForm):
    file = FileField("OPML file", validators=[FileRequired()])
    # Off by default: a file from elsewhere must not switch off review by itself.
    keep_settings = BooleanField(
        "Apply the settings saved in the file (auto-publish, full text, interval, paused): "
        "only for an export of this site"
    )


def shows_text(form: FlaskForm, field: StringField) -> None:
    """Refuse a value nothing of which shows: control characters, zero-width spaces."""
    if field.data and not has_visible_text(field.data):
        raise ValidationError(f"Enter a {field.label.text.lower()} with letters or numbers.")


class ArticleEditForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=500), shows_text])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=5000)])
    reviewed_by = StringField("Medically reviewed by", validators=[Optional(), Length(max=300)])
    topics = StringField(
        "Topics (comma-separated)", validators=[Optional(), Length(max=500), topic_names]
    )
    # What the form showed when it was drawn (curation.revision_of): a save made since is
    # noticed instead of silently undone.
    revision = HiddenField()


class TopicForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80), topic_names])
    # The name the form showed, to notice another admin's rename meanwhile.
    drawn = HiddenField()


class MergeTopicForm(FlaskForm):
    into = SelectField("Merge it into", coerce=int, choices=[])


class RuleForm(FlaskForm):
    kind = SelectField(
        "Rule",
        choices=[
            SelectChoice("block", "Block entries mentioning"),
            SelectChoice("require", "Only keep entries mentioning"),
        ],
    )
    phrase = StringField("Phrase", validators=[DataRequired(), Length(max=200)])
    feed_id = SelectField("Applies to", coerce=int, choices=[])


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form shown again with errors (nothing saved), else 200."""
    return 400 if request.method == "POST" and any(field.errors for field in form) else 200

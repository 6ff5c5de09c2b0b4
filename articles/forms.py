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
from wtforms.validators import (
    DataRequired,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from articles import curation
from articles.models import DEFAULT_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from articles.topics import (
    ARTICLE_TOPICS_MAX,
    TOPIC_NAME_MAX,
    is_topic_name,
    topics_named,
    uncut_topic_name,
)
from articles.urls import MAX_URL
from club.forms import FitsIn
from club.text import has_visible_text


def topic_names(form: FlaskForm, field: StringField) -> None:
    """Refuse a topic name with no letter or digit (it would have no address of its own)
    or too long to keep whole (two names alike in their first 80 letters would be one)."""
    for name in (field.data or "").split(","):
        if name.strip() and not is_topic_name(name):
            raise ValidationError(f"“{name.strip()}” is not a topic name: use letters or digits.")
        if len(uncut_topic_name(name)) > TOPIC_NAME_MAX:
            raise ValidationError(
                f"“{name.strip()[:30]}…” is too long for a topic name: "
                f"use at most {TOPIC_NAME_MAX} characters."
            )


def few_topics(form: FlaskForm, field: StringField) -> None:
    """Refuse more topics than an article may have (each new one is a public page). An
    article given more before the limit keeps them, but takes no other."""
    named = topics_named(field.data or "")
    if len(named) > ARTICLE_TOPICS_MAX and not named <= getattr(form, "kept_topics", set()):
        raise StopValidation(
            f"Give an article at most {ARTICLE_TOPICS_MAX} topics: this list names {len(named)}."
        )


def one_topic(form: FlaskForm, field: StringField) -> None:
    """Refuse a comma where one topic is named: it would be dropped without a word
    ("Back pain, Sleep" made one topic "Back pain Sleep")."""
    if "," in (field.data or ""):
        raise StopValidation("Name one topic only: a topic name cannot hold a comma.")


def whole_minutes(form: FlaskForm, field: IntegerField) -> None:
    """Say once, in words, that the interval must be a number (WTForms says "Not a valid
    integer value." and then that the missing number is out of range too)."""
    if field.process_errors or field.data is None:
        field.errors[:] = []
        raise StopValidation("Enter a number of minutes, such as 30.")


def interval_field(label: str, **kwargs) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            whole_minutes,
            NumberRange(
                min=MIN_INTERVAL_MINUTES,
                max=24 * 60,
                message=f"Check no more often than every {MIN_INTERVAL_MINUTES} minutes, and "
                "at least once a day (1,440 minutes).",
            ),
        ],
        **kwargs,
    )


def shows_text(what: str):
    """Refuse a value nothing of which shows (control characters, zero-width spaces),
    asking for ``what`` ("a title") with letters or numbers."""

    def check(form: FlaskForm, field: StringField) -> None:
        if field.data and not has_visible_text(field.data):
            raise ValidationError(f"Enter {what} with letters or numbers.")

    return check


def web_address(form: FlaskForm, field: StringField) -> None:
    """An http(s) address with a host name, as a feed's must be.

    Not wtforms' ``URL``: it refuses a fully qualified name ("example.com./feed.xml"),
    which OPML import and every fetch accept as the same host.
    """
    typed = (field.data or "").strip()
    try:
        curation.valid_feed_address(typed)
    except ValueError as error:
        if typed.partition(":")[0].lower() not in ("http", "https"):
            raise ValidationError("Enter a web address starting with http:// or https://") from None
        raise ValidationError(f"Enter a valid web address: {error}.") from None


class FeedForm(FlaskForm):
    url = StringField(
        "Feed or site address",
        validators=[
            DataRequired(),
            # safe_url's own limit: a longer address would be refused as no web address.
            FitsIn(max=MAX_URL),
            web_address,
        ],
    )
    topic = StringField("Topic", validators=[Optional(), one_topic, topic_names])
    auto_publish = BooleanField(
        "Publish new articles straight away (otherwise they wait for review)"
    )
    full_content = BooleanField("Show the full article (otherwise only the excerpt)", default=True)
    interval_minutes = interval_field("Check every (minutes)", default=DEFAULT_INTERVAL_MINUTES)
    # The feed address the admin saw previewed: Save adds only that feed.
    previewed = HiddenField()


class FeedEditForm(FlaskForm):
    title = StringField("Name", validators=[Optional(), FitsIn(max=300), shows_text("a name")])
    topic = StringField("Topic", validators=[Optional(), one_topic, topic_names])
    auto_publish = BooleanField("Publish new articles straight away")
    full_content = BooleanField("Show the full article")
    interval_minutes = interval_field("Check every (minutes)")
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


class ArticleEditForm(FlaskForm):
    title = StringField(
        "Title", validators=[DataRequired(), FitsIn(max=500), shows_text("a title")]
    )
    summary = TextAreaField("Summary", validators=[Optional(), FitsIn(max=5000)])
    reviewed_by = StringField(
        "Medically reviewed by",
        validators=[Optional(), FitsIn(max=300), shows_text("the reviewer's name")],
    )
    topics = StringField(
        "Topics (comma-separated)",
        validators=[Optional(), FitsIn(max=500), few_topics, topic_names],
    )
    # What the form showed when it was drawn (club.edit_conflicts): a save made since is
    # noticed instead of silently undone.
    revision = HiddenField()
    # The topics the article has (``topics_named``), set by the view: see ``few_topics``.
    kept_topics: set[str] = set()


class TopicForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), one_topic, topic_names])
    # The name the form showed, to notice another admin's rename meanwhile.
    drawn = HiddenField()


class MergeTopicForm(FlaskForm):
    into = SelectField("Merge it into", coerce=int, choices=[])
    # The counts the confirmation showed (TopicUsage.fingerprint).
    shown = HiddenField()


class DeleteTopicForm(FlaskForm):
    shown = HiddenField()  # as on MergeTopicForm


class FeedChoiceField(SelectField):
    """A choice of feed that names the likely cause when the chosen one is not listed."""

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            # Not "Not a valid choice." under the first option the list now shows.
            raise ValidationError(
                "That feed is not on the site any more (deleted meanwhile): "
                "choose where the rule applies again."
            ) from None


class RuleForm(FlaskForm):
    kind = SelectField(
        "Rule",
        choices=[
            SelectChoice("block", "Block entries mentioning"),
            SelectChoice("require", "Only keep entries mentioning"),
        ],
    )
    phrase = StringField(
        "Phrase", validators=[DataRequired(), FitsIn(max=200), shows_text("a phrase")]
    )
    feed_id = FeedChoiceField("Applies to", coerce=int, choices=[])


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form shown again with errors (nothing saved), else 200."""
    return 400 if request.method == "POST" and any(field.errors for field in form) else 200

"""Forms for accounts, settings and admin; each declares exactly the fields it accepts.

WTForms reads only declared fields, so extra posted fields (``is_admin=1``) are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from confusable_homoglyphs import categories, confusables
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from club.models import HANDLE_PATTERN
from club.passwords import check_password_strength
from club.text import (
    BLANK_LOOKING,
    DIRECTION_CONTROLS,
    MAX_MARKS_IN_TEXT,
    MAX_MARKS_PER_LETTER,
    has_stacked_marks,
    has_visible_text,
    too_many_marks,
)

PASSWORD_MIN = 10
PASSWORD_MAX = 256
RESERVED_HANDLES = frozenset(
    {
        "admin",
        "administrator",
        "moderator",
        "staff",
        "support",
        "billing",
        "settings",
        "root",
        "system",
        "deleted",
        "anonymous",
        "null",
        "help",
        "security",
    }
)


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def lower_strip(value: str | None) -> str | None:
    """Email addresses and handles as stored (see ``accounts.normalise_email``)."""
    return unicodedata.normalize("NFC", value.strip().lower()) if isinstance(value, str) else value


def refuse_weak_password(field: PasswordField, *context: str) -> None:
    """Raise if the password in ``field`` is easy to guess. Not when its length was refused
    already: one thing to fix at a time, and "too short" says what to do."""
    if field.errors:
        return
    problem = check_password_strength(field.data, *context)
    if problem:
        raise ValidationError(problem)


class FitsIn(Length):
    """A length check whose refusal is the field's only error, said in plain words.

    WTForms' ``Length`` lets the next validator run and add a second error to the same
    value (an email "at most 254 characters" and also "not valid"), and says "Field
    cannot be longer than 254 characters." when given no message.
    """

    def __init__(self, min: int = -1, max: int = -1, message: str | None = None) -> None:
        if message is None:
            message = f"Use at most {max:,} characters." if min < 1 else None
        super().__init__(min=min, max=max, message=message)

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            super().__call__(form, field)
        except ValidationError as refused:
            raise StopValidation(str(refused)) from None


class NewPassword(PasswordField):
    """A new password: 10 to 256 characters, checked exactly as typed (never trimmed)."""

    def __init__(self, label: str = "Password", **kwargs):
        validators = [
            InputRequired(),
            FitsIn(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Use between {PASSWORD_MIN} and {PASSWORD_MAX} characters.",
            ),
        ]
        super().__init__(label, validators=validators, **kwargs)


def handle_field(label: str = "Handle") -> StringField:
    return StringField(
        label,
        filters=[lower_strip],
        validators=[
            InputRequired(),
            FitsIn(min=3, max=30, message="Use 3 to 30 characters."),
            Regexp(HANDLE_PATTERN, message="Use lower-case letters, digits and _ only."),
        ],
        description=(
            "Your profile will be at /u/ followed by this. Lower-case letters, digits and _."
        ),
    )


# Characters that change how the text around them shows without showing themselves:
# text-direction marks, overrides and isolates, zero-width spaces, word joiners, BOMs.
# Khmer's two inherent vowels draw nothing too (Unicode advises against their use).
INVISIBLE = re.compile(
    "[\u061c\u17b4\u17b5\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# The blue check next to a name means "paying member"; a name must not fake it.
CHECK_MARKS = re.compile("[\u221a\u2611\u2705\u2713\u2714\U0001f5f8\U0001f5f9\U0001fbb1]")
# Joiners that Persian, Indic scripts and emoji sequences need between visible characters.
JOINERS = "\u200c\u200d"
# What the site itself shows in place of a name, and titles that would pose as its staff
# (comment headers show names alone). Compared as ``name_key`` spells them.
RESERVED_NAMES = frozenset(
    {"deleted member", "[deleted]", "[removed by a moderator]"}
    | {"admin", "administrator", "moderator", "staff", "support"}
)  # the configured SITE_NAME is refused too (``validate_display_name``)


def nfc_strip(value: str | None) -> str | None:
    """Trim, and compose accents the one way (so look-alike spellings compare equal)."""
    return unicodedata.normalize("NFC", value.strip()) if isinstance(value, str) else value


def validate_display_name(form: FlaskForm, field: StringField) -> None:
    """Refuse names that hide characters, fake the badge or pose as the site's own words.

    The account's current name passes as it is: one chosen before a rule was added, or
    given by an operator, must not block every other edit of the profile.
    """
    if field.errors:
        return  # its length was refused (a name of spaces is empty once trimmed): that first
    name = field.data or ""
    account = getattr(form, "account", None)
    if account is not None and name == account.display_name:
        return
    hidden = (c for c in name if c not in JOINERS and unicodedata.category(c)[0] == "C")
    if INVISIBLE.search(name) or any(hidden):
        raise ValidationError("Use visible characters only (no control or text-direction marks).")
    if not has_visible_text(name, kinds="LNS"):
        raise ValidationError("Use at least one letter, digit or symbol.")
    if has_stacked_marks(name):
        raise ValidationError(too_many_marks(MAX_MARKS_PER_LETTER))
    if CHECK_MARKS.search(unicodedata.normalize("NFKC", name)):
        raise ValidationError("Names cannot contain check marks: the blue check marks members.")
    if name_key(name) in RESERVED_NAMES | {name_key(current_app.config["SITE_NAME"])}:
        raise ValidationError("That name is the site's own or a staff title. Choose another.")
    look_alike = look_alike_letter(name)
    if look_alike is not None:
        raise ValidationError(
            f"“{look_alike.letter}” in “{look_alike.word}” is a {look_alike.alphabet} letter "
            f"among {look_alike.among} ones: a word mixing alphabets can pass for another "
            "name. Write each word in one alphabet."
        )


# A run of letters: names split into words at spaces, hyphens, slashes and digits.
LETTER_RUN = re.compile(r"[^\W\d_]+")
# Writing systems that mix scripts inside one word by design: Japanese (kanji with kana),
# Chinese with Bopomofo, Korean with hanja. Unicode's "highly restrictive" profile
# (UTS #39) allows these with Latin too; here without it, as a Latin name with one
# katakana "ロ" for its "O" is the look-alike this check stops.
ONE_WRITING_SYSTEM = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "BOPOMOFO"}),
    frozenset({"HAN", "HANGUL"}),
)


@dataclass(frozen=True)
class LookAlike:
    """A letter of one alphabet inside a word of another, which it makes a look-alike."""

    letter: str
    word: str
    alphabet: str  # "Cyrillic"
    among: str  # "Latin"


def look_alike_letter(name: str) -> LookAlike | None:
    """The first letter of ``name`` that makes a word mix alphabets with a look-alike
    (Unicode's confusables): "Moderator" with a Cyrillic "M", or a member's name with one
    Greek letter, reads exactly as the real one. What shows nothing and the marks over
    letters are dropped first, or a joiner or an accent would make each look-alike a word
    of its own."""
    bare = "".join(c for c in name if not shows_nothing(c) and unicodedata.category(c)[0] != "M")
    for word in LETTER_RUN.findall(bare):
        if is_one_writing_system(word) or not confusables.is_dangerous(word):
            continue
        # Named against the word's main alphabet: the odd letter out is the fake.
        main = Counter(map(categories.alias, word)).most_common(1)[0][0]
        letter = next(c for c in word if categories.alias(c) != main)
        return LookAlike(letter, word, categories.alias(letter).title(), main.title())
    return None


def is_one_writing_system(word: str) -> bool:
    """Tell whether the scripts of ``word`` are those of one CJK writing system."""
    scripts = {categories.alias(c) for c in word} - {"COMMON", "INHERITED"}
    return any(scripts <= allowed for allowed in ONE_WRITING_SYSTEM)


def refuse_hidden_controls(form: FlaskForm, field: TextAreaField) -> None:
    """Refuse a message that holds direction overrides or control characters.

    A moderator's reason is shown inside the site's own sentences ("A moderator froze
    your account: …." and what the member can do next); an override pasted in by accident
    would print the rest of that sentence backwards on every page the member opens.
    """
    text = field.data or ""
    controls = (c for c in text if c not in "\t\n\r" and unicodedata.category(c) == "Cc")
    if DIRECTION_CONTROLS.search(text) or any(controls):
        raise ValidationError(
            "Remove the hidden text-direction or control characters: they would scramble "
            "the text around them."
        )


def name_key(name: str) -> str:
    """A name as it reads: compatibility forms folded, small capitals read as letters,
    case ignored, runs of space as one, and without what shows nothing ("Admin\u200d",
    "Admin\ufe0f" and "Admin" in small capitals read "Admin")."""
    visible = "".join(c for c in name if not shows_nothing(c))
    # After casefold, which turns capital small capitals ("\ua7ae") into the small ones.
    folded = unicodedata.normalize("NFKC", visible).casefold().translate(SMALL_CAPITALS)
    return " ".join(folded.split())


def _small_capitals() -> dict[int, str]:
    """Latin small capitals (U+1D00 and the like) and the letters they read as: NFKC
    keeps them, so "Admin" in small capitals would pass for a new name."""
    blocks = (range(0x0250, 0x02B0), range(0x1D00, 0x1D80), range(0xA720, 0xA800))
    found = {}
    for code in (code for block in blocks for code in block):
        *_, letter = unicodedata.name(chr(code), "").partition("LATIN LETTER SMALL CAPITAL ")
        if len(letter) == 1:
            found[code] = letter.lower()
    return found


SMALL_CAPITALS = _small_capitals()


def shows_nothing(char: str) -> bool:
    """Tell whether ``char`` draws nothing of its own: a joiner, a format character, a
    variation selector, the combining grapheme joiner, a blank-looking letter."""
    code = ord(char)
    return (
        char in JOINERS
        or char in BLANK_LOOKING
        or unicodedata.category(char) == "Cf"
        or code == 0x034F
        or 0x17B4 <= code <= 0x17B5
        or 0x180B <= code <= 0x180F
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def marks_fit_on_their_letters(form: FlaskForm, field: StringField) -> None:
    """Refuse accents stacked high enough to draw over the text around them."""
    if has_stacked_marks(field.data or "", MAX_MARKS_IN_TEXT):
        raise ValidationError(too_many_marks(MAX_MARKS_IN_TEXT))


def display_name_field() -> StringField:
    return StringField(
        "Display name",
        filters=[nfc_strip],
        validators=[
            InputRequired(),
            FitsIn(min=1, max=60, message="Use 1 to 60 characters."),
            validate_display_name,
        ],
    )


def validate_not_reserved(form: FlaskForm, field: StringField) -> None:
    if field.data in RESERVED_HANDLES:
        raise ValidationError("That handle is reserved. Choose another.")


class AccountForm(FlaskForm):
    """A form about an existing account, which it is built for (``account=user``)."""

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def context_words(self) -> tuple[str, ...]:
        """The account's own words, which a new password must not be."""
        account = self.account
        return (account.email, account.handle, account.display_name) if account else ()


class SignUpForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[lower_strip],
        validators=[
            InputRequired(),
            FitsIn(max=254, message="An email address has at most 254 characters."),
            Email(message="Enter a valid email address.", check_deliverability=False),
        ],
    )
    display_name = display_name_field()
    handle = handle_field()
    password = NewPassword()

    def validate_handle(self, field: StringField) -> None:
        validate_not_reserved(self, field)

    def validate_password(self, field: PasswordField) -> None:
        own = (self.email.data, self.handle.data, self.display_name.data)
        refuse_weak_password(field, *(word or "" for word in own))


class LogInForm(FlaskForm):
    email = EmailField(
        "Email", filters=[lower_strip], validators=[InputRequired(), FitsIn(max=254)]
    )
    password = PasswordField("Password", validators=[InputRequired(), FitsIn(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me logged in on this device for 30 days")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[lower_strip],
        validators=[
            InputRequired(),
            FitsIn(max=254),
            Email(message="Enter a valid email address.", check_deliverability=False),
        ],
    )


class ResetPasswordForm(AccountForm):
    password = NewPassword("New password")

    def validate_password(self, field: PasswordField) -> None:
        refuse_weak_password(field, *self.context_words())


class ConfirmEmailForm(FlaskForm):
    """Just the CSRF token: confirming is a POST so that link scanners cannot do it."""


class ProfileForm(AccountForm):
    display_name = display_name_field()
    handle = handle_field()
    bio = TextAreaField(
        "Bio",
        filters=[strip],
        validators=[
            Optional(),
            FitsIn(max=1000, message="Keep your bio under 1,000 characters."),
            marks_fit_on_their_letters,
        ],
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, account=account, **kwargs)
        if account is not None:
            # The member's own address, and what changing it does to links already shared:
            # the old handle is freed at once, so they may lead to someone else's profile.
            self.handle.description = (
                f"Your public address: /u/{account.handle}. If you change it, old links stop "
                "reaching you, and someone else may take it. Lower-case letters, digits and _."
            )

    def validate_handle(self, field: StringField) -> None:
        # An account given a reserved handle by an operator (``users create``) keeps it.
        if self.account is None or field.data != self.account.handle:
            validate_not_reserved(self, field)


class EmailChangeForm(FlaskForm):
    new_email = EmailField(
        "New email",
        filters=[lower_strip],
        validators=[
            InputRequired(),
            FitsIn(max=254, message="An email address has at most 254 characters."),
            Email(message="Enter a valid email address.", check_deliverability=False),
        ],
    )
    # Ids of their own: the settings page holds three password boxes and a "#password"
    # section, and a label or a link must reach the right one.
    password = PasswordField(
        "Your password",
        id="email-password",
        validators=[InputRequired(), FitsIn(max=PASSWORD_MAX)],
    )


class PasswordChangeForm(AccountForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired(), FitsIn(max=PASSWORD_MAX)]
    )
    new_password = NewPassword("New password")

    def validate_new_password(self, field: PasswordField) -> None:
        refuse_weak_password(field, *self.context_words())


class AppealForm(FlaskForm):
    text = TextAreaField(
        "Your appeal",
        filters=[strip],
        validators=[
            # After the strip filter: a member has one appeal, and spaces must not use it up.
            DataRequired(message="Write a few words about why the freeze should end."),
            FitsIn(max=2000, message="Keep your appeal under 2,000 characters."),
            refuse_hidden_controls,
        ],
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Your password",
        id="delete-password",
        validators=[InputRequired(), FitsIn(max=PASSWORD_MAX)],
    )
    delete_comments = BooleanField("Delete the comments I wrote too.")
    confirm = BooleanField(
        "I understand that my account and personal data will be deleted for good.",
        validators=[InputRequired(message="Tick the box to confirm.")],
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""


# --- Admin ------------------------------------------------------------------------------


class FreezeForm(FlaskForm):
    reason = TextAreaField(
        "Reason (shown to the member)",
        filters=[strip],
        validators=[
            # Checked after the strip filter: a reason of spaces is no reason.
            DataRequired(message="Give the member a reason."),
            FitsIn(max=500, message="Keep the reason under 500 characters."),
            refuse_hidden_controls,
        ],
    )
    until = DateField(
        "Frozen until (optional)",
        validators=[Optional()],
        description="The freeze ends at 00:00 UTC on this day: to include 31 May, pick 1 June.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The date picker offers no day the server would refuse, and a form with one is
        # sent without the "Freeze @…?" question first (community.js asks valid forms only).
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        self.until.render_kw = {"min": tomorrow.isoformat()}

    def validate_until(self, field: DateField) -> None:
        if field.data is not None and field.data <= datetime.now(UTC).date():
            raise ValidationError("The end date must be after today.")

    def until_datetime(self) -> datetime | None:
        return start_of_day(self.until.data) if self.until.data else None


class AppealDecisionForm(FlaskForm):
    reply = TextAreaField(
        "Reply to the member",
        filters=[strip],
        validators=[
            Optional(),
            FitsIn(max=2000, message="Keep the reply under 2,000 characters."),
            refuse_hidden_controls,
        ],
    )


def start_of_day(day: date) -> datetime:
    """Return midnight UTC at the start of ``day`` (a freeze "until 5 May" ends then)."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)

"""Password strength: what an attacker tries first, for this site and this account."""

from __future__ import annotations

import re
import string

from flask import current_app
from zxcvbn import zxcvbn

# zxcvbn's scale: 3 is "safely unguessable" to an online attacker (about 10^10 guesses);
# 2 and below fall to a list-and-rules attack.
MIN_PASSWORD_SCORE = 3
# Passwords long enough to pass the length rule that appear at the top of every
# breached-password list; refusing them costs nothing and stops the first guesses.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "123456789a",
        "qwertyuiop",
        "1q2w3e4r5t",
        "password12",
        "password123",
        "password1234",
        "iloveyou12",
        "qwerty1234",
        "qwerty12345",
        "abcdefghij",
        "abc1234567",
        "1qaz2wsx3edc",
        "passw0rd123",
        "letmein123",
        "welcome123",
        "changeme123",
        "administrator",
        "0987654321",
        "1111111111",
        "aaaaaaaaaa",
    }
)


def _squashed(text: str) -> str:
    """``text`` without spaces, punctuation or underscores: "john_smith" reads "johnsmith"."""
    return re.sub(r"[\W_]", "", text)


def account_words(context: tuple[str, ...]) -> set[str]:
    """The account's words as a password may hold them: each email, handle and name
    whole, an email's part before the "@", and each word of a name."""
    words = set()
    for text in (c.lower() for c in context if c):
        words.add(_squashed(text))
        words.add(_squashed(text.partition("@")[0]))
        words.update(_squashed(word) for word in text.split())
    return {word for word in words if word}


def check_password_strength(password: str, *context: str) -> str | None:
    """Return why ``password`` is refused, or None when it is acceptable."""
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) <= 2:
        return "That password is one of the first ones attackers try. Choose another."
    site = re.sub(r"[^a-z]", "", current_app.config["SITE_NAME"].lower())
    words = {site, *account_words(context)}
    squashed = _squashed(lowered)
    # Said once or over and over ("newbie newbie"), or with a number ("alice@example.org1",
    # "John Smith 2026"): what an attacker who knows the account tries first, whatever
    # zxcvbn makes of it.
    repeated = any(
        len(w) >= 4 and w in squashed and not squashed.replace(w, "").strip(string.digits)
        for w in words
    )
    if repeated or (site and site in squashed):
        return "Your password must not be the site's name, or your email, handle or name."
    # zxcvbn knows the common passwords, words, names and keyboard patterns that attackers
    # try first ("Password1!", "football123"). Its time grows with the length: it reads
    # the first 100 characters, which decide the guess anyway.
    inputs = [w for w in words if w] + [c.lower() for c in context if c]
    verdict = zxcvbn(password[:100], user_inputs=inputs)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        warning = verdict["feedback"]["warning"]
        reason = f" ({warning.rstrip('.')})" if warning else ""
        return f"That password is too easy to guess{reason}. Try three or four uncommon words."
    return None

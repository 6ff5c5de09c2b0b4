"""What members type, as it shows: shared by names, comments and anything else they write."""

from __future__ import annotations

import re
import unicodedata

# Letters and symbols that render as nothing: Hangul fillers and the blank Braille cell.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Characters that turn the direction of the text after them (embeddings, overrides,
# isolates): inside a sentence the site writes around a message, they run on past it.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


# Accents that may stack on one letter: in a name, which shows inline in other people's
# lines; in what members write (comments, bios), which the page clips to its own box,
# enough for Burmese, Tibetan stacks and cantillated Hebrew. Thousands ("Z" and 4,000
# accents) would draw a column up through the page.
MAX_MARKS_PER_LETTER = 4
MAX_MARKS_IN_TEXT = 8


def too_many_marks(limit: int) -> str:
    """The message for accents stacked higher than ``limit`` on one letter."""
    return (
        f"Use at most {limit} accents on one letter: marks stacked higher draw over the "
        "text around them."
    )


def has_stacked_marks(text: str, limit: int = MAX_MARKS_PER_LETTER) -> bool:
    """Tell whether a character of ``text`` carries more than ``limit`` accents stacked.

    Marks that take their own width (Mc: Burmese and Indic vowel signs) stand beside the
    letter, not over it, and end a stack.
    """
    run = 0
    for char in text:
        run = run + 1 if unicodedata.category(char) in ("Mn", "Me") else 0
        if run > limit:
            return True
    return False


def has_visible_text(text: str, kinds: str = "LNPS") -> bool:
    """Tell whether ``text`` shows a character of the Unicode ``kinds`` (by default a
    letter, digit, mark of punctuation or symbol).

    Zero-width spaces, direction marks and blank-looking letters alone look empty.
    """
    return any(unicodedata.category(c)[0] in kinds and c not in BLANK_LOOKING for c in text)

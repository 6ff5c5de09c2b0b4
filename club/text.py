"""What members type, as it shows: shared by names, comments and anything else they write."""

from __future__ import annotations

import re
import unicodedata

# Letters and symbols that render as nothing: Hangul fillers and the blank Braille cell.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Characters that turn the direction of the text after them (embeddings, overrides,
# isolates): inside a sentence the site writes around a message, they run on past it.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


# Accents one letter may carry: enough for any language, too few to draw over other lines
# ("Z" with thousands of them towers over the page above it).
MAX_MARKS_PER_LETTER = 4
TOO_MANY_MARKS = (
    f"Use at most {MAX_MARKS_PER_LETTER} accents on one letter: marks stacked higher draw "
    "over the text around them."
)


def has_stacked_marks(text: str) -> bool:
    """Tell whether a character of ``text`` carries more than ``MAX_MARKS_PER_LETTER``
    combining marks (accents)."""
    run = 0
    for char in text:
        run = run + 1 if unicodedata.category(char)[0] == "M" else 0
        if run > MAX_MARKS_PER_LETTER:
            return True
    return False


def has_visible_text(text: str, kinds: str = "LNPS") -> bool:
    """Tell whether ``text`` shows a character of the Unicode ``kinds`` (by default a
    letter, digit, mark of punctuation or symbol).

    Zero-width spaces, direction marks and blank-looking letters alone look empty.
    """
    return any(unicodedata.category(c)[0] in kinds and c not in BLANK_LOOKING for c in text)

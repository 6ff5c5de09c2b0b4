"""What members type, as it shows: shared by names, comments and anything else they write."""

from __future__ import annotations

import re
import unicodedata

# Letters and symbols that render as nothing: Hangul fillers and the blank Braille cell.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Characters that turn the direction of the text after them (embeddings, overrides,
# isolates): inside a sentence the site writes around a message, they run on past it.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def has_visible_text(text: str, kinds: str = "LNPS") -> bool:
    """Tell whether ``text`` shows a character of the Unicode ``kinds`` (by default a
    letter, digit, mark of punctuation or symbol).

    Zero-width spaces, direction marks and blank-looking letters alone look empty.
    """
    return any(unicodedata.category(c)[0] in kinds and c not in BLANK_LOOKING for c in text)

"""Dates feeds write in ways feedparser's own parsers misread or leave unread.

Each reader takes the date as written and returns a UTC ``time.struct_time``, or None for
anything it does not recognise; ``articles.parse`` registers them with feedparser, which
tries registered handlers before its own.
"""

from __future__ import annotations

import email.utils
import re
import time
from datetime import UTC, datetime

# "2020/1/10 14:33:00", as Chinese and Japanese feeds often write dates: feedparser's own
# parsers read it as 1 November. Registered handlers are tried before the built-in ones.
SLASH_DATE = re.compile(
    r"\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*"
)


def read_slash_date(value: str) -> time.struct_time | None:
    """Read "YYYY/M/D[ H:MM[:SS]]" (no zone: taken as UTC); None for anything else."""
    match = SLASH_DATE.fullmatch(value)
    if not match:
        return None
    try:
        when = datetime(*(int(part or 0) for part in match.groups()), tzinfo=UTC)
    except ValueError:
        return None
    return when.utctimetuple()


# RFC 822 dates with the day and month written in the feed's language: "Seg, 24 Set 2018
# 19:42:40 -0300" (a Brazilian news feed). Unread, the entry was dated the fetch and a
# years-old story led the home page. Keys are the first four letters, or three where
# those are enough, lower case: French "juin" and "juil." share their first three.
MONTHS = {
    **dict.fromkeys(("jan", "ene", "gen", "jän"), "Jan"),
    **dict.fromkeys(("fev", "feb", "fév"), "Feb"),
    **dict.fromkeys(("mar", "mär", "mrt", "mrz", "maa"), "Mar"),
    **dict.fromkeys(("abr", "apr", "avr"), "Apr"),
    **dict.fromkeys(("mai", "may", "mag", "mei"), "May"),
    **dict.fromkeys(("jun", "juin", "giu"), "Jun"),
    **dict.fromkeys(("jul", "juil", "lug"), "Jul"),
    **dict.fromkeys(("ago", "aug", "aoû", "aou"), "Aug"),
    **dict.fromkeys(("set", "sep"), "Sep"),
    **dict.fromkeys(("out", "oct", "okt", "ott"), "Oct"),
    **dict.fromkeys(("nov",), "Nov"),
    **dict.fromkeys(("dez", "dic", "déc", "dec"), "Dec"),
}
ENGLISH_DAYS = frozenset({"", "mon", "tue", "wed", "thu", "fri", "sat", "sun"})
LOCAL_RFC822 = re.compile(
    r"\s*(?:([^\W\d_]{2,12})\.?,\s*)?(\d{1,2})\s+([^\W\d_]{3,12})\.?\s+(\d{4}|\d{2})"
    r"\s+(\d{1,2}:\d{2}(?::\d{2})?)(?:\s+(.{1,20}))?"
)
# "-03:00" as RFC 822 writes it, "-0300": the standard library reads only that.
COLON_OFFSET = re.compile(r"([+-]\d{2}):(\d{2})")


def read_local_rfc822_date(value: str) -> time.struct_time | None:
    """Read an RFC 822 date whose day and month names are not English; None otherwise."""
    match = LOCAL_RFC822.fullmatch(value)
    if not match:
        return None
    weekday, day, month, year, clock, zone = match.groups()
    lowered = month.lower()
    english = MONTHS.get(lowered[:4]) or MONTHS.get(lowered[:3])
    if english is None or (len(year) == 4 and int(year) < 1000):
        return None
    if english.lower() == lowered[:3] and (weekday or "")[:3].lower() in ENGLISH_DAYS:
        return None  # English throughout: feedparser's own parser reads it
    zone = COLON_OFFSET.sub(r"\1\2", (zone or "").strip())
    named_zone = zone.isalpha() and zone.upper() not in ("AM", "PM")
    if zone and not (zone[0] in "+-" or named_zone):
        return None  # "7:42 PM -0300" and the like: unread rather than read wrong
    parsed = email.utils.parsedate_tz(f"{day} {english} {year} {clock} {zone}".strip())
    if parsed is None:
        return None
    try:
        return time.gmtime(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None

"""URLs from feeds: absolute, http(s) only, canonical, without tracking.

Entry links, image and video addresses, feed and site addresses all pass through here
before they are stored or compared.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

from flask import current_app, has_app_context

from articles.fetch import is_loopback_name, is_loose_ipv4, is_public_address
from articles.text import strip_control

MAX_URL = 2000
SAFE_SCHEMES = frozenset({"http", "https"})

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "vero_conv", "__s", "ncid", "sr_share", "spm",
        "ns_mchannel", "ns_campaign", "ns_source", "ns_linkname", "ns_fee",
        "wt_mc", "wt_zmc", "wprss", "ito",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "ga_")
# Names sites also use for real choices, tracking only when they say the click came from
# a feed: "?source=rss----5517fd7b58a6---4" (Medium), "?src=rss", "?partner=rss&emc=rss".
FEED_MARKER_PARAMS = frozenset({"source", "src", "partner", "emc", "ref", "cmp", "from"})
# The whole value, or its first word, names a feed format ("rss", "RSS_Feed", "rss2",
# "atom10", "feeds", "rss----5517fd7b58a6---4"); a path or a file name never does:
# "anatomy-series", "feedback-fix" and an image proxy's "src=feed/hero.jpg" are real values.
FEED_MARKER_VALUE = re.compile(r"(?:rss|atom|feeds?)(?:\d{1,2}|feed)?(?:[-_]|$)", re.IGNORECASE)

_URL_BREAKS = re.compile("[\t\r\n]")
# An absolute http(s) URL with a lower-case host, no port or user, and nothing but
# printable ASCII after it. safe_url would return it unchanged, so it skips the parsing;
# canonical_url too, when it also has a path and no query or fragment.
_PLAIN_URL = re.compile(r"https?://[a-z0-9.-]+(?:[/?#][!-~]*)?")
_PLAIN_ORIGIN = re.compile(r"https?://[a-z0-9.-]+")

# Image hosts that only count readers or serve ads (feed "flare", analytics beacons):
# an image from one is dropped, whatever its size. Each entry also covers its subdomains.
TRACKER_DOMAINS = (
    ".feedburner.com", ".feedblitz.com", ".doubleclick.net", ".pheedo.com", ".bluekai.com",
    ".adsrvr.org", ".google-analytics.com", ".quantserve.com", ".scorecardresearch.com",
    ".stats.wordpress.com", ".pixel.wp.com", ".px.ads.linkedin.com", ".www.facebook.com",
    ".api.flattr.com",
)  # fmt: skip
# Hosts that serve only ads: an entry whose own address is on one is a sponsor's slot
# among the stories. Not the whole list above: FeedBurner and FeedBlitz also redirect to
# the real story, and www.facebook.com serves posts.
AD_DOMAINS = (".ads.pheedo.com", ".doubleclick.net", ".adsrvr.org")
# FeedBurner's redirects to an entry's real address.
FEED_PROXIES = (
    "http://feedproxy.google.com/", "https://feedproxy.google.com/",
    "http://feeds.feedburner.com/~r/", "https://feeds.feedburner.com/~r/",
)  # fmt: skip
# Redirect wrappers that spell out the address they lead to, so it is known without a
# request: Folha's ".../redir/online/<section>/rss091/*https://www1.folha.uol.com.br/...",
# the story's address after "/*", and Google's "/url?...&url=https://..." (Google Alerts'
# feeds; "q=" in older ones). Any other redirect is left as the feed wrote it.
FOLHA_REDIRECT_HOST = "redir.folha.com.br"
GOOGLE_HOSTS = frozenset({"www.google.com", "google.com"})
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"})


def over_https(url: str) -> str:
    """Ask for an image or video over https: the pages' CSP blocks plain-http media.

    Most hosts answer on both; one that does not would be blocked either way.
    """
    return "https://" + url[7:] if url.startswith("http://") else url


def is_tracker(url: str) -> bool:
    """Tell whether an absolute http(s) ``url`` is on a known tracking or ad host."""
    return ("." + _host(url)).endswith(TRACKER_DOMAINS)


def never_loaded(url: str) -> bool:
    """Tell whether a page must not load an absolute http(s) ``url`` as a picture or a
    player's file: a tracker's, or one on a machine named by a private, loopback or
    link-local address (or "localhost"), which each reader's browser would then ask for
    inside their own network."""
    return is_tracker(url) or names_a_private_machine(url)


def names_a_private_machine(url: str) -> bool:
    """Tell whether an absolute http(s) ``url``'s host is a private, loopback or link-local
    address, or "localhost" (a name is left to the reader's own DNS), where feeds may not
    live: ``FEEDS_ALLOW_PRIVATE_NETWORKS`` (local testing) lets them, pictures included."""
    return _private_host(url) and not (
        has_app_context() and current_app.config.get("FEEDS_ALLOW_PRIVATE_NETWORKS")
    )


def _private_host(url: str) -> bool:
    try:
        # As browsers read it: "https://10.0.0.1\\@example.com/" goes to 10.0.0.1.
        host = urlsplit(url.replace("\\", "/")).hostname or ""
    except ValueError:
        return True
    # "127.0.0.1.", "0x7f000001" and "127.1" are addresses to a browser, as to a resolver.
    if is_loopback_name(host) or is_loose_ipv4(host):
        return True
    if ":" in host or host.rpartition(".")[2].isdigit():  # an address, not a name
        return not is_public_address(host)
    return False


def is_ad_link(url: str) -> bool:
    """Tell whether an entry's absolute http(s) ``url`` leads to an ad, not to a story."""
    return ("." + _host(url)).endswith(AD_DOMAINS)


def is_feed_proxy(url: str) -> bool:
    """Tell whether ``url`` is FeedBurner's redirect to an entry's real address."""
    return url[:40].lower().startswith(FEED_PROXIES)


def unwrapped(url: str) -> str:
    """The address a known redirect wrapper carries in ``url``, else ``url`` as it is."""
    if "/redir/" not in url and "/url?" not in url:
        return url  # neither wrapper's path: most links, told at the cost of two scans
    host = _host(url)
    if host == FOLHA_REDIRECT_HOST and url.find("/redir/", 8) > 0:
        target = url.partition("/*")[2]
    elif host in GOOGLE_HOSTS and (parts := urlsplit(url)).path == "/url":
        query = dict(parse_qsl(parts.query))
        target = query.get("url") or query.get("q") or ""
    else:
        return url
    return (safe_url(target) if is_absolute_http(target) else None) or url


# Podcast measurement prefixes: the episode's own address follows them in the path
# ("https://dts.podtrac.com/redirect.mp3/cdn.example.com/42.mp3"), and a player loading
# it through them tells each of them who listens. Chains of them are common.
MEDIA_PREFIXES = re.compile(
    r"https?://(?:(?:dts|www)\.)?podtrac\.com/(?:pts/)?redirect\.[a-z0-9]{2,4}/"
    r"|https?://(?:www\.)?(?:chtbl\.com|chrt\.fm)/track/[^/]+/"
    r"|https?://(?:www\.)?pdst\.fm/e/"
    r"|https?://op3\.dev/e(?:,[^/]*)?/",
    re.IGNORECASE,
)


def without_media_prefixes(url: str) -> str:
    """The media file's own address behind any measurement prefixes, else ``url``."""
    inner = url
    while match := MEDIA_PREFIXES.match(inner):
        rest = inner[match.end() :]
        inner = rest if rest.lower().startswith(("http://", "https://")) else "https://" + rest
    if inner is url or "." not in _host(inner):
        return url  # no prefix, or none followed by an address
    return safe_url(inner) or url


def _host(url: str) -> str:
    host = url.split("/", 3)[2] if url.count("/") >= 2 else ""
    return host.rsplit("@", 1)[-1].split(":", 1)[0].lower()


def origin_of(url: str) -> str:
    """Return ``scheme://host[:port]`` of an http(s) URL, or "" for anything else."""
    if _PLAIN_URL.fullmatch(url):
        return _PLAIN_ORIGIN.match(url).group()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in SAFE_SCHEMES or not parts.netloc or "@" in parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def safe_url(value: str, base: str = "") -> str | None:
    """Return ``value`` as an absolute http(s) URL, or None if it is anything else."""
    if value and len(value) <= MAX_URL and _PLAIN_URL.fullmatch(value):
        return value  # most entry and image links: nothing to resolve, strip or reject
    return _resolved_url(value, base)


def _resolved_url(value: str, base: str) -> str | None:
    # Browsers drop tabs and newlines inside URLs; so do we, before checking anything.
    value = _URL_BREAKS.sub("", strip_control(value or "")).strip()
    if not value or len(value) > MAX_URL:
        return None
    if value.startswith("mailto:"):
        return value
    try:
        absolute = value if not base or is_absolute_http(value) else urljoin(base, value)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return None
    return absolute


def is_absolute_http(value: str) -> bool:
    """Tell whether ``value`` is an absolute http(s) address as written: nothing to
    resolve against a base, and no quote or path before the scheme."""
    return value[:8].lower().startswith(("https://", "http://"))


def canonical_url(url: str, keep_fragment: bool = False) -> str:
    """Normalise ``url``: lower-case scheme and host, no default port, tracking or fragment.

    ``keep_fragment`` keeps a fragment that names one post on a page of several.
    """
    if "?" not in url and "#" not in url and url.find("/", 8) > 0 and _PLAIN_URL.fullmatch(url):
        return url  # plain, with a path (a "/" past the scheme) and no query: canonical
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets, before any port
    if port and not (
        (parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)
    ):
        host = f"{host}:{port}"
    path = parts.path or "/"
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((parts.scheme.lower(), host, path, _untracked_query(parts.query), fragment))


def without_tracking(url: str) -> str:
    """Return ``url`` without tracking parameters; everything else stays as written."""
    rest, hash_mark, fragment = url.partition("#")
    head, question_mark, query = rest.partition("?")
    if not question_mark:
        return url
    query = _untracked_query(query)
    return f"{head}{'?' if query else ''}{query}{hash_mark}{fragment}"


def _untracked_query(query: str) -> str:
    # Filter the raw "name=value" pairs: the kept ones stay byte for byte as the source
    # wrote them (no decode/encode round trip that could change the URL).
    return "&".join(pair for pair in query.split("&") if pair and not _is_tracking(pair))


def _is_tracking(pair: str) -> bool:
    name, _, value = pair.partition("=")
    lowered = (unquote(name) if "%" in name else name).lower()
    if lowered in FEED_MARKER_PARAMS:
        path_like = "/" in value or "." in value or "%2f" in value.lower()
        return not path_like and FEED_MARKER_VALUE.match(value) is not None
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def youtube_id(url: str) -> str | None:
    """Return the video id of a YouTube watch, short or youtu.be link."""
    if "youtu" not in url.lower():
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in YOUTUBE_HOSTS:
        return None
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif parts.path.startswith(("/shorts/", "/embed/", "/live/")):
        candidate = parts.path.split("/")[2] if parts.path.count("/") >= 2 else ""
    else:
        candidate = dict(parse_qsl(parts.query)).get("v", "")
    return candidate if YOUTUBE_ID.match(candidate) else None

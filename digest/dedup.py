"""Duplicate detection: canonical URLs, item identity and title/content fingerprints.

Pure functions so that the same decisions are made by ingestion, tests and benchmarks; the store
only supplies candidate rows and applies the verdicts.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "STORY_WINDOW",
    "StoryIndex",
    "StoryKey",
    "canonical_url",
    "content_hash",
    "identity_key",
    "match_story",
    "similarity",
    "title_fingerprint",
    "title_tokens",
]

# Query parameters that only say where a click came from; they never change the page.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "cmpid",
        "ncid",
        "spm",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "sr_share",
        "share",
        "via",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "hmb_", "oly_", "vero_")
# `source=rss` and friends mark the channel, whereas `source=<id>` elsewhere may be meaningful.
_FEED_MARKERS = frozenset({"rss", "atom", "feed", "feedburner", "twitter", "newsletter", "email"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

STORY_WINDOW = timedelta(days=3)
_TITLE_THRESHOLD = 0.6
_MIN_TOKENS = 3
_CONTENT_THRESHOLD = 0.5

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]")
_STOP_WORDS = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "with", "by", "from", "at"}
    | {"as", "is", "are", "was", "were", "be", "its", "it", "this", "that", "how", "why", "what"}
    | {"new", "into", "vs", "via"}
)


def _is_tracking(key: str, value: str) -> bool:
    lowered = key.lower()
    if lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES):
        return True
    return lowered in {"source", "src", "from"} and value.lower() in _FEED_MARKERS


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment and tracking parameters."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return url
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key, value)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def content_hash(*parts: str) -> str:
    """sha256 hex of the parts, separated so that ('ab','c') and ('a','bc') differ."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def identity_key(guid: str, canonical: str, title: str, content: str) -> str:
    """An item's identity within its source: GUID, else canonical link, else its text."""
    if guid.strip():
        return content_hash("guid", guid.strip())
    if canonical:
        return content_hash("link", canonical)
    return content_hash("text", title.strip(), content.strip())


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def title_tokens(text: str) -> frozenset[str]:
    """Words (Latin) or character bigrams (CJK) of a title, ignoring case and stop words."""
    normalised = _normalise(text)
    tokens: set[str] = set()
    for word in _WORD.findall(normalised):
        if _CJK.search(word):
            chars = [c for c in word if not c.isspace()]
            if len(chars) == 1:
                tokens.add(chars[0])
            tokens.update(a + b for a, b in itertools.pairwise(chars))
        elif word not in _STOP_WORDS:
            tokens.add(word)
    return frozenset(tokens)


def title_fingerprint(title: str) -> str:
    """A stable hex key of a title's token set, so reworded punctuation still matches exactly."""
    return content_hash(*sorted(title_tokens(title)))


def similarity(left: frozenset[str], right: frozenset[str]) -> float:
    """Jaccard similarity of two token sets (0 when either is empty)."""
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What story matching needs to know about an article already clustered."""

    story_id: int
    canonical_url: str
    title: str
    content: str
    published_at: datetime


def _content_tokens(text: str) -> frozenset[str]:
    return title_tokens(text[:2000])


def match_story(
    *,
    canonical: str,
    title: str,
    content: str,
    published_at: datetime,
    candidates: list[StoryKey],
    window: timedelta = STORY_WINDOW,
) -> int | None:
    """The story an article joins: same canonical URL, else a close title or text nearby in time."""
    if canonical:
        for candidate in candidates:
            if candidate.canonical_url == canonical:
                return candidate.story_id
    tokens = title_tokens(title)
    if len(tokens) < _MIN_TOKENS:
        return None
    body = _content_tokens(content) if len(content) >= 200 else frozenset()
    best: tuple[float, int] | None = None
    for candidate in candidates:
        if abs(candidate.published_at - published_at) > window:
            continue
        score = similarity(tokens, title_tokens(candidate.title))
        if score < _TITLE_THRESHOLD and body and len(candidate.content) >= 200:
            text_score = similarity(body, _content_tokens(candidate.content))
            if text_score >= _CONTENT_THRESHOLD and score >= _TITLE_THRESHOLD / 2:
                score = _TITLE_THRESHOLD
        if score >= _TITLE_THRESHOLD and (best is None or score > best[0]):
            best = (score, candidate.story_id)
    return best[1] if best else None


class StoryIndex:
    """Recent stories by canonical URL and title tokens, so matching scans only close titles.

    Title similarity is counted through an inverted index (token → entries), which gives the
    exact Jaccard overlap without comparing against every recent story.
    """

    _BUCKET_LIMIT = 500

    def __init__(self, window: timedelta = STORY_WINDOW) -> None:
        self.window = window
        self._by_url: dict[str, int] = {}
        self._entries: list[tuple[StoryKey, int]] = []
        self._by_token: dict[str, list[int]] = {}
        self._renamed: dict[int, int] = {}

    def add(self, key: StoryKey) -> None:
        if key.canonical_url:
            self._by_url.setdefault(key.canonical_url, key.story_id)
        tokens = title_tokens(key.title)
        if len(tokens) < _MIN_TOKENS:
            return
        position = len(self._entries)
        self._entries.append((key, len(tokens)))
        for token in tokens:
            bucket = self._by_token.setdefault(token, [])
            if len(bucket) < self._BUCKET_LIMIT:
                bucket.append(position)

    def rename(self, ids: dict[int, int]) -> None:
        """Map temporary story ids (given before the stories were stored) to the real ones."""
        self._renamed.update(ids)

    def find(
        self, *, canonical: str, title: str, content: str, published_at: datetime
    ) -> int | None:
        """The story this article belongs to, or None for a new story."""
        if canonical and canonical in self._by_url:
            return self._real(self._by_url[canonical])
        tokens = title_tokens(title)
        if len(tokens) < _MIN_TOKENS:
            return None
        shared: dict[int, int] = {}
        for token in tokens:
            for position in self._by_token.get(token, ()):
                shared[position] = shared.get(position, 0) + 1
        needed = math.ceil(_TITLE_THRESHOLD * len(tokens))
        best: tuple[float, int] | None = None
        for position, overlap in shared.items():
            if overlap < needed:
                continue
            key, size = self._entries[position]
            if abs(key.published_at - published_at) > self.window:
                continue
            score = overlap / (len(tokens) + size - overlap)
            if score >= _TITLE_THRESHOLD and (best is None or score > best[0]):
                best = (score, key.story_id)
        return None if best is None else self._real(best[1])

    def _real(self, story_id: int) -> int:
        return self._renamed.get(story_id, story_id)

"""Duplicate detection: canonical URLs, item identity and title/content fingerprints.

Pure functions so that the same decisions are made by ingestion, tests and benchmarks; the store
only supplies candidate rows and applies the verdicts.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import sys
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
_MIN_TOKENS = 3

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


# A URL that is canonical already but for a missing "/" path: lower-case scheme and host
# (not ending in "."), no port, user, query or fragment (most feed links; no parse needed).
_PLAIN_URL = re.compile(r"https?://[a-z0-9.-]*[a-z0-9-](/[A-Za-z0-9\-._~%!$&'()*+,=:@/]*)?")


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment and tracking parameters."""
    url = url.strip()
    if not url:
        return ""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        return url if plain.group(1) else f"{url}/"
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
    entities: tuple[str, ...] = ()


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
# Entities too broad to tie two reports together on their own (every other item names them).
_BROAD_ENTITIES = frozenset({"google", "microsoft", "amazon", "apple", "meta", "nvidia", "gpu"})
SAME_EVENT_WINDOW = timedelta(days=2)
# "owner / repo" and "org/model" titles name one artefact each: only the same URL is the same item
# (claude-code and claude-quickstarts share every entity and are still two repositories).
_ARTEFACT_TITLE = re.compile(r"^\s*[\w.-]+\s*/\s*[\w.-]+\s*$")
_NEAR_IDENTICAL = 0.8
_SHARED_ENTITY_TITLE = 0.5


def title_figures(title: str) -> frozenset[str]:
    """Numbers in a title ("5.5", "99342"): two titles with different figures report
    different facts (a share sale of 1,500 vs one of 99,342), however alike their words."""
    return frozenset(m.replace(",", "") for m in _FIGURE.findall(_normalise(title)))


@dataclass(frozen=True, slots=True)
class _Entry:
    """One indexed article, kept small: a cycle over a thousand feeds indexes ~30,000 of them.
    Tokens and entities are interned strings in tuples (a frozenset of 8 costs ~730 bytes)."""

    story_id: int
    published_at: datetime
    cjk: bool
    tokens: tuple[str, ...]
    figures: frozenset[str]
    entities: tuple[str, ...]


def _interned(words: frozenset[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sys.intern(word) for word in words)


def _same_event(
    cjk: bool,
    tokens: frozenset[str],
    figures: frozenset[str],
    entities: frozenset[str],
    published_at: datetime,
    other: _Entry,
    window: timedelta,
) -> float:
    """How sure we are that two articles report one event (0 = not the same).

    Precision first — a wrong merge shows wrong coverage and inflates a score:
    - near-identical titles (Jaccard ≥ 0.8) with the same figures, within the window;
    - or a shared specific entity, close dates (2 days), half the title words and no
      conflicting figures;
    - or, across languages, a shared specific entity and a shared figure (the model's version,
      the round's size) within 2 days.
    """
    gap = abs(other.published_at - published_at)
    if gap > window:
        return 0.0
    if figures != other.figures and figures and other.figures and not (figures & other.figures):
        return 0.0
    shared_tokens = len(tokens.intersection(other.tokens))
    union = len(tokens) + len(other.tokens) - shared_tokens
    score = shared_tokens / union if tokens and other.tokens else 0.0
    if score >= _NEAR_IDENTICAL and figures == other.figures:
        return score
    shared = entities.intersection(other.entities) - _BROAD_ENTITIES
    if not shared or gap > SAME_EVENT_WINDOW:
        return 0.0
    if score >= _SHARED_ENTITY_TITLE and (figures == other.figures or figures & other.figures):
        return score
    if figures & other.figures and cjk != other.cjk:
        return 0.5  # another script: tied by a specific entity and a shared figure
    return 0.0


class StoryIndex:
    """Recent stories by canonical URL, title tokens and entities, for clustering new articles.

    Candidates come from an inverted index (token or entity → entries), so matching compares
    against the few stories that share something instead of every recent one. New stories get
    temporary ids from `new_story_id()` — unique for the index's whole life, so two batches
    (two feeds in one cycle) never reuse one — and `rename` maps them to stored ids.
    """

    _BUCKET_LIMIT = 500

    def __init__(self, window: timedelta = STORY_WINDOW) -> None:
        self.window = window
        self._by_url: dict[str, int] = {}
        self._entries: list[_Entry] = []
        self._by_token: dict[str, list[int]] = {}
        self._renamed: dict[int, int] = {}
        self._next_temporary = -1

    def new_story_id(self) -> int:
        """A temporary (negative) id for a story not stored yet, never handed out twice."""
        story_id = self._next_temporary
        self._next_temporary -= 1
        return story_id

    def add(self, key: StoryKey) -> None:
        if key.canonical_url:
            self._by_url.setdefault(key.canonical_url, key.story_id)
        tokens = title_tokens(key.title)
        entities = frozenset(key.entities)
        if (len(tokens) < _MIN_TOKENS and not entities) or _ARTEFACT_TITLE.match(key.title):
            return
        position = len(self._entries)
        entry = _Entry(
            key.story_id,
            key.published_at,
            bool(_CJK.search(key.title)),
            _interned(tokens),
            title_figures(key.title),
            _interned(key.entities),
        )
        self._entries.append(entry)
        for token in (*entry.tokens, *(f"@{e}" for e in entities)):
            bucket = self._by_token.setdefault(token, [])
            if len(bucket) < self._BUCKET_LIMIT:
                bucket.append(position)

    def _candidates(self, tokens: frozenset[str], entities: frozenset[str]) -> set[int]:
        """Entries that `_same_event` could accept, and no others it would.

        It accepts only an entry sharing a specific entity, or one whose title is near-identical
        (Jaccard ≥ 0.8, so sharing at least 0.8 × this title's tokens). Counting shared tokens
        over the buckets spares scoring the many entries that share one common word. A full
        bucket may lack an entry, so each full bucket lowers the count required by one: every
        entry the old union of buckets offered and the rules accept is still offered.
        """
        found: set[int] = set()
        for entity in entities:
            found.update(self._by_token.get(f"@{entity}", ()))
        shared: dict[int, int] = {}
        full = 0
        for token in tokens:
            bucket = self._by_token.get(token, ())
            full += len(bucket) >= self._BUCKET_LIMIT
            for position in bucket:
                shared[position] = shared.get(position, 0) + 1
        needed = max(1, math.ceil(_NEAR_IDENTICAL * len(tokens) - 1e-9) - full)
        found.update(position for position, count in shared.items() if count >= needed)
        return found

    def rename(self, ids: dict[int, int]) -> None:
        """Map temporary story ids (given before the stories were stored) to the real ones."""
        self._renamed.update(ids)

    def resolve(self, story_id: int) -> int:
        """The stored id of a story (a temporary id once renamed), else the id itself."""
        return self._renamed.get(story_id, story_id)

    def find(
        self,
        *,
        canonical: str,
        title: str,
        content: str = "",
        published_at: datetime,
        entities: tuple[str, ...] = (),
    ) -> int | None:
        """The story this article belongs to, or None for a new story."""
        if canonical and canonical in self._by_url:
            return self.resolve(self._by_url[canonical])
        tokens = title_tokens(title)
        entity_set = frozenset(entities)
        if (len(tokens) < _MIN_TOKENS and not entity_set) or _ARTEFACT_TITLE.match(title):
            return None
        figures = title_figures(title)
        cjk = bool(_CJK.search(title))
        candidates = self._candidates(tokens, entity_set - _BROAD_ENTITIES)
        best: tuple[float, int] | None = None
        for position in candidates:
            entry = self._entries[position]
            score = _same_event(cjk, tokens, figures, entity_set, published_at, entry, self.window)
            if score > 0 and (best is None or score > best[0]):
                best = (score, entry.story_id)
        return None if best is None else self.resolve(best[1])


def match_story(
    *,
    canonical: str,
    title: str,
    content: str,
    published_at: datetime,
    candidates: list[StoryKey],
    window: timedelta = STORY_WINDOW,
    entities: tuple[str, ...] = (),
) -> int | None:
    """The story an article joins among `candidates` (the same rules as `StoryIndex`)."""
    index = StoryIndex(window)
    for candidate in candidates:
        index.add(candidate)
    return index.find(
        canonical=canonical,
        title=title,
        content=content,
        published_at=published_at,
        entities=entities,
    )

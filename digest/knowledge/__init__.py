"""Editorial knowledge as data: the AI lexicon, the entity gazetteer, event words, stop words.

The TOML files beside this module are the knowledge; this module only loads them once and
matches them against text. Latin terms match whole words (never substrings: "installment" is
not "llm"); CJK terms match by dictionary look-up, since those scripts have no word spaces.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from itertools import compress
from operator import or_
from typing import Any

__all__ = [
    "Entity",
    "EntityHit",
    "Gazetteer",
    "Knowledge",
    "TermSet",
    "knowledge",
    "normalise",
]

_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]")
# A Latin "word" keeps inner dots, hyphens, plus signs and slashes: gpt-4o, llama.cpp, c++.
_LATIN_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+(?:[.\-+·'’][0-9A-Za-z\u00c0-\u024f]+)*\+?")
_COMPOUND_JOINS = re.compile(r"[.\-·]")


def normalise(text: str) -> str:
    """NFKC folds full-width Latin (ＡＩ) and half-width kana so one spelling matches all."""
    return unicodedata.normalize("NFKC", text)


def _is_cjk(term: str) -> bool:
    return bool(_CJK_CHAR.search(term))


def _latin_words(text: str) -> list[str]:
    return _LATIN_TOKEN.findall(text)


@lru_cache(maxsize=1 << 16)
def _is_compound_name(token: str) -> bool:
    """Model-like compounds ("NVIDIA-Nemotron-3-Nano", "ARC-AGI-3") whose parts are names too;
    plain hyphenated words ("meta-analysis") are not split."""
    return bool(_COMPOUND_JOINS.search(token)) and (
        any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:])
    )


def _load(name: str) -> dict[str, Any]:
    data = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(data)


@dataclass(frozen=True, slots=True)
class TermSet:
    """Terms to find in text: Latin phrases by word n-grams, CJK terms by dictionary look-up.

    `cased` terms match only with their exact case ("AI" but not "ai" in a URL); the others match
    case-insensitively. Matching returns each term found with its count.
    """

    latin: frozenset[str]
    cased: frozenset[str]
    cjk: tuple[str, ...]
    longest: int
    # First words of the multi-word terms: an n-gram starting elsewhere cannot match, so it is
    # not built (None: build every n-gram). Speed only; the matches are the same.
    starts: frozenset[str] | None = None

    @classmethod
    def of(cls, terms: Iterable[str], cased: Iterable[str] = ()) -> TermSet:
        cased_set = {normalise(t) for t in cased}
        latin: set[str] = set()
        cjk: list[str] = []
        for raw in terms:
            term = normalise(raw).strip()
            if not term:
                continue
            if _is_cjk(term):
                cjk.append(term)
            elif term not in cased_set:
                latin.add(" ".join(_latin_words(term.lower())) or term.lower())
        longest = max((len(t.split()) for t in latin | cased_set), default=1)
        # Longest CJK terms first, so 生成AI is found before AI inside it is counted.
        cjk.sort(key=len, reverse=True)
        starts = frozenset(t.split()[0] for t in latin | cased_set if " " in t)
        return cls(frozenset(latin), frozenset(cased_set), tuple(cjk), longest, starts)

    def find(self, text: str) -> dict[str, int]:
        """{term: count} for every term of the set that occurs in `text`."""
        text = normalise(text)
        tokens = _tokens(text)
        found = self._single_words(tokens)
        starts = self.starts
        if self.longest > 1:
            heads: Sequence[int] = range(len(tokens.words))
            if starts is not None:
                heads = tokens.positions_of(starts)
            if heads:
                self._phrases(tokens, heads, found)
        if self.cjk and tokens.has_cjk:
            remaining = text
            for term in self.cjk:
                count = remaining.count(term)
                if count:
                    found[term] = found.get(term, 0) + count
                    remaining = remaining.replace(term, " ")
        return found

    def _single_words(self, tokens: _Tokens) -> dict[str, int]:
        """One-word terms, in the order a left-to-right scan meets them: the words that can
        match are found by set intersection, then each counted where it first occurs."""
        latin, cased = self.latin, self.cased
        words, lowered = tokens.words, tokens.lowered
        events: list[tuple[int, int, str, int]] = []  # (first position, part, term, count)
        for folded in tokens.lowered_set & latin:
            events.append((lowered.index(folded), 0, folded, lowered.count(folded)))
        for word in tokens.word_set & cased:
            if word.lower() not in latin:
                events.append((words.index(word), 0, word, words.count(word)))
        for word in tokens.compounds:
            if word.lower() in latin or word in cased:
                continue
            first, count = words.index(word), words.count(word)
            for index, part in enumerate(_COMPOUND_JOINS.split(word)):
                if part.lower() in latin:
                    events.append((first, index, part.lower(), count))
                elif part in cased:
                    events.append((first, index, part, count))
        found: dict[str, int] = {}
        for _, _, term, count in sorted(events) if len(events) > 1 else events:
            found[term] = found.get(term, 0) + count
        return found

    def _phrases(self, tokens: _Tokens, heads: Sequence[int], found: dict[str, int]) -> None:
        """Multi-word terms starting at `heads` (ascending), shortest first."""
        words, lowered = tokens.words, tokens.lowered
        for size in range(2, self.longest + 1):
            last = len(words) - size
            for i in heads:
                if i > last:
                    break
                folded = " ".join(lowered[i : i + size])
                if folded in self.latin:
                    found[folded] = found.get(folded, 0) + 1
                else:
                    exact = " ".join(words[i : i + size])
                    if exact in self.cased:
                        found[exact] = found.get(exact, 0) + 1


@dataclass(frozen=True, slots=True)
class _Tokens:
    """A normalised text's Latin words, worked out once for every term set that reads it."""

    words: list[str]
    lowered: list[str]
    word_set: frozenset[str]
    lowered_set: frozenset[str]
    compounds: tuple[str, ...]  # distinct model-like compounds (see `_is_compound_name`)
    has_cjk: bool

    def positions_of(self, starts: frozenset[str]) -> list[int]:
        """Ascending positions whose word, or its lower case, is in `starts`."""
        wanted = (self.lowered_set & starts) | (self.word_set & starts)
        if not wanted:
            return []
        hit = wanted.__contains__
        return list(
            compress(range(len(self.words)), map(or_, map(hit, self.lowered), map(hit, self.words)))
        )


@lru_cache(maxsize=8)
def _tokens(text: str) -> _Tokens:
    """Tokens of a normalised text; the last few are kept, since a text is usually matched
    against several term sets in a row (lexicon, then the gazetteer)."""
    words = _latin_words(text)
    word_set = frozenset(words)
    lowered = list(map(str.lower, words))
    return _Tokens(
        words=words,
        lowered=lowered,
        word_set=word_set,
        lowered_set=frozenset(lowered),
        compounds=tuple(filter(_is_compound_name, filter(_COMPOUND_JOINS.search, word_set))),
        has_cjk=_CJK_CHAR.search(text) is not None,
    )


@dataclass(frozen=True, slots=True)
class Entity:
    """One gazetteer entry (see entities.toml for what each field means)."""

    slug: str
    name: str
    type: str
    tier: int
    ai: bool
    owner: str = ""
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class EntityHit:
    """An entity found in a text: which spelling matched, how often, and whether that
    spelling is ambiguous (needs other AI evidence to count)."""

    entity: Entity
    alias: str
    count: int
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Entities by alias; unambiguous and ambiguous aliases are kept apart."""

    entities: Mapping[str, Entity]
    clear: TermSet
    unclear: TermSet
    by_alias: Mapping[str, str]
    patterns: tuple[tuple[re.Pattern[str], str], ...] = field(default=())

    def find(self, text: str) -> list[EntityHit]:
        """Entities named in `text`, most mentioned first; one hit per entity."""
        hits: dict[str, EntityHit] = {}
        for terms, ambiguous in ((self.clear, False), (self.unclear, True)):
            for alias, count in terms.find(text).items():
                slug = self.by_alias.get(alias) or self.by_alias.get(alias.lower())
                if slug is None:
                    continue
                known = hits.get(slug)
                if known is None or (known.ambiguous and not ambiguous):
                    total = count + (known.count if known else 0)
                    hits[slug] = EntityHit(self.entities[slug], alias, total, ambiguous)
                else:
                    hits[slug] = EntityHit(
                        known.entity, known.alias, known.count + count, known.ambiguous
                    )
        lowered = normalise(text).lower()
        for pattern, slug in self.patterns:
            if (slug not in hits or hits[slug].ambiguous) and _literal_of(pattern) in lowered:
                found = pattern.findall(lowered)
                if found:
                    hits[slug] = EntityHit(self.entities[slug], found[0], len(found), False)
        return sorted(hits.values(), key=lambda h: (-h.count, h.entity.tier, h.entity.slug))

    def by_name(self, name: str) -> Entity | None:
        """The entity a person means by `name` (slug, name or any alias, in any script)."""
        key = normalise(name).strip()
        slug = self.by_alias.get(key) or self.by_alias.get(key.lower())
        if slug is None and key.lower() in self.entities:
            slug = key.lower()
        return self.entities.get(slug) if slug else None


_PATTERN_HEAD = r"(?<![\w.-])(?:"


@cache
def _literal_of(pattern: re.Pattern[str]) -> str:
    """The lower-case letters an entity pattern ("gpt-?\\d") starts with, which any match
    contains: a text without them skips the regex. '' when the pattern starts otherwise."""
    body = pattern.pattern.removeprefix(_PATTERN_HEAD)
    if "|" in body:
        return ""
    match = re.match(r"[a-z0-9]+", body)
    if match is None:
        return ""
    literal = match.group()
    return literal[:-1] if body[len(literal) : len(literal) + 1] in ("?", "*", "{") else literal


def _gazetteer(raw: Iterable[Mapping[str, Any]]) -> Gazetteer:
    entities: dict[str, Entity] = {}
    by_alias: dict[str, str] = {}
    clear_latin: list[str] = []
    clear_cased: list[str] = []
    unclear_latin: list[str] = []
    unclear_cased: list[str] = []
    patterns: list[tuple[re.Pattern[str], str]] = []
    for item in raw:
        slug = str(item["slug"])
        cased = bool(item.get("case", False))
        entity = Entity(
            slug=slug,
            name=str(item["name"]),
            type=str(item["type"]),
            tier=int(item.get("tier", 3)),
            ai=bool(item.get("ai", False)),
            owner=str(item.get("owner", "")),
            ambiguous=bool(item.get("ambiguous_aliases")),
        )
        entities[slug] = entity
        for key, latin, cased_list in (
            ("aliases", clear_latin, clear_cased),
            ("ambiguous_aliases", unclear_latin, unclear_cased),
        ):
            for alias in item.get(key, ()):
                text = normalise(str(alias))
                if cased and not _is_cjk(text):
                    cased_list.append(text)
                    by_alias[text] = slug
                else:
                    latin.append(text)
                    folded = " ".join(_latin_words(text.lower())) or text.lower()
                    by_alias[folded if not _is_cjk(text) else text] = slug
        if "pattern" in item:
            patterns.append((re.compile(rf"{_PATTERN_HEAD}{item['pattern']})"), slug))
    return Gazetteer(
        entities=entities,
        clear=TermSet.of(clear_latin + clear_cased, cased=clear_cased),
        unclear=TermSet.of(unclear_latin + unclear_cased, cased=unclear_cased),
        by_alias=by_alias,
        patterns=tuple(patterns),
    )


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything the editorial engine reasons with, loaded once per process."""

    strong: TermSet
    weak: TermSet
    events: Mapping[str, TermSet]
    gazetteer: Gazetteer
    stopwords: frozenset[str]


@cache
def knowledge() -> Knowledge:
    lexicon = _load("lexicon.toml")
    cased = lexicon.get("case", [])
    events = _load("events.toml")
    return Knowledge(
        strong=TermSet.of(lexicon["strong"], cased=[c for c in cased if c in lexicon["strong"]]),
        weak=TermSet.of(lexicon["weak"], cased=[c for c in cased if c in lexicon["weak"]]),
        events={kind: TermSet.of(spec["words"]) for kind, spec in events.items()},
        gazetteer=_gazetteer(_load("entities.toml")["entities"]),
        stopwords=frozenset(w.lower() for w in _load("stopwords.toml")["words"]),
    )

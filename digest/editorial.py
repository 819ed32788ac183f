"""Editorial reading of one item: is it AI news, what kind of item, which entities and events.

Pure and deterministic: the evidence found is returned beside each decision, so the rubric's
reasons quote it instead of re-deriving it (see `digest.scoring`). The knowledge it reads is the
data in `digest/knowledge/`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from digest.knowledge import EntityHit, knowledge, normalise
from digest.models import ItemKind

__all__ = ["EVENT_PRIORITY", "Evidence", "named_entities", "read_item", "story_keys"]

# Event kinds from most to least newsworthy; a title's first kind in this order names the event.
EVENT_PRIORITY: tuple[str, ...] = (
    "ipo",
    "acquisition",
    "regulation",
    "funding",
    "milestone",
    "open_weights",
    "market_entry",
    "release",
    "benchmark",
    "partnership",
    "research",
)
# Business and policy events need a company; releases need something that can be released.
_NEEDS_ENTITY = frozenset(EVENT_PRIORITY) - {"research", "regulation"}
LEAD_CHARS = 3000
_NUMBER_FACT = re.compile(
    r"(?<![\w.])(?:[$€£¥]\s?)?\d[\d,]*(?:\.\d+)?\s*"
    r"(?:%|％|x\b|×|倍|億|万|兆|円|ドル|人|社|件|[kmbt]\b|billion|million|thousand|"
    r"tokens?\b|parameters?\b|params?\b|gb\b|tb\b|ms\b|fps\b|tflops?\b|b\b|points?\b)",
    re.IGNORECASE,
)
_NAMED = re.compile(r"\b[A-Z][a-zA-Z0-9]+(?:[-.][A-Za-z0-9]+)*\b")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_REPO_TITLE = re.compile(r"^\s*[\w.-]+\s*/\s*[\w.-]+\s*$")
_TOOL_HOSTS = ("github.com", "huggingface.co", "gitlab.com", "pypi.org", "npmjs.com")
_RESEARCH_HOSTS = ("arxiv.org", "openreview.net", "biorxiv.org", "aclanthology.org")
_ML_HOSTS = ("huggingface.co",)
_NOT_TOOL_PATHS = frozenset({"blog", "docs", "learn", "features", "about", "pricing", "posts"})
_HOWTO_WORDS = (
    "how to", "tutorial", "guide", "step by step", "step-by-step", "walkthrough", "hands-on",
    "getting started", "使い方", "手順", "入門", "やってみた", "試してみた", "作ってみた", "作った",
    "構築", "実装",
)  # fmt: skip
_CODE_WORDS = (
    "pip install", "npm install", "git clone", "github.com", "api", "sdk", "cli", "docker",
    "hugging face", "colab", "notebook", "open source", "open-source", "repo", "repository",
    "オープンソース", "コード", "サンプル",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Evidence:
    """What an editor would note reading the item, each decision with what it rests on."""

    is_ai: bool
    ai_reason: str
    ai_terms: tuple[str, ...]
    title_ai_terms: tuple[str, ...]
    entities: tuple[EntityHit, ...]
    title_entities: tuple[EntityHit, ...]
    events: tuple[str, ...]
    event_words: tuple[tuple[str, str], ...]
    kind: ItemKind
    facts: int
    words: int
    teaser: bool
    howto: tuple[str, ...]
    code: tuple[str, ...]
    url: str = ""
    subject: str = ""  # a named subject outside the gazetteer ("Helix Labs")

    @property
    def top_entity(self) -> EntityHit | None:
        """The entity the item is about: a title entity first, then the most-tiered one."""
        pool = self.title_entities or self.entities
        return min(pool, key=lambda h: (h.entity.tier, -h.count)) if pool else None

    @property
    def event(self) -> str | None:
        return self.events[0] if self.events else None

    def event_word(self, kind: str) -> str:
        return dict(self.event_words).get(kind, kind)

    @property
    def entity_slugs(self) -> tuple[str, ...]:
        return tuple(hit.entity.slug for hit in self.entities)


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _word_count(text: str) -> int:
    return len(_WORD.findall(text)) + len(_CJK.findall(text)) // 2


def _sorted_terms(found: dict[str, int]) -> tuple[str, ...]:
    return tuple(term for term, _ in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


_ANNOUNCING = re.compile(r"^(?:introducing|announcing|meet|launching|unveiling|presenting)\b", re.I)
# Events whose subject must be the named entity: "OpenAI launches X", not "X cuts launch hours
# using ChatGPT". Japanese puts the subject first too (「OpenAI、GPT-5を発表」).
_SUBJECT_FIRST = frozenset({"release", "open_weights", "market_entry", "funding", "ipo"})


# Quoted speech, not a quoted name: 「Kimi」 stays, 「ロボットのChatGPTモーメントは近い」 goes.
_QUOTED = re.compile(r"「[^」]{12,}」|“[^”]{12,}”|\"[^\"]{12,}\"")
_CJK_SUBJECT_SPAN = 25


def _subject_first(text: str, word: str, aliases: Sequence[str]) -> bool:
    """The entity is the event's subject: named before the event word, not inside quoted speech
    (「ロボットのChatGPTモーメントは近い」―上場した… is not ChatGPT's IPO); in CJK titles, near
    the start."""
    if _ANNOUNCING.match(text):
        return True
    lowered = _QUOTED.sub(lambda m: " " * len(m.group()), text).lower()
    at = lowered.find(word.lower())
    if at < 0:
        return False
    limit = min(at, _CJK_SUBJECT_SPAN) if _CJK.search(text) else at
    return any(0 <= lowered.find(alias.lower()) < limit for alias in aliases)


_NAME_WORD = r"(?:[A-Z][\w.&'’+-]*|\d[\w.+-]*)"
_LATIN_SUBJECT = re.compile(rf"^({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})(?:'s|’s)?\s+[a-z]")
_CJK_SUBJECT = re.compile(r"^([^、,，「」\s]{2,20})[、，]")


_NOT_SUBJECTS = frozenset(
    [
        "how",
        "why",
        "what",
        "when",
        "where",
        "who",
        "which",
        "the",
        "a",
        "an",
        "new",
        "this",
        "that",
        "these",
        "those",
        "i",
        "we",
        "you",
        "my",
        "our",
        "your",
        "he",
        "she",
        "they",
        "it",
        "its",
        "his",
        "her",
        "their",
        "introducing",
        "announcing",
        "meet",
        "study",
        "report",
        "researchers",
        "scientists",
        "here",
        "there",
        "is",
        "are",
        "can",
        "do",
        "does",
        "should",
        "will",
        "would",
        "could",
    ]
)


def unknown_subject(title: str) -> str:
    """The proper-noun subject a title opens with ("Helix Labs releases …", "大学の研究チーム、…"),
    for organisations the gazetteer does not know yet; '' when the title opens otherwise."""
    match = _LATIN_SUBJECT.match(title) or _CJK_SUBJECT.match(title)
    if not match:
        return ""
    subject = match.group(1)
    first = subject.split()[0].lower() if subject.split() else ""
    if first in _NOT_SUBJECTS or len(subject) < 2:
        return ""
    return subject


def _events(title: str, lead: str, aliases: Sequence[str]) -> list[tuple[str, str]]:
    """Event kinds the title reports; the lead's first sentence counts when the title names an
    entity but no event ("OpenAI's new model" / "OpenAI released … today")."""
    k = knowledge()
    sources = [title]
    if aliases:
        first = re.split(r"(?<=[.!?。])\s", lead[:300], maxsplit=1)[0]
        # Only a lead whose first words are the entity: "OpenAI released … today".
        if any(0 <= first.lower().find(alias.lower()) < 40 for alias in aliases):
            sources.append(first)
    for source in sources:
        found: list[tuple[str, str]] = []
        for kind in EVENT_PRIORITY:
            if kind in _NEEDS_ENTITY and not aliases:
                continue
            hits = k.events[kind].find(source)
            if not hits:
                continue
            word = _sorted_terms(hits)[0]
            if kind in _SUBJECT_FIRST and not _subject_first(source, word, aliases):
                continue
            found.append((kind, word))
        if found:
            return found
    return []


def _word_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """One alternation for a word list: Latin words on boundaries ("repo" is not in "reported"),
    CJK ones anywhere."""
    parts = [
        rf"(?<!\w){re.escape(w)}(?!\w)" if w.isascii() else re.escape(w)
        for w in sorted(words, key=len, reverse=True)
    ]
    return re.compile("|".join(parts))


_HOWTO_PATTERN = _word_pattern(_HOWTO_WORDS)
_CODE_PATTERN = _word_pattern(_CODE_WORDS)


def _hits_in(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    """Which words of `pattern` occur, each once, in order of first appearance."""
    return tuple(dict.fromkeys(pattern.findall(text.lower())))


def _decide_ai(
    *,
    title_strong: dict[str, int],
    title_weak: dict[str, int],
    body_strong: dict[str, int],
    title_ai_entities: Sequence[EntityHit],
    body_ai_entities: Sequence[EntityHit],
    words: int,
    ml_host: bool,
) -> tuple[bool, str]:
    """AI news is *primarily* about AI: the title says so, or the text keeps saying so."""
    if title_strong:
        return True, f"title names {', '.join(_sorted_terms(title_strong)[:2])}"
    if title_ai_entities:
        names = ", ".join(hit.entity.name for hit in title_ai_entities[:2])
        return True, f"title names {names}"
    if ml_host:
        return True, "a model, dataset or paper page on an ML hub"
    strong = sum(body_strong.values())
    distinct = len(body_strong)
    per_hundred = strong / max(1.0, words / 100)
    ai_mentions = sum(hit.count for hit in body_ai_entities)
    if "AI" in title_weak and (strong >= 1 or ai_mentions >= 1 or words < 120):
        return True, f"title names AI; {strong} AI term(s) in text"
    if words < 150 and strong and (distinct >= 2 or body_ai_entities or words < 100):
        terms = ", ".join(_sorted_terms(body_strong)[:2])
        return True, f"short text about {terms}"
    if distinct >= 2 and (per_hundred >= 0.5 or strong >= 6):
        terms = ", ".join(_sorted_terms(body_strong)[:3])
        return True, f"text keeps returning to AI ({strong}× {terms})"
    if ai_mentions >= 2 and strong >= 1:
        names = ", ".join(hit.entity.name for hit in body_ai_entities[:2])
        return True, f"text is about {names} ({ai_mentions} mentions)"
    if strong:
        terms = ", ".join(_sorted_terms(body_strong)[:2])
        return False, f"AI only in passing ({strong}× {terms} in {words} words)"
    return False, "no AI terms or AI entities"


def _kind(
    *,
    is_ai: bool,
    url: str,
    title: str,
    events: Sequence[str],
    research_hits: bool,
    howto: Sequence[str],
) -> ItemKind:
    if not is_ai:
        return "other"
    host = _host(url)
    path = [part for part in urlsplit(url).path.split("/") if part] if url else []
    if host in _RESEARCH_HOSTS or "papers" in path[:1]:
        return "research"
    if (host in _TOOL_HOSTS and len(path) >= 2 and path[0] not in _NOT_TOOL_PATHS) or (
        _REPO_TITLE.match(title)
    ):
        return "tool"
    if events and events[0] not in ("research", "benchmark"):
        return "news"
    if research_hits or (events and events[0] in ("research", "benchmark")):
        return "research"
    if howto:
        return "analysis"
    return "analysis"


def read_item(
    title: str,
    content: str,
    *,
    url: str = "",
    teaser: bool = False,
) -> Evidence:
    """The editorial evidence of one item (title and plain text, already cleaned)."""
    k = knowledge()
    title = normalise(title)
    lead = normalise(content[:LEAD_CHARS])
    words = _word_count(content) or _word_count(title)
    title_strong = k.strong.find(title)
    title_weak = k.weak.find(title)
    body_strong = k.strong.find(lead)
    body_weak = k.weak.find(lead)
    title_hits = k.gazetteer.find(title)
    body_hits = k.gazetteer.find(lead)
    ai_context = bool(title_strong or body_strong or "AI" in title_weak)
    url_path = urlsplit(url).path.split("/")[1:2] if url else []
    ml_host = _host(url) in _ML_HOSTS and not (url_path and url_path[0] in _NOT_TOOL_PATHS)

    def counted(hits: Sequence[EntityHit], context: bool) -> list[EntityHit]:
        return [h for h in hits if not h.ambiguous or context]

    title_ai = [h for h in counted(title_hits, ai_context or bool(body_weak)) if h.entity.ai]
    body_ai = [h for h in counted(body_hits, ai_context) if h.entity.ai]
    is_ai, ai_reason = _decide_ai(
        title_strong=title_strong,
        title_weak=title_weak,
        body_strong=body_strong,
        title_ai_entities=[h for h in title_ai if not h.ambiguous],
        body_ai_entities=body_ai,
        words=words,
        ml_host=ml_host,
    )
    context = is_ai or ai_context
    title_entities = tuple(counted(title_hits, context))
    merged: dict[str, EntityHit] = {h.entity.slug: h for h in counted(body_hits, context)}
    for hit in title_entities:
        known = merged.get(hit.entity.slug)
        count = hit.count + (known.count if known else 0)
        merged[hit.entity.slug] = EntityHit(hit.entity, hit.alias, count, hit.ambiguous)
    entities = tuple(
        sorted(
            merged.values(),
            key=lambda h: (
                h.entity.slug not in {t.entity.slug for t in title_entities},
                h.entity.tier,
                -h.count,
            ),
        )
    )
    title_aliases = [hit.alias for hit in title_entities]
    subject = "" if title_aliases else unknown_subject(title)
    found_events = _events(title, lead, title_aliases or ([subject] if subject else []))
    research_hits = bool(k.events["research"].find(title)) or (ml_host and "papers" in url)
    howto = _hits_in(_HOWTO_PATTERN, f"{title}\n{lead[:600]}")
    code = _hits_in(_CODE_PATTERN, lead)
    kind = _kind(
        is_ai=is_ai,
        url=url,
        title=title,
        events=[kind for kind, _ in found_events],
        research_hits=research_hits,
        howto=howto,
    )
    facts = len(set(_NUMBER_FACT.findall(lead))) + len(merged) + len(body_strong)
    facts += min(10, len(set(_NAMED.findall(lead))) // 3)
    ai_terms = _sorted_terms({**body_strong, **title_strong})
    return Evidence(
        is_ai=is_ai,
        ai_reason=ai_reason,
        ai_terms=ai_terms,
        title_ai_terms=_sorted_terms(title_strong),
        entities=entities,
        title_entities=title_entities,
        events=tuple(kind for kind, _ in found_events),
        event_words=tuple(found_events),
        kind=kind,
        facts=facts,
        words=words,
        teaser=teaser,
        howto=howto,
        code=code,
        url=url,
        subject=subject,
    )


_MODEL_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_.-])([A-Za-z][A-Za-z]+-\d[A-Za-z0-9_.]*)(?![A-Za-z0-9_-])"
)


def story_keys(title: str, lead: str) -> tuple[str, ...]:
    """What story clustering compares: the named entities plus model-like names in the title
    ("Helix-2", "Qwen3-VL") that the gazetteer may not know yet, marked with '~'."""
    models = {f"~{m.lower()}" for m in _MODEL_TOKEN.findall(normalise(title))}
    return (*named_entities(title, lead), *sorted(models))


def named_entities(title: str, lead: str) -> tuple[str, ...]:
    """Entity slugs of a title and lead, cheaply, for story clustering at ingest: ambiguous
    names (Gemini, Llama) count only beside AI vocabulary."""
    k = knowledge()
    text = normalise(f"{title}\n{lead[:600]}")
    context = bool(k.strong.find(text)) or "AI" in k.weak.find(text)
    return tuple(hit.entity.slug for hit in k.gazetteer.find(text) if not hit.ambiguous or context)

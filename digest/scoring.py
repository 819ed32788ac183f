"""The rubric: four 1–5 scores with reasons, and importance as their weighted mean.

Both engines end here: the LLM's scores are clamped and weighted the same way, and the offline
engine scores from the editorial evidence of `digest.editorial` (AI or not, entities, events,
facts), so each reason names the entity, event or fact that earned it — never text mechanics.
The anchors (what 1, 3 and 5 mean per criterion) are shared with the LLM prompt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from digest.editorial import Evidence
from digest.models import RUBRIC_DIMENSIONS, DimensionScore, Scores

MIN_SCORE = 1
MAX_SCORE = 5
DEFAULT_NON_AI_MAX = 1

# What 1, 3 and 5 mean for each criterion (EDITORIAL.md), given verbatim to the LLM engine.
ANCHORS: dict[str, dict[int, str]] = {
    "depth": {
        1: "a headline or teaser with no detail (if a teaser's depth cannot be judged, say so)",
        3: "explains what happened with specifics (numbers, how it works, who)",
        5: "thorough: data or benchmarks, method, limitations",
    },
    "relevance": {
        1: "not about AI (every non-AI item is 1) or no news value",
        3: "a useful AI item of moderate interest to the readers",
        5: "everyone in AI should know it today (a frontier lab, landmark policy)",
    },
    "practicality": {
        1: "nothing a reader can use or act on",
        3: "informs a decision or can be tried with some effort",
        5: "usable today: a released model, tool, API or code with instructions",
    },
    "innovation": {
        1: "nothing new (a rehash, an opinion, a routine update)",
        3: "a meaningful improvement or a notable new product",
        5: "a first that changes the field",
    },
}
_MAJOR_EVENTS = frozenset({"ipo", "acquisition", "funding", "regulation", "open_weights"})
_LAUNCH_EVENTS = frozenset({"release", "open_weights", "market_entry"})
_EVENT_LABEL = {
    "ipo": "IPO",
    "acquisition": "acquisition",
    "regulation": "regulation",
    "funding": "funding",
    "open_weights": "open weights",
    "market_entry": "market entry",
    "release": "release",
    "benchmark": "benchmark result",
    "partnership": "partnership",
    "milestone": "milestone",
    "research": "research",
}


def clamp_score(value: float | Decimal) -> int:
    """Any number to an integer rubric score in 1–5 (half up)."""
    rounded = int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(MIN_SCORE, min(MAX_SCORE, rounded))


def importance(
    scores: Scores,
    weights: Mapping[str, float],
    *,
    is_ai: bool = True,
    non_ai_max: int = MAX_SCORE,
) -> int:
    """Weighted mean of the four scores, rounded half up and clamped: 5/4/3/3 → 4.1 → 4.

    A non-AI item never exceeds `non_ai_max`: an AI-news digest must not alert on a Hugo release.
    """
    total_weight = sum(weights.get(name, 0.0) for name in RUBRIC_DIMENSIONS)
    if total_weight <= 0:
        raise ValueError("rubric weights must not all be zero")
    values = scores.as_dict()
    weighted = sum(
        Decimal(str(weights.get(name, 0.0))) * int(values[name]["score"])
        for name in RUBRIC_DIMENSIONS
    )
    mean = clamp_score(weighted / Decimal(str(total_weight)))
    return mean if is_ai else min(mean, max(MIN_SCORE, non_ai_max))


@dataclass(frozen=True, slots=True)
class Context:
    """What the store knows beside the text: coverage, Hacker News reception, source trust."""

    source_count: int = 1
    points: int | None = None
    comments: int | None = None
    source_weight: float = 1.0
    interests: tuple[str, ...] = ()  # configured interests this item's headline matched


def _entity_phrase(evidence: Evidence) -> str:
    top = evidence.top_entity
    return top.entity.name if top else evidence.subject


def _event_phrase(evidence: Evidence) -> str:
    """'Anthropic + IPO', 'release of Gemma', or '' — the news in a few words."""
    event = evidence.event
    name = _entity_phrase(evidence)
    if not event:
        return ""
    label = _EVENT_LABEL.get(event, event)
    return f"{name} + {label}" if name else label


def _major(evidence: Evidence) -> bool:
    """A tier-1 entity with a launch or major business/policy event: the stuff of alerts."""
    top = evidence.top_entity
    return bool(
        top
        and top.entity.tier == 1
        and evidence.event in (_MAJOR_EVENTS | _LAUNCH_EVENTS)
        and (evidence.title_entities or evidence.event in _MAJOR_EVENTS)
    )


def _title_entity(evidence: Evidence, tiers: tuple[int, ...] = (1, 2)) -> str:
    """The best-tier entity the title itself names, or ''."""
    hits = [h for h in evidence.title_entities if h.entity.tier in tiers]
    return min(hits, key=lambda h: h.entity.tier).entity.name if hits else ""


def first_party_model(evidence: Evidence) -> str:
    """A model the title names next to its own maker ("nvidia/Nemotron-3-Nano", "Meta's SAM 3"):
    the maker publishing its model, not a third party's fine-tune or wrapper."""
    if "/datasets/" in evidence.url:
        return ""
    makers = {h.entity.slug for h in evidence.title_entities}
    for hit in evidence.title_entities:
        if hit.entity.type == "model" and hit.entity.owner in makers:
            return hit.entity.name
    return ""


def depth_score(evidence: Evidence) -> DimensionScore:
    """Information in the text (facts, figures, named things), not its length."""
    facts = evidence.facts
    if evidence.teaser:
        if _major(evidence):
            return DimensionScore(
                4,
                f"short announcement but concrete: {_event_phrase(evidence)}; full text requested",
            )
        named = _title_entity(evidence)
        concrete = (
            (evidence.event and (evidence.entities or evidence.subject))
            or (named and evidence.kind == "research")
            or first_party_model(evidence)
        )
        return DimensionScore(
            3 if concrete else 2,
            f"teaser only ({evidence.words} words): depth not judged, full text requested",
        )
    if facts >= 14 and evidence.words >= 500:
        score = 5
    elif facts >= 7 and evidence.words >= 250:
        score = 4
    elif facts >= 3 or evidence.words >= 150:
        score = 3
    elif facts >= 1:
        score = 2
    else:
        score = 1
    if _major(evidence) and score < 4:
        score = 4
    if not evidence.event and evidence.kind not in ("research", "tool") and score > 4:
        score = 4  # an essay's detail is not news detail: 5 is for reports of an event
    named = ", ".join(hit.entity.name for hit in evidence.entities[:3])
    detail = f"{facts} facts (figures, names, technical terms)"
    if named:
        detail += f" incl. {named}"
    if score == 1:
        return DimensionScore(1, "no concrete facts beyond the headline")
    return DimensionScore(score, detail)


def relevance_score(evidence: Evidence, context: Context) -> DimensionScore:
    """How central to AI news: the AI decision, who it is about, and how widely it travelled."""
    if not evidence.is_ai:
        return DimensionScore(1, f"not AI news: {evidence.ai_reason}")
    score = 3
    reasons = [f"AI: {evidence.ai_reason}"]
    major_name = _title_entity(evidence, (1,))
    notable_name = _title_entity(evidence, (2,))
    newsy = bool(evidence.event) or evidence.kind in ("tool", "research", "news")
    if major_name and newsy:
        score += 1
        reasons.append(f"about {major_name}")
    elif notable_name and (evidence.event or evidence.kind in ("tool", "research")):
        score += 1
        reasons.append(f"{notable_name} news")
    if _major(evidence) and evidence.event in _MAJOR_EVENTS:
        score += 1
        reasons.append(f"major event: {_event_phrase(evidence)}")
    if evidence.event == "market_entry":
        score += 1
        reasons.append("market entry (Japan)")
    wanted = list(context.interests)  # the caller passes the interests this item matched
    if wanted and newsy:
        score += 1
        reasons.append(f"matches interests {', '.join(wanted[:3])}")
    if context.source_count >= 3:
        score += 1
        reasons.append(f"covered by {context.source_count} sources")
    elif context.source_count == 2:
        reasons.append("covered by 2 sources")
    if context.points is not None and context.points >= 300:
        score += 1
        reasons.append(f"{context.points} HN points")
    elif context.comments is not None and context.comments >= 200:
        score += 1
        reasons.append(f"{context.comments} HN comments")
    if context.source_weight >= 1.5:
        score += 1
        reasons.append(f"trusted source (weight {context.source_weight:g})")
    elif context.source_weight <= 0.5:
        score -= 1
        reasons.append(f"low-weight source ({context.source_weight:g})")
    if not evidence.title_entities and not evidence.event and evidence.kind == "analysis":
        score -= 1
        reasons.append("commentary: no company, model or event in the headline")
    return DimensionScore(clamp_score(score), "; ".join(reasons))


def practicality_score(evidence: Evidence) -> DimensionScore:
    """Can a reader use it now: a release, a tool, code or steps to follow."""
    if not evidence.is_ai:
        return DimensionScore(1, "not AI news")
    event = evidence.event
    if evidence.kind == "tool":
        name = _entity_phrase(evidence) or "the project"
        return DimensionScore(4, f"usable now: {name} (repository, model or dataset page)")
    if event in _LAUNCH_EVENTS:
        score = 5 if _major(evidence) else 4
        return DimensionScore(score, f"usable now: {_event_phrase(evidence)}")
    if evidence.howto and evidence.code:
        return DimensionScore(3, f"hands-on: {evidence.howto[0]} with {evidence.code[0]}")
    if evidence.kind == "research":
        if evidence.code:
            return DimensionScore(3, f"research with material to try: {evidence.code[0]}")
        return DimensionScore(2, "research result; nothing to use yet")
    if _major(evidence) and event in _MAJOR_EVENTS:
        return DimensionScore(3, f"broad impact on the field: {_event_phrase(evidence)}")
    if event in _MAJOR_EVENTS or event == "partnership":
        return DimensionScore(2, f"business/policy news: {_event_phrase(evidence)}")
    return DimensionScore(2, "background reading")


def innovation_score(evidence: Evidence) -> DimensionScore:
    """What is new: a new model or result beats an update, which beats commentary."""
    if not evidence.is_ai:
        return DimensionScore(1, "not AI news")
    event = evidence.event
    top = evidence.top_entity
    model = next((h for h in evidence.entities if h.entity.type == "model"), None)
    new_model = bool(evidence.subject and evidence.title_ai_terms)
    if event in ("release", "open_weights") and (
        model or (top and top.entity.tier == 1) or new_model
    ):
        subject = model or top
        name = subject.entity.name if subject else ""
        score = 5 if _major(evidence) else 4
        return DimensionScore(score, f"new model or product: {name} {_EVENT_LABEL[event]}")
    if event == "benchmark":
        return DimensionScore(4, f"benchmark result ({evidence.event_word('benchmark')})")
    if _major(evidence) and event in _MAJOR_EVENTS:
        return DimensionScore(4, f"landmark: {_event_phrase(evidence)}")
    title_models = [h for h in evidence.title_entities if h.entity.type == "model"]
    if evidence.kind == "research" and (_title_entity(evidence, (1,)) or title_models):
        name = title_models[0].entity.name if title_models else _title_entity(evidence, (1,))
        return DimensionScore(5, f"new model research: {name}")
    if evidence.kind == "research":
        return DimensionScore(4, "new research result")
    if event in _LAUNCH_EVENTS:
        return DimensionScore(3, f"new: {_event_phrase(evidence)}")
    if event:
        return DimensionScore(3, f"development: {_event_phrase(evidence)}")
    if evidence.kind == "tool":
        maker_model = first_party_model(evidence)
        if maker_model:
            return DimensionScore(4, f"new model published by its maker: {maker_model}")
        return DimensionScore(3, "new or trending tool")
    return DimensionScore(2, "commentary or explainer; no new result")


def rubric(evidence: Evidence, context: Context) -> Scores:
    """The four criteria from one reading of the item."""
    return Scores(
        depth=depth_score(evidence),
        relevance=relevance_score(evidence, context),
        practicality=practicality_score(evidence),
        innovation=innovation_score(evidence),
    )


def anchors_text(dimensions: Sequence[str] = RUBRIC_DIMENSIONS) -> str:
    """The anchors as prompt lines: '- depth: 1 = …; 3 = …; 5 = …'."""
    return "\n".join(
        f"- {name}: " + "; ".join(f"{level} = {text}" for level, text in ANCHORS[name].items())
        for name in dimensions
    )

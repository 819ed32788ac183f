"""Lexicon and gazetteer matching: word boundaries, scripts, aliases, ambiguity."""

from __future__ import annotations

import pytest

from digest.editorial import read_item
from digest.knowledge import knowledge


@pytest.mark.parametrize(
    "text",
    [
        "Pay in one installment at the hallmark store",  # 'llm' inside words
        "Efficient decoding of video streams",  # 'coding' inside 'decoding'
        "The rag was wet and the gan was loud",  # lower-case RAG/GAN are other words
    ],
)
def test_no_substring_matches(text: str) -> None:
    k = knowledge()
    assert k.strong.find(text) == {}
    assert read_item(text, text * 3).is_ai is False


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Fine-tuning LLMs on a laptop", "llms"),
        ("生成AIの業務活用が進む", "生成AI"),
        ("大規模言語モデルを公開", "大規模言語モデル"),
        ("人工智能和大模型的发展", "人工智能"),
        ("ＬＬＭ と生成ＡＩ", "生成AI"),  # full-width folds to the same term
        ("Using RAG with a vector database", "RAG"),
    ],
)
def test_terms_match_across_scripts(text: str, term: str) -> None:
    assert term in knowledge().strong.find(text)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("OpenAI ships a new model", "openai"),
        ("オープンAIが新モデル", "openai"),
        ("アンソロピックの発表", "anthropic"),
        ("Anthropic's Claude Opus 4", "claude"),
        ("Kimi K2 from 月之暗面", "moonshot"),
        ("Chinese AI Kimi may enter Japan", "kimi"),
        ("Google releases Gemma 3", "gemma"),
        ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "nemotron"),
        ("facebookresearch / sam3", "meta"),
    ],
)
def test_gazetteer_aliases(text: str, slug: str) -> None:
    assert slug in {hit.entity.slug for hit in knowledge().gazetteer.find(text)}


def test_ambiguous_names_need_ai_context() -> None:
    game = read_item("Gemini: Binary Conflict", "An online shooter game with anti-cheat support.")
    assert "gemini" not in game.entity_slugs
    assert not game.is_ai
    model = read_item(
        "Gemini gets faster", "Google's Gemini large language model now answers in 1s."
    )
    assert "gemini" in model.entity_slugs
    assert model.is_ai


def test_case_sensitive_aliases() -> None:
    found = {
        hit.entity.slug for hit in knowledge().gazetteer.find("A meta-analysis of apple trees")
    }
    assert "meta" not in found and "apple" not in found


def test_lookup_by_any_alias() -> None:
    gazetteer = knowledge().gazetteer
    for name in ("OpenAI", "openai", "オープンAI"):
        entity = gazetteer.by_name(name)
        assert entity is not None and entity.slug == "openai"


def test_slopstop_gets_an_ai_reading() -> None:
    """The seed's complaint: "Introducing SlopStop: AI slop detection" got no tag."""
    evidence = read_item(
        "Introducing SlopStop: AI slop detection",
        "Kagi launches SlopStop, which flags AI-generated slop pages in search results.",
    )
    assert evidence.is_ai
    assert "ai slop" in evidence.ai_terms or "ai-generated" in evidence.ai_terms

"""Sentence splitting, keywords, truncation, summaries and chunking (table-driven, pure)."""

from __future__ import annotations

import pytest

from digest.text import (
    TLDR_MAX_CHARS,
    chunk_paragraphs,
    extractive_summary,
    guess_lang,
    join_sentences,
    keyword_tags,
    split_paragraphs,
    split_sentences,
    tokens,
    truncate,
    word_count,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("Dr. Smith met Mr. Jones. They left.", ["Dr. Smith met Mr. Jones.", "They left."]),
        ("It costs 3.14 dollars. Cheap.", ["It costs 3.14 dollars.", "Cheap."]),
        ("Use node.js and e.g. Deno here.", ["Use node.js and e.g. Deno here."]),
        ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("no terminator at the end", ["no terminator at the end"]),
        ("Line one\nLine two", ["Line one", "Line two"]),
        ("今日は晴れ。明日は雨！本当？", ["今日は晴れ。", "明日は雨！", "本当？"]),
        ("「本当？ウソ？」と聞いた。はい。", ["「本当？ウソ？」と聞いた。", "はい。"]),
        ("「はい。」彼は言った。", ["「はい。」", "彼は言った。"]),
        ("GPT-5を発表した。性能は2倍。", ["GPT-5を発表した。", "性能は2倍。"]),
        (
            "Mixed text. 日本語の文。English again.",
            ["Mixed text.", "日本語の文。", "English again."],
        ),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("OpenAI released a model.", "en"),
        ("生成AIの新しいモデルを発表した。", "ja"),
        ("人工智能模型发布了新的版本，性能大幅提升，研究人员表示非常满意。", "zh"),
        ("새로운 모델을 발표했다", "ko"),
    ],
)
def test_guess_lang(text: str, lang: str) -> None:
    assert guess_lang(text) == lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The new GPT-4o model", ["gpt-4o", "model"]),
        ("C++ and node.js", ["c++", "node.js"]),
        ("生成AIのエージェント", ["生成", "ai", "エージェント"]),
        ("the and of 2026", []),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("the quick brown fox jumps", 15, "the quick…"),
        ("日本語の長い文章です", 6, "日本語の長…"),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_word_count_counts_cjk_as_half_words() -> None:
    assert word_count("two words") == 2
    assert word_count("日本語です") == 2


def test_join_sentences_spaces_only_latin() -> None:
    assert join_sentences(["One.", "Two."]) == "One. Two."
    assert join_sentences(["一。", "二。"]) == "一。二。"


def test_summary_of_a_long_english_article() -> None:
    subjects = ["tokenizers", "planners", "retrievers", "evaluators", "routers", "caches", "judges"]
    verbs = ["shrink", "reorder", "filter", "score", "batch", "verify", "explain"]
    text = "\n\n".join(
        f"Language model agents use {subjects[i % 7]} that {verbs[(i * 3) % 7]} "
        f"{subjects[(i + 2) % 7]} before step {i} of the {verbs[i % 7]} loop."
        for i in range(20)
    )
    tldr, points = extractive_summary(text, title="Language models and agents")
    assert 0 < len(tldr) <= TLDR_MAX_CHARS
    assert 3 <= len(points) <= 7
    assert all(point in text for point in points)
    assert not any(point in tldr for point in points)


def test_key_points_never_repeat_the_tldr_or_title() -> None:
    text = (
        "OpenAI released GPT-5 today. OpenAI released GPT-5 today for everyone. "
        "It scores 90% on SWE-bench. Pricing starts at $2 per million tokens. "
        "The model is available in the API."
    )
    tldr, points = extractive_summary(text, title="OpenAI releases GPT-5")
    assert points
    for point in points:
        assert point not in tldr
        assert "released GPT-5" not in point


def test_latex_and_code_never_become_summary_or_points() -> None:
    text = (
        "Scaling laws predict loss from compute. "
        "The loss is $$L(N) = \\frac{A}{N^{\\alpha}}$$ for model size N. "
        "import torch. "
        "def train(model): return model.fit(data); "
        "Larger models reach lower loss with the same data budget. "
        "Data quality still matters more than expected."
    )
    tldr, points = extractive_summary(text, title="Scaling laws")
    for line in (tldr, *points):
        assert "frac" not in line and "import torch" not in line and "def train" not in line


def test_a_two_sentence_teaser_gets_no_padding_from_its_own_title() -> None:
    """Key points never repeat the TL;DR or the title (EDITORIAL.md), so a teaser whose TL;DR
    is all it has gets no made-up points rather than its title again."""
    text = (
        "人は生涯スマートフォンを使い続けることができるのだろうか？"
        "加齢による衰えで、操作が難しくなる。"
    )
    tldr, points = extractive_summary(text, title="スマホリタイア")
    assert tldr
    assert "スマホリタイア" not in points
    assert not any(point in tldr for point in points)


def test_summary_of_empty_text_uses_the_title_once() -> None:
    assert extractive_summary("", title="Only a title") == ("Only a title", ())


def test_summary_never_exceeds_the_limit_with_one_huge_sentence() -> None:
    tldr, _ = extractive_summary("word " * 500 + ".")
    assert len(tldr) <= TLDR_MAX_CHARS


def test_keyword_tags_skip_numbers_and_title_only_terms() -> None:
    content = "FreeToken runs MoE models. FreeToken caches experts. MoE on 5090. 5090 again."
    tags = keyword_tags(content, "FreeToken review | Zennのトレンド")
    assert tags[0] == "freetoken"
    assert "moe" in tags
    assert not any(tag[0].isdigit() for tag in tags)
    assert "zenn" not in tags


@pytest.mark.parametrize("limit", [200, 500, 1000])
def test_chunks_respect_the_limit_and_keep_order(limit: int) -> None:
    paragraphs = [f"Paragraph {i}. " + "Some words here. " * (i * 7 % 40 + 1) for i in range(30)]
    chunks = chunk_paragraphs(paragraphs, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    rejoined = " ".join(" ".join(split_paragraphs(chunk)) for chunk in chunks)
    assert rejoined.split() == " ".join(paragraphs).split()


def test_chunk_splits_an_overlong_sentence() -> None:
    chunks = chunk_paragraphs(["x" * 450], 200)
    assert [len(c) for c in chunks] == [200, 200, 50]

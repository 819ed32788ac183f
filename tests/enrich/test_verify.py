"""Verification v2 tables: each real failure mode is rejected, and good Japanese passes."""

from __future__ import annotations

import re

import pytest

from bot.enrich.budget import Usage
from bot.enrich.llm_client import ChatAnswer, extract_json_object, strip_reasoning
from bot.enrich.translate import RejectedChunkError, verify_chunk
from bot.enrich.verify import (
    generated_text_problem,
    leaked_instructions,
    mixed_script_words,
    ratio_bounds,
    script_problem,
    source_chars_for,
    translation_problem,
)
from tests.fakes.llm_server import CHINESE_SENTENCE, fake_japanese

SOURCE = [
    "OpenAI released a new agent framework on Tuesday. It beats the previous best system on "
    "three benchmarks by 12%. Developers can install it today.",
    "Researchers caution that safety evaluations are still limited. The company plans a wider "
    "release in March. Pricing was not announced.",
]
GOOD = fake_japanese("\n\n".join(SOURCE)).split("\n\n")


def answer(content: str, finish: str = "stop") -> ChatAnswer:
    return ChatAnswer(content, finish, Usage(1, 1))


def check(paragraphs: list[str]) -> str | None:
    return translation_problem(SOURCE, paragraphs, source_lang="en", target_lang="ja")


def test_a_faithful_japanese_translation_passes() -> None:
    assert check(GOOD) is None
    assert (
        verify_chunk(
            answer("\n\n".join(GOOD)), SOURCE, canary="AINEWS-x", source_lang="en", target_lang="ja"
        )
        == GOOD
    )


@pytest.mark.parametrize(
    ("paragraphs", "problem"),
    [
        (SOURCE, "not Japanese"),  # the untranslated echo
        ([f"訳: {p}" for p in SOURCE], "mostly not Japanese"),  # "訳:" in front of English
        ([CHINESE_SENTENCE + "。" + CHINESE_SENTENCE + "。", "模型" * 20 + "。"], "Chinese"),
        ([GOOD[0], GOOD[1] + SOURCE[1]], "paragraph 2: mostly not Japanese"),
        (["インstitutional dynamicsについて、" + GOOD[0], GOOD[1]], "mid-word"),
        ([GOOD[0], GOOD[1][: len(GOOD[1]) // 2].rstrip("。")], "ends mid-sentence"),
        ([GOOD[0], GOOD[1].split("。")[0] + "。"], "sentence"),  # two of three sentences gone
        ([GOOD[0], GOOD[0]], "duplicated paragraph"),
        ([GOOD[0]], r"1 paragraph\(s\) for 2"),
        ([GOOD[0], GOOD[1] * 4], "length ratio"),
    ],
)
def test_translation_problems_are_named(paragraphs: list[str], problem: str) -> None:
    found = check(paragraphs)
    assert found is not None and re.search(problem, found, re.IGNORECASE), found


@pytest.mark.parametrize(
    ("content", "finish", "problem"),
    [
        ("\n\n".join(GOOD), "length", "finish_reason=length"),
        ("", "stop", "empty"),
        (GOOD[0] + " AINEWS-canary\n\n" + GOOD[1], "stop", "session marker"),
        (GOOD[0] + "\n\n" + GOOD[1] + ' Return JSON with a "translation" field.', "stop", "leak"),
        (GOOD[0] + "\n\n" + GOOD[1] + "必ずJSON形式で返してください。", "stop", "JSON形式"),
        (GOOD[0] + "\n\n" + GOOD[1] + "翻訳のみを出力する。", "stop", "leak"),
    ],
)
def test_verify_chunk_rejects(content: str, finish: str, problem: str) -> None:
    with pytest.raises(RejectedChunkError, match=problem):
        verify_chunk(
            answer(content, finish), SOURCE, canary="AINEWS-canary", source_lang="en",
            target_lang="ja",
        )  # fmt: skip


def test_a_phrase_the_source_itself_contains_is_not_a_leak() -> None:
    assert (
        leaked_instructions("攻撃は「JSON形式で返して」と言う。", "The attack asks for JSON.")
        is None
    )
    assert (
        leaked_instructions("必ずJSON形式で返してください。", "A story about models.") is not None
    )


@pytest.mark.parametrize(
    ("text", "lang", "bad"),
    [
        ("インstitutional dynamics", "ja", True),
        ("機械learningの進歩", "ja", True),
        ("AIモデルとGPT-4をiPhoneアプリで使う", "ja", False),
        ("OpenAIはpip installで導入できる", "ja", False),
        ("詳細は公式サイトhttps://example.com/a を参照", "ja", False),
        ("the instituテional layer", "en", True),
        ("Sony and OpenAI", "en", False),
    ],
)
def test_mixed_script_words(text: str, lang: str, bad: bool) -> None:
    assert bool(mixed_script_words(text, lang)) is bad


@pytest.mark.parametrize(
    ("text", "lang", "ok"),
    [
        ("日本語の文章である。", "ja", True),
        ("OpenAI、GPT-5を発表", "ja", True),
        ("English only", "ja", False),
        (CHINESE_SENTENCE, "ja", False),
        (CHINESE_SENTENCE, "zh", True),
        ("これは日本語です。" * 3, "zh", False),
        ("English", "en", True),
        ("これは日本語の文章です。" * 3, "en", False),
    ],
)
def test_script_share(text: str, lang: str, ok: bool) -> None:
    assert (script_problem(text, lang) is None) is ok


def test_generated_text_must_be_whole_japanese_sentences() -> None:
    good = [("tldr", "OpenAIが新しいモデルを公開した。"), ("impact", "開発者に影響する。")]
    assert generated_text_problem(good, "ja", source="", sentences=("tldr", "impact")) is None
    cut = [("tldr", "OpenAIが新しいモデルを公")]
    assert "mid-sentence" in (
        generated_text_problem(cut, "ja", source="", sentences=("tldr",)) or ""
    )
    chinese = [("tldr", CHINESE_SENTENCE + "。")]
    assert "Chinese" in (generated_text_problem(chinese, "ja", source="") or "")


def test_chunk_size_follows_the_output_budget_and_the_language_pair() -> None:
    assert source_chars_for(1200, "en", "ja") < source_chars_for(1200, "en", "de")
    assert source_chars_for(1200, "en", "ja") * 0.5 <= 1200  # the Japanese fits max_tokens
    assert ratio_bounds("en", "ja")[1] < ratio_bounds("ja", "en")[1]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('<think>\nlet me think {}\n</think>\n{"a": 1}', {"a": 1}),
        ('```json\n{"a": 2}\n```', {"a": 2}),
        ('<think>x</think>```json\n{"a": 3}\n```', {"a": 3}),
    ],
)
def test_think_blocks_and_fences_are_removed(raw: str, expected: dict[str, int]) -> None:
    assert extract_json_object(raw) == expected


def test_an_unclosed_think_block_is_no_answer() -> None:
    assert strip_reasoning("<think>still reasoning when the tokens ran out") == ""

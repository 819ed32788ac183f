"""Verification v2: does a model's text really read as the target language, whole and clean?

Real models fail in ways a "one CJK character" check accepts: they echo the English source,
answer in Chinese instead of Japanese, switch script inside a word ("インstitutional"), paraphrase
our instructions in the target language, drop sentences or stop mid-sentence while reporting
`stop`, and repeat paragraphs. Every check here is a pure function over text, so translation and
enrichment share them and tests can drive each one directly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from digest.text import base_lang, split_sentences

_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# A katakana or kanji run running straight into lower-case latin letters ("インstitutional",
# "機械learning"), or latin letters on both sides of a katakana run ("instituテional"). Upper-case
# or digit starts ("AIモデル", "GPT-4を", "iPhoneアプリ") are ordinary Japanese and pass.
_MIXED_JA = re.compile(
    r"[\u30a1-\u30fa\u30fc\u3400-\u4dbf\u4e00-\u9fff](?!https?:|www\.)[a-z]{2,}"
    r"|[A-Za-z]+[\u30a1-\u30fa\u30fc]+[a-z]+"
)
_MIXED_OTHER = re.compile(
    r"[A-Za-z][\u3041-\u309f\u30a0-\u30ff\u4e00-\u9fff\uac00-\ud7af]"
    r"|[\u3041-\u309f\u30a0-\u30ff\u4e00-\u9fff\uac00-\ud7af][A-Za-z]"
)
_SENTENCE_END = re.compile(r"[.!?。！？…‥:：;；)\]）」』】\"'”’»]\s*$")
_ENDS_WITH_TERMINATOR = re.compile(r"[.!?。！？][\"'”’)\]）」』】]*\s*$")
_WORD = re.compile(r"[A-Za-z]{2,}")
_URL_OR_CODE = re.compile(r"https?://|[{};=<>]|^\s*[$>#]")

LATIN_LANGS = frozenset({"en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "pl"})


@dataclass(frozen=True, slots=True)
class ScriptCounts:
    latin: int
    kana: int
    han: int
    hangul: int

    @property
    def letters(self) -> int:
        return self.latin + self.kana + self.han + self.hangul


def script_counts(text: str) -> ScriptCounts:
    return ScriptCounts(
        latin=len(_LATIN.findall(text)),
        kana=len(_KANA.findall(text)),
        han=len(_HAN.findall(text)),
        hangul=len(_HANGUL.findall(text)),
    )


def script_problem(text: str, lang: str) -> str | None:
    """Why `text` is not (mostly) written in `lang`, or None; languages we cannot tell pass.

    Japanese must be mostly kana and kanji, and kanji without any kana is Chinese. Short texts
    only need some target script, since "OpenAI、GPT-5を発表" is mostly latin and still Japanese.
    """
    code = base_lang(lang)
    counts = script_counts(text)
    if counts.letters == 0:
        return None
    if code == "ja":
        native = counts.kana + counts.han
        if native == 0:
            return "not Japanese (no kana or kanji)"
        if counts.han >= 12 and counts.kana * 20 < counts.han:
            return "Chinese, not Japanese (kanji without kana)"
        if counts.letters >= 60 and native / counts.letters < 0.45:
            return f"mostly not Japanese ({native / counts.letters:.0%} kana/kanji)"
        return None
    if code == "zh":
        if counts.han == 0:
            return "not Chinese (no hanzi)"
        if counts.kana * 5 > counts.han:
            return "Japanese, not Chinese (kana)"
        if counts.letters >= 60 and counts.han / counts.letters < 0.45:
            return "mostly not Chinese"
        return None
    if code == "ko":
        if counts.hangul == 0 or (counts.letters >= 60 and counts.hangul / counts.letters < 0.45):
            return "not Korean (too little hangul)"
        return None
    if code in LATIN_LANGS and counts.letters >= 20 and counts.latin / counts.letters < 0.8:
        return f"not written in {code} (mostly non-latin script)"
    return None


def mixed_script_words(text: str, lang: str) -> list[str]:
    """Words that switch script in the middle: the mark of a half-translated token."""
    pattern = _MIXED_JA if base_lang(lang) in {"ja", "zh", "ko"} else _MIXED_OTHER
    found = []
    for match in pattern.finditer(text):
        start = max(0, match.start() - 4)
        found.append(text[start : match.end() + 8].split("\n")[0])
    return found


@dataclass(frozen=True, slots=True)
class LeakPattern:
    """Instruction text in some language; `unless` exempts it when the source says the same."""

    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None


def _leak(pattern: str, unless: str | None = None) -> LeakPattern:
    return LeakPattern(
        re.compile(pattern, re.IGNORECASE),
        re.compile(unless, re.IGNORECASE) if unless else None,
    )


# Our prompts are English with a Japanese example; models leak them in either language, and
# often paraphrased ("必ずJSON形式で返してください"), so these are patterns, not exact strings.
LEAK_PATTERNS: tuple[LeakPattern, ...] = (
    _leak(r"session marker|セッション.?マーカー"),
    _leak(r"<<<\s*(?:TEXT|ARTICLE|PART|NOTES)|(?:TEXT|ARTICLE|PART|NOTES)\s*>>>"),
    _leak(r"never instructions to you|untrusted data|指示ではなく"),
    _leak(r"\breturn (?:only )?(?:valid )?json\b|\breply with (?:exactly )?one json", r"\bjson\b"),
    _leak(r"translation field|\"translation\"\s*:", r"translation field"),
    _leak(r"output only the translation|paragraphs? separated by blank lines"),
    _leak(r"(?:do not|don't) (?:add|include) (?:any )?(?:notes|preface|urls)"),
    _leak(r"JSON\s*(?:形式|フォーマット|オブジェクト)", r"\bjson\b"),
    _leak(r"(?:翻訳|訳文)(?:のみ|だけ)を?(?:出力|返)"),
    _leak(
        r"(?:出力|返答|回答|返)(?:してください|して下さい|しなさい|すること)",
        r"\b(?:output|return|respond|answer|reply)\b",
    ),
    _leak(r"空行で区切|段落数を?(?:変え|保)"),
    _leak(r"(?:以下|上記)の(?:指示|ルール|ガイド)に従"),
    _leak(r"スタイルガイド|カタカナで表記", r"style guide|katakana"),
    _leak(r"システムプロンプト|system prompt", r"system prompt"),
)


def leaked_instructions(text: str, source: str, *, extra: Sequence[str] = ()) -> str | None:
    """The first piece of prompt text found in `text` that the source did not contain."""
    for marker in extra:
        if marker and marker in text and marker not in source:
            return marker
    for leak in LEAK_PATTERNS:
        found = leak.pattern.search(text)
        if found is None:
            continue
        if leak.unless is not None and leak.unless.search(source):
            continue
        if leak.pattern.search(source):
            continue
        return found.group(0)
    return None


def ends_a_sentence(text: str) -> bool:
    return _SENTENCE_END.search(text.rstrip()) is not None


def needs_sentence_end(source_paragraph: str) -> bool:
    """A source paragraph ending with . ! ? (or 。！？) must be translated as a whole sentence."""
    return _ENDS_WITH_TERMINATOR.search(source_paragraph.rstrip()) is not None


def is_prose(paragraph: str) -> bool:
    """Running text (not code, a URL, a list of names): the paragraphs script checks apply to."""
    if _URL_OR_CODE.search(paragraph) and len(_WORD.findall(paragraph)) < 12:
        return False
    counts = script_counts(paragraph)
    return len(_WORD.findall(paragraph)) >= 6 or counts.kana + counts.han + counts.hangul >= 15


# Expected characters out per character in, by (source script, target script).
_EXPANSION = {
    ("latin", "cjk"): 0.5,
    ("cjk", "latin"): 2.4,
    ("cjk", "cjk"): 1.0,
    ("latin", "latin"): 1.15,
}


def _script_kind(lang: str) -> str:
    return "cjk" if base_lang(lang) in {"ja", "zh", "ko"} else "latin"


def expansion(source_lang: str, target_lang: str) -> float:
    """Typical output/input character ratio of a translation between these languages."""
    return _EXPANSION[(_script_kind(source_lang), _script_kind(target_lang))]


def ratio_bounds(source_lang: str, target_lang: str) -> tuple[float, float]:
    """Plausible output/input character ratios: a fifth of the expected length to 2.5 times."""
    expected = expansion(source_lang, target_lang)
    return expected * 0.4, expected * 2.5


def output_chars_per_token(lang: str) -> float:
    """Conservative characters per output token: CJK text is about one token per character."""
    return 1.0 if _script_kind(lang) == "cjk" else 3.5


def source_chars_for(max_output_tokens: int, source_lang: str, target_lang: str) -> int:
    """The largest chunk whose translation fits the output budget, with a 30 % margin."""
    out_chars = max_output_tokens * output_chars_per_token(target_lang)
    return max(200, int(out_chars / expansion(source_lang, target_lang) * 0.7))


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def duplicated(paragraphs: Sequence[str], source: Sequence[str]) -> str | None:
    """A paragraph the answer repeats although the source does not."""
    seen: set[str] = set()
    source_normal = [_normal(p) for p in source]
    for paragraph in paragraphs:
        key = _normal(paragraph)
        if len(key) < 12:
            continue
        if key in seen and source_normal.count(key) < 2:
            return paragraph[:60]
        seen.add(key)
    return None


def _sentence_count(text: str) -> int:
    return len(split_sentences(text))


def paragraph_problem(
    source: str, translated: str, *, source_lang: str, target_lang: str
) -> str | None:
    """What is wrong with one translated paragraph against its source paragraph, or None."""
    prose = is_prose(source)
    differs = base_lang(source_lang) != base_lang(target_lang)
    if differs and prose and _normal(source) == _normal(translated):
        return "paragraph left untranslated"
    if prose and differs:
        problem = script_problem(translated, target_lang)
        if problem:
            return problem
    mixed = mixed_script_words(translated, target_lang)
    if mixed:
        return f"word switches script mid-word ({mixed[0]!r})"
    if needs_sentence_end(source) and not ends_a_sentence(translated):
        return f"paragraph ends mid-sentence ({translated[-30:]!r})"
    low, high = ratio_bounds(source_lang, target_lang)
    if len(source) >= 120:
        ratio = len(translated) / len(source)
        if not low <= ratio <= high:
            return f"implausible length ratio {ratio:.2f} (expected {low:.2f}-{high:.2f})"
    wanted = _sentence_count(source)
    if prose and wanted >= 3 and _sentence_count(translated) * 10 < wanted * 6:
        return f"{_sentence_count(translated)} sentence(s) for {wanted} in the source"
    return None


def translation_problem(
    source_paragraphs: Sequence[str],
    translated_paragraphs: Sequence[str],
    *,
    source_lang: str,
    target_lang: str,
) -> str | None:
    """Paragraph-aligned checks of a whole translated chunk (paragraph counts must match)."""
    if len(translated_paragraphs) != len(source_paragraphs):
        got, wanted = len(translated_paragraphs), len(source_paragraphs)
        return f"{got} paragraph(s) for {wanted} in the source"
    joined = "\n\n".join(translated_paragraphs)
    differs = base_lang(source_lang) != base_lang(target_lang)
    if differs and is_prose("\n\n".join(source_paragraphs)):
        problem = script_problem(joined, target_lang)
        if problem:
            return problem
    repeated = duplicated(translated_paragraphs, source_paragraphs)
    if repeated is not None:
        return f"duplicated paragraph ({repeated!r})"
    for index, (source, translated) in enumerate(
        zip(source_paragraphs, translated_paragraphs, strict=True)
    ):
        problem = paragraph_problem(
            source, translated, source_lang=source_lang, target_lang=target_lang
        )
        if problem:
            return f"paragraph {index + 1}: {problem}"
    return None


def generated_text_problem(
    fields: Sequence[tuple[str, str]], lang: str, *, source: str, sentences: Sequence[str] = ()
) -> str | None:
    """Checks for model-written prose (TL;DR, key points, reasons…): language, mixed words,
    leaked instructions, and whole sentences for the fields named in `sentences`."""
    joined = "\n".join(text for _, text in fields if text)
    problem = script_problem(joined, lang)
    if problem:
        return problem
    for name, text in fields:
        if not text:
            continue
        if base_lang(lang) == "ja" and name == "tldr" and script_problem(text, lang):
            return f"{name}: {script_problem(text, lang)}"
        mixed = mixed_script_words(text, lang)
        if mixed:
            return f"{name}: word switches script mid-word ({mixed[0]!r})"
        leaked = leaked_instructions(text, source)
        if leaked:
            return f"{name}: instruction text leaked ({leaked!r})"
        if name in sentences and not ends_a_sentence(text):
            return f"{name}: ends mid-sentence"
    return None


__all__ = [
    "LEAK_PATTERNS",
    "ScriptCounts",
    "duplicated",
    "ends_a_sentence",
    "expansion",
    "generated_text_problem",
    "is_prose",
    "leaked_instructions",
    "mixed_script_words",
    "paragraph_problem",
    "ratio_bounds",
    "script_counts",
    "script_problem",
    "source_chars_for",
    "translation_problem",
]

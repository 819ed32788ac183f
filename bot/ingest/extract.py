"""Full text, language and reading time of an article.

trafilatura runs off the event loop (it is CPU-bound lxml work) — in the process pool of
`bot.cpu` when the service runs one, else in a worker thread — so the loop keeps polling other
feeds and answering commands; language detection uses a fixed seed so the same text always
gets the same answer.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from bot.cpu import cpu_pool_running, run_cpu

__all__ = [
    "MODEL_LANGS",
    "TEASER_CHARS",
    "PageText",
    "detect_lang",
    "extract_page",
    "is_teaser",
    "reading_minutes",
    "script_lang",
]

TEASER_CHARS = 500
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_MAX_HTML = 5 * 1024 * 1024


# Scripts that, among the languages langdetect knows, one language alone is written in: the
# script decides, and those profiles are never loaded.
_ONE_LANGUAGE_SCRIPTS = tuple(
    (re.compile(pattern), lang)
    for pattern, lang in (
        (r"[\u0370-\u03ff]", "el"),
        (r"[\u0590-\u05ff]", "he"),
        (r"[\u0e00-\u0e7f]", "th"),
        (r"[\u0980-\u09ff]", "bn"),
        (r"[\u0a00-\u0a7f]", "pa"),
        (r"[\u0a80-\u0aff]", "gu"),
        (r"[\u0b80-\u0bff]", "ta"),
        (r"[\u0c00-\u0c7f]", "te"),
        (r"[\u0c80-\u0cff]", "kn"),
        (r"[\u0d00-\u0d7f]", "ml"),
    )
)
_ANY_ONE_LANGUAGE_SCRIPT = re.compile(
    "|".join(pattern.pattern for pattern, _ in _ONE_LANGUAGE_SCRIPTS)
)
_LETTER = re.compile(r"[^\W\d_]")
# What langdetect's model still decides: the languages that share a script (Latin, Cyrillic,
# Arabic, Devanagari). Its 55 profiles take ~65 MB in every process that loads them; these
# take ~20 MB, and fewer candidates make each answer cheaper.
MODEL_LANGS = (
    "af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it",
    "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr",
    "vi", "bg", "mk", "ru", "uk", "ar", "fa", "ur", "hi", "mr", "ne",
)  # fmt: skip


def is_teaser(content: str) -> bool:
    """A feed item whose text is too short to summarise on its own."""
    return len(content) < TEASER_CHARS


def script_lang(sample: str) -> str:
    """ja/ko/zh from the script alone: langdetect is unreliable on short CJK text."""
    if sample.isascii() or not _CJK.search(sample):  # one scan for the usual answer, ''
        return ""
    if _KANA.search(sample):
        return "ja"
    if _HANGUL.search(sample):
        return "ko"
    if _HAN.search(sample):
        return "zh"
    return ""


# Frequent English function words: a sample full of them is English without asking langdetect,
# whose random-walk detection costs about 10 ms a call.
_ENGLISH = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "for",
        "on",
        "with",
        "that",
        "this",
        "by",
        "from",
        "at",
        "as",
        "are",
        "be",
        "it",
        "an",
        "or",
        "was",
        "how",
        "your",
        "you",
        "we",
        "our",
        "new",
        "will",
        "can",
    ]
)
_WORDS = re.compile(r"[a-z']+")


def one_script_lang(sample: str) -> str:
    """el/he/th and the Indic scripts of one language, when most letters are in that script."""
    if sample.isascii() or not _ANY_ONE_LANGUAGE_SCRIPT.search(sample):  # one scan, usually
        return ""
    letters = len(_LETTER.findall(sample))
    for pattern, lang in _ONE_LANGUAGE_SCRIPTS:
        if letters and len(pattern.findall(sample)) * 2 > letters:
            return lang
    return ""


@cache
def _model() -> DetectorFactory:
    """langdetect's model over MODEL_LANGS, loaded once per process on first need."""
    factory = DetectorFactory()
    factory.seed = 0  # the same text always gets the same answer
    directory = Path(PROFILES_DIRECTORY)
    factory.load_json_profile(
        [(directory / lang).read_text(encoding="utf-8") for lang in MODEL_LANGS]
    )
    return factory


def _model_lang(sample: str) -> str:
    detector = _model().create()
    detector.append(sample)
    return str(detector.detect())


def _clearly_english(sample: str) -> bool:
    words = _WORDS.findall(sample.lower())
    return len(words) >= 8 and sum(w in _ENGLISH for w in words) / len(words) >= 0.12


def detect_lang(text: str) -> str:
    """The language of a text by script, common English words or langdetect; '' when unsure."""
    sample = text[:1000]
    by_script = script_lang(sample) or one_script_lang(sample)
    if by_script:
        return by_script
    if len(sample.strip()) < 20:
        return ""
    if _clearly_english(sample):
        return "en"
    try:
        return _model_lang(sample).split("-")[0]
    except LangDetectException:
        return ""


def reading_minutes(text: str) -> int:
    """Minutes to read: 220 words a minute, or 500 characters a minute for CJK text."""
    # ASCII text has no CJK characters to count (most feeds): words alone decide.
    cjk = 0 if text.isascii() else len(_CJK.findall(text))  # counted in C
    minutes = len(text) / 500 if cjk > len(text) / 3 else len(text.split()) / 220
    return max(1, round(minutes))


@dataclass(frozen=True, slots=True)
class PageText:
    """What trafilatura found on a page: title, main text (plain) and date text, each maybe ''."""

    title: str
    text: str
    date: str


def _extract(html: bytes, url: str) -> PageText:
    import trafilatura  # heavy import, needed only when a page is fetched

    document = trafilatura.bare_extraction(
        html[:_MAX_HTML],
        url=url,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        with_metadata=True,
    )
    if document is None or isinstance(document, dict):
        return PageText("", "", "")
    return PageText(
        title=str(document.title or ""),
        text=str(document.text or ""),
        date=str(document.date or ""),
    )


async def extract_page(html: bytes, url: str) -> PageText:
    """Main text and metadata of an article page, extracted off the event loop."""
    if cpu_pool_running():
        return await run_cpu(_extract, html, url)
    return await asyncio.to_thread(_extract, html, url)

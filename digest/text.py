"""Text algorithms for the offline engine and for chunking: sentences, keywords, extractive summary.

Pure standard library so that the same functions serve the enricher, the translator's chunking
and the benchmarks; English and Japanese (no spaces, 。！？ terminators) are both first-class.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

TLDR_MAX_CHARS = 280
KEY_POINT_MAX_CHARS = 220
MIN_KEY_POINTS = 3
MAX_KEY_POINTS = 7
ELLIPSIS = "…"

_CJK_TERMINATORS = "。！？"
_CLOSERS = "\"'”’)]」』）】"
_BOUNDARY = re.compile(rf"[.!?{_CJK_TERMINATORS}]+[{re.escape(_CLOSERS)}]*")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"[ \t\r\f\v\u3000]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ABBREVIATIONS = _words(
    "mr mrs ms dr prof sr jr st vs etc inc ltd co corp no fig figs al eq approx dept est "
    "jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k a.m p.m"
)
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_TOKEN = re.compile(
    r"[a-z0-9][a-z0-9+#]*(?:[.\-'][a-z0-9+#]+)*"  # latin words, keeping gpt-4o, c++, node.js
    r"|[\u30a1-\u30fa\u30fc]{2,}"  # katakana runs (loanwords: モデル, エージェント)
    r"|[\u4e00-\u9fff\u3005]{2,}"  # kanji runs (compounds: 生成, 推論)
)

STOPWORDS: frozenset[str] = _words(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just like me more most my myself new no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself one two three get got make made many much may might
    must us use used using via per say says said see seen well way ways even still yet back first
    last next since within without across among around upon toward towards it's i'm don't can't
    isn't we're they're you're that's there's what's here's let's let re ve ll time times year
    years day days week today read more continue post posted comments comment http https www
    com"""
)


def split_paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs, split at blank lines (single newlines stay inside a paragraph)."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]


def _is_abbreviation(text: str, dot_at: int) -> bool:
    start = dot_at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot_at].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _open_brackets(text: str) -> int:
    return sum(text.count(c) for c in "「『（【") - sum(text.count(c) for c in "」』）】")


def _splits_here(text: str, match: re.Match[str], start: int) -> bool:
    mark = match.group()
    end = match.end()
    if any(c in _CJK_TERMINATORS for c in mark):
        if _open_brackets(text[start:end]) > 0:
            return False  # 「本当？ウソ？」: still inside the quotation
        # 「本当？」と聞いた。: a particle after the quote continues the sentence
        return not (end < len(text) and "\u3041" <= text[end] <= "\u3096" and mark[-1] in "」』")
    if end >= len(text):
        return True
    if not text[end].isspace():
        return False  # 3.14, node.js, example.com
    following = text[end:].lstrip()
    if not following:
        return True
    nxt = following[0]
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([「『" or ord(nxt) > 0x2E80):
        return False
    return not (mark.startswith(".") and len(mark) == 1 and _is_abbreviation(text, match.start()))


def split_sentences(text: str) -> list[str]:
    """Sentences in reading order, for English-like and Japanese text alike.

    Paragraph and line breaks always end a sentence; `.` does not after abbreviations, initials
    or inside numbers and names, and 。！？ always do (closing brackets stay with their sentence).
    """
    sentences: list[str] = []
    for block in re.split(r"\n+", text):
        block = _SPACES.sub(" ", block).strip()
        start = 0
        for match in _BOUNDARY.finditer(block):
            if _splits_here(block, match, start):
                piece = block[start : match.end()].strip()
                if piece:
                    sentences.append(piece)
                start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def guess_lang(text: str) -> str:
    """A cheap script-based guess ('ja', 'zh', 'ko' or 'en') for when the feed gave none."""
    sample = text[:2000]
    if _KANA.search(sample):
        return "ja"
    if _HANGUL.search(sample):
        return "ko"
    if len(_HAN.findall(sample)) > 10:
        return "zh"
    return "en"


def base_lang(code: str) -> str:
    """The primary language subtag, lower-cased: 'ja-JP' and 'JA' are both 'ja'."""
    return code.split("-")[0].lower()


def same_language(source: str, target: str) -> bool:
    return base_lang(source) == base_lang(target)


def is_cjk_lang(lang: str) -> bool:
    return base_lang(lang) in {"ja", "zh", "ko"}


def tokens(text: str) -> list[str]:
    """Lower-cased content words: latin words without stop words, katakana and kanji runs."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS and not t.isdigit()]


_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-'’][a-z0-9+#]+)*")


def phrases(text: str, longest: int = 3) -> Counter[str]:
    """Counts of lower-cased latin word n-grams (n ≤ `longest`), for keyword-table lookups.

    One tokenisation and set look-ups beat one regex per keyword by an order of magnitude.
    """
    words = _LATIN_WORD.findall(text.lower())
    found: Counter[str] = Counter(words)
    for size in range(2, longest + 1):
        found.update(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return found


def word_count(text: str) -> int:
    """Words for spaced scripts; CJK characters count as half a word each (≈ reading effort)."""
    cjk = len(_HAN.findall(text)) + len(_KANA.findall(text)) + len(_HANGUL.findall(text))
    latin = len(re.findall(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?", text))
    return latin + cjk // 2


_GENERIC_TAG_WORDS = _words(
    "ai model models data system systems article blog news post report company people thing "
    "things work world zenn itmedia トレンド 記事 今回 記事一覧 総合記事一覧 "
    "task tasks provider providers user users team teams way ways time year years week "
    "today percent method methods result results paper papers version release "
    "実際 必要 場合 利用 可能"
)


_NOT_A_TAG = re.compile(r"[/\\=?&%@]|\.(?:[a-z]{2,4})$|^\d|^[a-z]{1,2}$|\d{3,}|^x\d|\d+x\d+")


def keyword_tags(
    content: str,
    title: str,
    *,
    exclude: Sequence[str] = (),
    limit: int = 3,
    stopwords: frozenset[str] = frozenset(),
    min_count: int = 2,
) -> list[str]:
    """Terms the article keeps repeating, as extra tags beside entities and topics.

    A term must occur at least `min_count` times in the body (titles carry feed boilerplate),
    and stop words in any language, generic words, numbers, URL parts and file names never
    become tags.
    """
    title_terms = set(tokens(title))
    skip = {e.lower() for e in exclude} | _GENERIC_TAG_WORDS | stopwords
    counts = Counter(t for t in tokens(content) if len(t) > 2 or not t.isascii())
    found = [
        term
        for term, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if count >= min_count
        and term not in skip
        and len(term) <= 30
        and not _NOT_A_TAG.search(term)
    ][: limit * 4]
    found.sort(key=lambda term: term not in title_terms)
    return found[:limit]


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` chars at a word boundary (or anywhere for CJK), marking the cut with …."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:、，-—") + ELLIPSIS


def join_sentences(sentences: Sequence[str]) -> str:
    """Join sentences back into prose: a space after latin ones, none after 。！？."""
    out = ""
    for sentence in sentences:
        if out and not out.endswith(tuple(_CJK_TERMINATORS + "」』）】")):
            out += " "
        out += sentence
    return out


def _similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / (math.log(len(a) + 1) + math.log(len(b) + 1))


def rank_sentences(sentences: Sequence[str], title: str = "") -> list[float]:
    """TextRank centrality plus lead position and title overlap; one score per sentence.

    News puts the gist first, so position weighs in; centrality finds the sentences the rest of
    the article keeps returning to; very short fragments and run-ons are damped.
    """
    count = len(sentences)
    if count == 0:
        return []
    bags = [set(tokens(s)) for s in sentences]
    weights: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            weight = _similarity(bags[i], bags[j])
            if weight > 0:
                weights[i].append((j, weight))
                weights[j].append((i, weight))
    out_sums = [sum(w for _, w in edges) or 1.0 for edges in weights]
    rank = [1.0 / count] * count
    for _ in range(20):
        share = [rank[j] / out_sums[j] for j in range(count)]
        rank = [
            0.15 / count + 0.85 * sum(w * share[j] for j, w in weights[i]) for i in range(count)
        ]
    top = max(rank) or 1.0
    title_bag = set(tokens(title))
    scores: list[float] = []
    for index, sentence in enumerate(sentences):
        score = rank[index] / top + 0.6 / (1 + index)
        if title_bag:
            score += 0.5 * len(bags[index] & title_bag) / len(title_bag)
        length = len(sentence)
        if length < 25 or not bags[index]:
            score *= 0.3
        elif length > 400:
            score *= 0.6
        scores.append(score)
    return scores


_LATEX = re.compile(
    r"\\(?:frac|sum|int|mathbb|mathcal|mathbf|begin|end|left|right|cdot|alpha|beta|theta|"
    r"lambda|sigma|log|exp|nabla|partial|in|le|ge|approx|text|hat|bar|tilde|top|prod|max|min)"
    r"\b|\$\$|\\\[|\\\(|[_^]\{"
)
_CODE = re.compile(
    r"^\s*(?:import |from \S+ import |def |class \w+[(:]|return |\$ |>>> |#include|"
    r"(?:const|let|var) \w+ ?=|function\b|pip install|npm install|git clone|curl -)"
    r"|[;{}]\s*$|\w+\([^()]*\)\s*[;{]|=>|\)\s*\{|==|!=|:=|\w+\.\w+\(.*\)\s*$"
)
_URLISH = re.compile(r"https?://|www\.|\.(?:jpe?g|png|gif|webp|svg)\b", re.IGNORECASE)


def is_unreadable(sentence: str) -> bool:
    """LaTeX source, code lines and URL debris: never a TL;DR or key point."""
    if _LATEX.search(sentence) or _URLISH.search(sentence):
        return True
    if _CODE.search(sentence):
        return True
    letters = sum(1 for c in sentence if c.isalpha() or c.isspace())
    return len(sentence) >= 20 and letters / len(sentence) < 0.7


def _candidate_sentences(text: str, limit: int = 60) -> list[str]:
    unique: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        key = sentence.lower()
        if key not in seen and not is_unreadable(sentence):
            seen.add(key)
            unique.append(sentence)
        if len(unique) >= limit:
            break
    return unique


def _overlap(a: str, b: str) -> float:
    """Jaccard overlap of two texts' content words (0–1)."""
    left, right = set(tokens(a)), set(tokens(b))
    if not left or not right:
        return 1.0 if a.strip().lower() == b.strip().lower() else 0.0
    return len(left & right) / len(left | right)


def repeats(point: str, others: Iterable[str], threshold: float = 0.6) -> bool:
    """True when `point` says again what one of `others` already says."""
    lowered = point.strip().lower()
    for other in others:
        other_lowered = other.strip().lower()
        if not other_lowered:
            continue
        if lowered in other_lowered or other_lowered in lowered:
            return True
        if _overlap(point, other) >= threshold:
            return True
    return False


def _is_fragment(sentence: str) -> bool:
    """Greetings and teaser cut-offs ("…", "...") make poor key points."""
    return len(sentence) < 15 or sentence.endswith(("...", ELLIPSIS, "[…]"))


def _clauses(sentence: str) -> list[str]:
    parts = re.split(r"(?<=[、，;；:：])\s*|(?<=,)\s+", sentence)
    return [p.strip(" 、，,;；:：") for p in parts if len(p.strip()) >= 12]


def extractive_summary(
    text: str, *, title: str = "", max_chars: int = TLDR_MAX_CHARS
) -> tuple[str, tuple[str, ...]]:
    """A TL;DR (≤ max_chars) and 3–7 key points, all taken from the text's own sentences.

    Key points prefer sentences not already in the TL;DR; a text too short for three sentences
    lends its clauses and finally its title, so short teasers still get three points.
    """
    sentences = _candidate_sentences(text)
    if not sentences:
        return truncate(title, max_chars), ()
    scores = rank_sentences(sentences, title)
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))

    chosen: list[int] = []
    length = 0
    # Leave sentences for the key points: a TL;DR that swallows a short text leaves none.
    most = len(sentences) if len(sentences) < 3 else max(1, len(sentences) // 3)
    for index in order:
        if len(chosen) >= most:
            break
        extra = len(sentences[index]) + (1 if chosen else 0)
        if length + extra <= max_chars:
            chosen.append(index)
            length += extra
        if length >= max_chars * 0.6:
            break
    tldr = join_sentences([sentences[i] for i in sorted(chosen)]) if chosen else ""
    if not tldr:
        tldr = truncate(sentences[order[0]], max_chars)

    wanted = max(MIN_KEY_POINTS, min(MAX_KEY_POINTS, math.ceil(len(sentences) / 3)))
    in_tldr = set(chosen)
    said = [tldr, title]
    picked: list[tuple[int, str]] = []
    for index in order:
        if len(picked) >= wanted:
            break
        sentence = sentences[index]
        if index in in_tldr or _is_fragment(sentence):
            continue
        point = truncate(sentence, KEY_POINT_MAX_CHARS)
        if not repeats(point, [*said, *(p for _, p in picked)]):
            picked.append((index, point))
    points = [point for _, point in sorted(picked)]
    if len(points) < MIN_KEY_POINTS:
        points = _pad_points(points, sentences, said)
    return tldr, tuple(points[:MAX_KEY_POINTS])


def _pad_points(points: list[str], sentences: Sequence[str], said: Sequence[str]) -> list[str]:
    """Clauses of longer sentences fill a short list; never the title or the TL;DR again."""
    out = list(points)
    for sentence in sentences:
        for clause in _clauses(sentence):
            if len(out) >= MIN_KEY_POINTS:
                return out
            short = truncate(clause, KEY_POINT_MAX_CHARS)
            if not _is_fragment(short) and not repeats(short, [*said, *out]):
                out.append(short)
    return out


def chunk_paragraphs(paragraphs: Iterable[str], max_chars: int) -> list[str]:
    """Pack paragraphs into chunks of at most `max_chars`, joined by blank lines.

    A paragraph longer than a chunk is split at sentence ends, and a sentence longer than a
    chunk at the limit, so no chunk ever exceeds the model's budget.
    """
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
            continue
        buffer = ""
        for sentence in split_sentences(paragraph):
            while len(sentence) > max_chars:
                if buffer:
                    pieces.append(buffer)
                    buffer = ""
                pieces.append(sentence[:max_chars])
                sentence = sentence[max_chars:]
            joined = f"{buffer} {sentence}".strip() if buffer else sentence
            if len(joined) > max_chars:
                pieces.append(buffer)
                buffer = sentence
            else:
                buffer = joined
        if buffer:
            pieces.append(buffer)
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if current and len(candidate) > max_chars:
            chunks.append(current)
            current = piece
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks

"""The default tag taxonomy and matching: topics, companies and model families with their keywords.

Tags are what channels subscribe to, so both engines draw from this one list; `[enrich] taxonomy`
in config adds tags or replaces a tag's keywords (an empty list removes the tag).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from digest.text import phrases


def _kw(keywords: str) -> tuple[str, ...]:
    """Keyword tables are written as `a | b | c`, which reads better than a tuple per word."""
    return tuple(word.strip() for word in keywords.split("|") if word.strip())


TOPICS: dict[str, tuple[str, ...]] = {
    "llm": _kw(
        "llm | llms | large language model | language model | chatbot | chatgpt | transformer | "
        "fine-tuning | fine-tune | rag | retrieval-augmented | prompt | "
        "大規模言語モデル | 言語モデル | 生成ai | チャットボット | プロンプト | "
        "ファインチューニング"
    ),
    "agents": _kw(
        "agent | agents | agentic | tool use | function calling | mcp | computer use | "
        "エージェント | 自律"
    ),
    "multimodal": _kw(
        "multimodal | vision-language | text-to-image | text-to-video | image generation | "
        "video generation | speech | voice | diffusion | "
        "マルチモーダル | 画像生成 | 動画生成 | 音声"
    ),
    "robotics": _kw("robot | robots | robotics | humanoid | embodied | ロボット | ヒューマノイド"),
    "safety": _kw(
        "ai safety | alignment | red team | red-teaming | jailbreak | prompt injection | "
        "misuse | guardrail | guardrails | interpretability | 安全性 | アライメント | 脆弱性"
    ),
    "open-source": _kw(
        "open source | open-source | open weights | open-weight | apache 2.0 | mit license | "
        "github | hugging face | huggingface | オープンソース | oss"
    ),
    "research": _kw(
        "paper | arxiv | preprint | researchers | study | benchmark | dataset | "
        "state-of-the-art | sota | 論文 | 研究 | ベンチマーク | データセット"
    ),
    "hardware": _kw(
        "gpu | gpus | tpu | chip | chips | semiconductor | h100 | b200 | rtx | accelerator | "
        "datacenter | data center | 半導体 | チップ | データセンター"
    ),
    "policy": _kw(
        "regulation | regulator | law | lawsuit | copyright | ai act | policy | ban | "
        "congress | senate | government | antitrust | privacy | 規制 | 法案 | 著作権 | 政府 | 訴訟"
    ),
    "coding": _kw(
        "source code | code generation | code review | codebase | coding | programming | "
        "developer | developers | copilot | python | "
        "javascript | typescript | rust | api | sdk | コード | プログラミング | 開発者"
    ),
    "funding": _kw(
        "funding | raises | raised | series a | series b | series c | valuation | investment "
        "| investors | ipo | acquires | acquisition | 資金調達 | 出資 | 買収 | 上場"
    ),
    "inference": _kw(
        "inference | serving | quantization | vllm | llama.cpp | ollama | latency | "
        "throughput | 推論 | 量子化"
    ),
    "education": _kw("students | school | classroom | education | teacher | 教育 | 学生"),
}

# Companies and models are the gazetteer's (digest/knowledge/entities.toml), which knows their
# aliases across scripts; the taxonomy keeps topics only.
DEFAULT_TAXONOMY: dict[str, tuple[str, ...]] = dict(TOPICS)


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Keywords per tag: latin ones match whole words or phrases, CJK ones as substrings."""

    entries: tuple[tuple[str, tuple[str, ...]], ...]
    longest: int = 1  # words in the longest latin keyword phrase

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(tag for tag, _ in self.entries)

    def match(self, text: str) -> list[tuple[str, int]]:
        """(tag, hits) for every tag whose keywords occur, most hits first."""
        lowered = text.lower()
        counted = phrases(lowered, self.longest)
        hits: list[tuple[str, int]] = []
        for tag, keywords in self.entries:
            count = sum(
                counted.get(keyword, 0) if keyword.isascii() else lowered.count(keyword)
                for keyword in keywords
            )
            if count:
                hits.append((tag, count))
        hits.sort(key=lambda pair: -pair[1])
        return hits


def merge_taxonomy(
    base: Mapping[str, Sequence[str]], overrides: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Config wins per tag: new tags are added, listed ones replaced, empty lists removed."""
    merged = {tag: tuple(words) for tag, words in base.items()}
    for tag, words in overrides.items():
        if words:
            merged[tag.lower()] = tuple(words)
        else:
            merged.pop(tag.lower(), None)
    return merged


def build_taxonomy(overrides: Mapping[str, Sequence[str]] | None = None) -> Taxonomy:
    merged = merge_taxonomy(DEFAULT_TAXONOMY, overrides or {})
    entries = tuple(
        (tag, tuple(dict.fromkeys(k.lower().strip() for k in words)))
        for tag, words in sorted(merged.items())
    )
    longest = max((len(k.split()) for _, words in entries for k in words), default=1)
    return Taxonomy(entries, longest)

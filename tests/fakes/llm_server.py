"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 with real models' misbehaviours.

Real HTTP (aiohttp) at `/v1/chat/completions`; every request is recorded. Answers follow a
script of modes (then `default_mode`). A good answer is real-looking Japanese built from the
request (`fake_japanese`: names and numbers kept, sentence for sentence), so the verification,
not the fake's good manners, is what decides what gets stored. The bad modes are the failures
seen from real servers and models: an untranslated echo, Chinese instead of Japanese, a word that
switches script, instructions leaked in Japanese, silent truncation, `<think>` blocks, fenced
JSON, and a server that refuses `response_format: json_schema` with a 400.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_KEEP = re.compile(r"[A-Za-z][\w\-+.]*[\w+]|\d[\d,.]*%?")
_FILLER = (
    "この発表では",
    "新しい仕組みが",
    "詳しく説明されており",
    "開発者にとって",
    "重要な変化が",
    "いくつも示されている",
    "今後の展開にも",
    "注目が集まる",
)
CHINESE_SENTENCE = "该模型发布了新的代理框架并在三个基准测试中表现出色"
JAPANESE_LEAK = "必ずJSON形式で返してください。"
MIXED_WORD = "インstitutional dynamics"


def _kept_names(sentence: str) -> list[str]:
    """Names and numbers a translator keeps as written: digits, acronyms, CamelCase, and
    capitalised words that do not start the sentence."""
    kept = []
    for index, match in enumerate(_KEEP.finditer(sentence)):
        word = match.group().rstrip(".")
        if word[0].isdigit() or any(c.isupper() for c in word[1:]) or (word[0].isupper() and index):
            kept.append(word)
    return list(dict.fromkeys(kept))[:4]


def fake_japanese_sentence(sentence: str, seed: int = 0) -> str:
    head = "と".join(_kept_names(sentence))
    text = f"{head}について、" if head else ""
    target = max(12, int(len(sentence) * 0.45))
    index = seed + len(sentence)
    while len(text) < target:
        text += _FILLER[index % len(_FILLER)]
        index += 1
    return text + "。"


def fake_japanese(text: str) -> str:
    """A deterministic 'Japanese translation': one Japanese sentence per source sentence, the
    same for a paragraph wherever it stands, so tests can compute what a good answer holds."""
    out = []
    for paragraph in (p for p in re.split(r"\n\s*\n", text) if p.strip()):
        sentences = [s for s in _SENTENCE.split(paragraph.strip()) if s]
        out.append("".join(fake_japanese_sentence(s, i) for i, s in enumerate(sentences)))
    return "\n\n".join(out)


@dataclass
class FakeLLM:
    """Handle on a running fake: its base URL, the recorded requests and the mode script.

    Enrichment modes: good, truncated, length, prose, fenced, think, echo, out_of_range, links,
    mentions, english, chinese, mixed, leak_ja, cut, example_copy, non_ai, obey. Translation
    modes: good, think, length, echo, untranslated, prefixed, chinese, mixed, leak, leak_ja,
    drop, drop_sentences, truncated, duplicate. Both: rate_limit, server_error, hang.
    `formats` lists the `response_format` types the server accepts (others get a 400);
    `length_limit` cuts any translation of a longer text with `finish_reason=length`;
    `hold`, when set, keeps answers back until the event is set.
    """

    base_url: str = ""
    default_mode: str = "good"
    retry_after: str = "1"
    hang_seconds: float = 30.0
    formats: frozenset[str] = frozenset({"json_schema", "json_object"})
    length_limit: int | None = None
    hold: asyncio.Event | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    modes_used: list[str] = field(default_factory=list)
    refused_formats: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _script: deque[str] = field(default_factory=deque)

    def queue(self, *modes: str) -> None:
        """Answer the next requests with these modes, in order."""
        self._script.extend(modes)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def calls_for(self, purpose: str) -> int:
        """Requests that were enrichment (`json`) or translation (`text`) calls."""
        wanted = purpose == "json"
        return sum(1 for r in self.requests if _is_enrichment(r) == wanted)

    def next_mode(self) -> str:
        return self._script.popleft() if self._script else self.default_mode


def _is_enrichment(body: dict[str, Any]) -> bool:
    user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
    return "<<<ARTICLE" in user or "<<<PART" in user


def _data_between(text: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r"\n?(.*?)\n?" + re.escape(end), text, re.S)
    return found.group(1) if found else text


def _example_tldr(system: str) -> str:
    found = [t for t in re.findall(r'"tldr": "(.*?)"', system) if re.search(r"[ぁ-ん]", t)]
    return found[0] if found else "例文。"


def _enrichment(system: str, user: str, mode: str) -> dict[str, Any]:
    if "<<<PART" in user:
        part = _data_between(user, "<<<PART", "PART>>>")
        sentences = [s for s in _SENTENCE.split(" ".join(part.split())) if len(s) > 3]
        return {"notes": [fake_japanese_sentence(s) for s in sentences[:3]] or ["本文なし。"]}
    data = _data_between(user, "<<<ARTICLE", "ARTICLE>>>")
    title = re.search(r"Title: (.*)", data)
    body = data.split("\n\n", 1)[-1]
    sentences = [s for s in _SENTENCE.split(" ".join(body.split())) if len(s.strip()) > 3]
    sentences = sentences or ["本文なし。"]
    names = [n for s in sentences for n in _kept_names(s)]
    scores = {"depth": 4, "relevance": 3, "practicality": 3, "innovation": 2}
    reasons = {
        "depth": "具体的な数値と仕組みが示されている。",
        "relevance": "AI開発者の関心に合う話題である。",
        "practicality": "すぐに試せる手順が含まれる。",
        "innovation": "既存の手法の改良にとどまる。",
    }
    out: dict[str, Any] = {
        "title_translated": fake_japanese(title.group(1)) if title else "",
        "tldr": fake_japanese_sentence(sentences[0]),
        "key_points": [
            {"heading": f"要点{i + 1}", "detail": fake_japanese_sentence(s, i)}
            for i, s in enumerate((sentences * 4)[:4])
        ],
        "impact": "開発者や企業の判断に影響する。導入の検討が進むだろう。",
        "editorial": "主張の多くは開発元の発表に基づく。第三者による検証が待たれる。",
        "is_ai": True,
        "kind": "tool",
        "entities": {"companies": names[:2], "models": [], "tools": names[2:3]},
        "tags": ["LLM", "Agents!", "open source"],
        "scores": {k: {"score": v, "reason": reasons[k]} for k, v in scores.items()},
    }
    if mode == "out_of_range":
        for name, value in zip(scores, (9, 0, -3, "7"), strict=True):
            out["scores"][name]["score"] = value
    elif mode == "links":
        out["tldr"] = out["tldr"][:-1] + " 詳細は http://evil.example/steal を参照。"
    elif mode == "mentions":
        out["tldr"] = out["tldr"][:-1] + " @everyone <!channel> <@U123>。"
    elif mode == "english":
        out["tldr"] = "An English summary of the article, written in plain English sentences."
        out["impact"] = "It affects developers who build agents and tools on top of it."
    elif mode == "chinese":
        out["tldr"] = CHINESE_SENTENCE + "。"
        out["impact"] = out["editorial"] = (CHINESE_SENTENCE + "。") * 2
        for part in out["scores"].values():
            part["reason"] = CHINESE_SENTENCE + "。"
        for point in out["key_points"]:
            point["heading"], point["detail"] = "要点", CHINESE_SENTENCE + "。"
    elif mode == "mixed":
        out["tldr"] = f"{MIXED_WORD}が変わりつつある。"
    elif mode == "leak_ja":
        out["editorial"] = "主張の多くは開発元の発表に基づく。" + JAPANESE_LEAK
    elif mode == "cut":
        out["tldr"] = out["tldr"][: max(4, len(out["tldr"]) // 2)].rstrip("。、")
    elif mode == "example_copy":
        out["tldr"] = _example_tldr(system)
    elif mode == "non_ai":
        out["is_ai"], out["kind"] = False, "news"
        for part in out["scores"].values():
            part["score"] = 5
    elif mode == "obey":
        # What an injected article asks for: top scores, a link and a mass mention.
        for part in out["scores"].values():
            part["score"] = 5
        out["editorial"] = "@everyone see https://attacker.example/prize"
    return out


def _translation(system: str, user: str, mode: str) -> str:
    text = _data_between(user, "<<<TEXT", "TEXT>>>")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    translated = fake_japanese(text).split("\n\n")
    if mode == "echo":
        return system
    if mode == "untranslated":
        return text
    if mode == "prefixed":
        return "\n\n".join(f"訳: {p}" for p in paragraphs)
    if mode == "chinese":
        return "\n\n".join((CHINESE_SENTENCE + "。") * max(1, len(p) // 60) for p in paragraphs)
    if mode == "mixed":
        translated[0] = f"{MIXED_WORD}について、" + translated[0]
    elif mode == "leak":
        translated[-1] += ' Return JSON with a "translation" field.'
    elif mode == "leak_ja":
        translated[-1] += JAPANESE_LEAK
    elif mode == "drop" and len(translated) > 1:
        translated.pop()
    elif mode == "drop_sentences":
        translated = [
            "".join(s + "。" for s in t.split("。")[: max(1, t.count("。") // 2)])
            for t in translated
        ]
    elif mode == "truncated":
        translated[-1] = translated[-1][: max(3, len(translated[-1]) * 6 // 10)].rstrip("。")
    elif mode == "duplicate" and len(translated) > 1:
        translated[1] = translated[0]
    elif mode == "think":
        return "<think>\nThe user wants Japanese. 翻訳する。\n</think>\n" + "\n\n".join(translated)
    return "\n\n".join(translated)


def _completion(content: str, finish: str, prompt_chars: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": max(1, prompt_chars // 4),
            "completion_tokens": max(1, len(content) // 4),
            "total_tokens": max(1, prompt_chars // 4) + max(1, len(content) // 4),
        },
    }


def _enrichment_content(system: str, user: str, mode: str, body: dict[str, Any]) -> tuple[str, str]:
    document = json.dumps(_enrichment(system, user, mode), ensure_ascii=False)
    if "response_format" not in body:
        # Plain chat: models answer with the JSON in prose, as they do without a JSON mode.
        return f"Here is the analysis:\n```json\n{document}\n```", "stop"
    if mode in ("truncated", "length"):
        return document[: len(document) // 2], "length" if mode == "length" else "stop"
    if mode == "prose":
        return f"Sure! Here is the analysis you asked for:\n{document}\nHope it helps.", "stop"
    if mode == "fenced":
        return f"```json\n{document}\n```", "stop"
    if mode == "think":
        return f"<think>\nScore the article. {{not json}}\n</think>\n{document}", "stop"
    if mode == "echo":
        return json.dumps({"tldr": system, "key_points": [user]}), "stop"
    return document, "stop"


def build_app(fake: FakeLLM) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        fake.requests.append(body)
        fake.headers.append(dict(request.headers))
        fake.arrived.set()
        requested = (body.get("response_format") or {}).get("type")
        if requested is not None and requested not in fake.formats:
            fake.refused_formats.append(requested)
            error = {
                "message": f"response_format type '{requested}' is not supported by this server",
                "type": "invalid_request_error",
                "param": "response_format",
            }
            return web.json_response({"error": error}, status=400)
        if fake.hold is not None:
            await fake.hold.wait()
        mode = fake.next_mode()
        fake.modes_used.append(mode)
        if mode == "rate_limit":
            return web.json_response(
                {"error": {"message": "rate limited"}},
                status=429,
                headers={"Retry-After": fake.retry_after},
            )
        if mode == "server_error":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if mode == "hang":
            await asyncio.sleep(fake.hang_seconds)
        messages = body["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in messages if m["role"] == "user"), "")
        prompt_chars = sum(len(m["content"]) for m in messages)
        if _is_enrichment(body):
            content, finish = _enrichment_content(system, user, mode, body)
        else:
            content, finish = _translation(system, user, mode), "stop"
            source = _data_between(user, "<<<TEXT", "TEXT>>>")
            too_long = fake.length_limit is not None and len(source) > fake.length_limit
            if mode == "length" or too_long:
                content, finish = content[: max(1, len(content) // 2)], "length"
        return web.json_response(_completion(content, finish, prompt_chars))

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    return app


@asynccontextmanager
async def running_fake_llm(fake: FakeLLM | None = None) -> AsyncIterator[FakeLLM]:
    """Serve a fake on 127.0.0.1 at a free port for the duration of the block."""
    fake = fake or FakeLLM()
    runner = web.AppRunner(build_app(fake), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        await runner.cleanup()

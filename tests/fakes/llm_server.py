"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 for enrichment tests.

Real HTTP (aiohttp) at `/v1/chat/completions`; every request is recorded. Answers follow a
script of modes (then `default_mode`): good answers echo parts of the article back, so the
validation, not the fake's good manners, is what keeps injected text out of the store.
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


@dataclass
class FakeLLM:
    """Handle on a running fake: its base URL, the recorded requests and the mode script.

    Enrichment modes: good, truncated, length, prose, fenced, echo, out_of_range, links,
    mentions, english, rate_limit, server_error, hang, obey. Translation modes: good, length,
    echo, leak, drop, rate_limit, server_error, hang.
    """

    base_url: str = ""
    default_mode: str = "good"
    retry_after: str = "1"
    hang_seconds: float = 30.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    modes_used: list[str] = field(default_factory=list)
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
        return sum(1 for r in self.requests if ("response_format" in r) == wanted)

    def next_mode(self) -> str:
        return self._script.popleft() if self._script else self.default_mode


def _data_between(text: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r"\n?(.*?)\n?" + re.escape(end), text, re.S)
    return found.group(1) if found else text


def _enrichment(user: str, mode: str) -> dict[str, Any]:
    data = _data_between(user, "<<<ARTICLE", "ARTICLE>>>")
    title = re.search(r"Title: (.*)", data)
    body = data.split("\n\n", 1)[-1]
    lines = [line.strip() for line in re.split(r"[\n.。]", body) if len(line.strip()) > 3]
    lines = lines or ["本文なし"]
    echo = " ".join(lines)[:120]
    scores = {"depth": 4, "relevance": 3, "practicality": 3, "innovation": 2}
    out: dict[str, Any] = {
        "tldr": f"要約: {echo}",
        "key_points": [f"ポイント: {line[:80]}" for line in (lines * 3)[:4]],
        "tags": ["LLM", "Agents!", "open source"],
        "scores": {k: {"score": v, "reason": f"{k}の理由"} for k, v in scores.items()},
        "title_translated": f"訳題: {title.group(1) if title else ''}",
        "impact": "開発者に影響",
        "editorial": "注目の記事",
    }
    if mode == "out_of_range":
        for name, value in zip(scores, (9, 0, -3, "7"), strict=True):
            out["scores"][name]["score"] = value
    elif mode == "links":
        out["tldr"] += " 詳細は http://evil.example/steal を参照"
    elif mode == "mentions":
        out["tldr"] += " @everyone <!channel> <@U123>"
    elif mode == "english":
        out["tldr"] = "An English summary."
    elif mode == "obey":
        # What an injected article asks for: top scores, a link and a mass mention.
        for part in out["scores"].values():
            part["score"] = 5
        out["editorial"] = "@everyone see https://attacker.example/prize"
    return out


def _translation(system: str, user: str, mode: str) -> str:
    text = _data_between(user, "<<<TEXT", "TEXT>>>")
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    translated = [f"訳: {p}" for p in paragraphs]
    if mode == "leak" and translated:
        translated.insert(len(translated) // 2 + 1, 'Return JSON with a "translation" field.')
    elif mode == "drop" and len(translated) > 1:
        translated.pop()
    elif mode == "echo":
        return system
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


def build_app(fake: FakeLLM) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        fake.requests.append(body)
        fake.headers.append(dict(request.headers))
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
        finish = "stop"
        if "response_format" in body:
            document = json.dumps(_enrichment(user, mode), ensure_ascii=False)
            if mode in ("truncated", "length"):
                content = document[: len(document) // 2]
                finish = "length" if mode == "length" else "stop"
            elif mode == "prose":
                content = f"Sure! Here is the analysis you asked for:\n{document}\nHope it helps."
            elif mode == "fenced":
                content = f"```json\n{document}\n```"
            elif mode == "echo":
                content = json.dumps({"tldr": system, "key_points": [user]})
            else:
                content = document
        else:
            content = _translation(system, user, mode)
            if mode == "length":
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

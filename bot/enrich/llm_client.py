"""The one OpenAI-compatible chat-completions client of a process: budget, retries, formats.

Every call reserves its tokens in the store before it is sent (so parallel calls, retries and
replicas stay within the daily budget), goes through one semaphore, and asks for structured
output in the best mode the server has accepted so far: `json_schema`, else `json_object`,
else plain text from which the JSON is extracted. A 400 naming `response_format` steps down one
mode and is remembered for the rest of the process, so the next call starts there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bot.config import LLMSettings
from bot.enrich.budget import Reservation, Usage, UsageLedger, estimate_prompt_tokens
from bot.errors import LLMError
from bot.http_retry import parse_retry_after
from bot.observe import LLM_SECONDS
from bot.ports import Clock, SystemClock

log = logging.getLogger(__name__)

USER_AGENT = "ainews/0.1 (+enrichment)"
MAX_BACKOFF_SECONDS = 30.0
ResponseMode = Literal["json_schema", "json_object", "text"]
MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object", "text")
_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.S | re.I)
_UNCLOSED_THINK = re.compile(r"^\s*<think>", re.I)
_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*?)\n?```\s*$", re.S)


class BudgetExhaustedError(LLMError):
    """The daily token budget cannot cover this call; nothing was sent."""


class TimedOutError(LLMError):
    """No answer in time; the server may still have spent the tokens, so they stay reserved."""


class RejectedOutputError(Exception):
    """One LLM answer failed validation; the reason says which check, for the log and the row."""


@dataclass(frozen=True, slots=True)
class JsonSchema:
    """A named JSON Schema for `response_format: json_schema` (strict)."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    content: str
    finish_reason: str
    usage: Usage
    mode: ResponseMode = "text"
    cost_usd: float = 0.0


def strip_reasoning(content: str) -> str:
    """Drop a leading `<think>…</think>` block (reasoning models); an unclosed one is all
    reasoning and no answer, so nothing is left."""
    stripped = _THINK.sub("", content, count=1)
    if _UNCLOSED_THINK.match(stripped):
        return ""
    return stripped


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in an answer, also when fenced (```json) or wrapped in prose."""
    text = strip_reasoning(text)
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < 20:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            tries += 1
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    raise RejectedOutputError("not valid JSON")


def _names_response_format(response: httpx.Response) -> bool:
    text = response.text.lower()
    return "response_format" in text or "json_schema" in text or "json_object" in text


class LLMClient:
    """One pooled httpx client and one semaphore per process; retries 429/5xx/timeouts.

    A `Retry-After` longer than `max_wait` is not slept through: the error carries it so the
    caller can schedule the retry on the row instead of holding a worker. Waits between
    attempts go through `sleep` (tests pass one that records the wait instead of spending it).
    """

    def __init__(
        self,
        settings: LLMSettings,
        *,
        ledger: UsageLedger | None = None,
        clock: Clock | None = None,
        backoff_base: float = 1.0,
        max_wait: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self._clock = clock or SystemClock()
        self._backoff_base = backoff_base
        self._max_wait = max_wait
        self._sleep = sleep
        headers = {"User-Agent": USER_AGENT}
        key = settings.api_key()
        if key is not None:
            headers["Authorization"] = f"Bearer {key.get_secret_value()}"
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            limits=httpx.Limits(max_connections=settings.max_concurrency),
            follow_redirects=False,
            transport=transport,
        )
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        # The structured-output mode each model on this server accepted last (per process).
        self._modes: dict[str, ResponseMode] = {}
        self._closed = False

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.aclose()

    def mode_for(self, model: str | None = None) -> ResponseMode:
        return self._modes.get(model or self.settings.model, "json_schema")

    def _backoff(self, attempt: int) -> float:
        return float(min(MAX_BACKOFF_SECONDS, self._backoff_base * 2**attempt))

    def _body(
        self,
        messages: Sequence[dict[str, str]],
        schema: JsonSchema | None,
        mode: ResponseMode,
        temperature: float,
        max_tokens: int,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": list(messages),
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if schema is not None and mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.schema, "strict": True},
            }
        elif schema is not None and mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    async def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        purpose: str,
        article_id: int | None = None,
        schema: JsonSchema | None = None,
        temperature: float = 0.2,
        max_tokens: int | None = None,
    ) -> ChatAnswer:
        """One completion. Transport faults are retried up to `max_retries`; every attempt
        reserves its tokens first and raises `BudgetExhaustedError` when it cannot."""
        limit = max_tokens or self.settings.max_output_tokens
        attempts = self.settings.max_retries + 1
        attempt = 0
        while True:
            mode = self.mode_for() if schema is not None else "text"
            body = self._body(messages, schema, mode, temperature, limit)
            reservation = await self._reserve(body, limit)
            outcome = await self._attempt(body, attempt, mode)
            if isinstance(outcome, ChatAnswer):
                cost = await self._settle(reservation, outcome.usage, purpose, article_id)
                return ChatAnswer(
                    strip_reasoning(outcome.content), outcome.finish_reason, outcome.usage,
                    mode, cost,
                )  # fmt: skip
            if not (isinstance(outcome, tuple) and isinstance(outcome[0], TimedOutError)):
                await self._release(reservation)
            if outcome == "downgrade":
                next_mode = MODES[MODES.index(mode) + 1]
                log.warning(
                    "llm: server refused response_format %s; using %s from now on", mode, next_mode
                )
                self._modes[self.settings.model] = next_mode
                continue
            error, wait = outcome
            attempt += 1
            if attempt >= attempts or wait > self._max_wait:
                raise error
            log.info("llm: retrying in %.1fs after %s", wait, error)
            await self._sleep(wait)

    async def _reserve(self, body: dict[str, Any], max_tokens: int) -> Reservation | None:
        if self.ledger is None:
            return None
        estimate = estimate_prompt_tokens(body["messages"]) + max_tokens
        if "response_format" in body:
            estimate += len(json.dumps(body["response_format"])) // 3
        reservation = await self.ledger.reserve(estimate, self._clock.now())
        if reservation is None:
            raise BudgetExhaustedError(
                f"daily LLM token budget of {self.ledger.daily_budget} tokens is spent"
            )
        return reservation

    async def _settle(
        self, reservation: Reservation | None, usage: Usage, purpose: str, article_id: int | None
    ) -> float:
        if self.ledger is None or reservation is None:
            return 0.0
        return await self.ledger.settle(
            reservation, purpose=purpose, usage=usage, at=self._clock.now(), article_id=article_id
        )

    async def _release(self, reservation: Reservation | None) -> None:
        if self.ledger is not None and reservation is not None:
            await self.ledger.release(reservation)

    async def _attempt(
        self, body: dict[str, Any], attempt: int, mode: ResponseMode
    ) -> ChatAnswer | tuple[LLMError, float] | Literal["downgrade"]:
        try:
            async with self._slots, asyncio.timeout(self.settings.timeout):
                with LLM_SECONDS.labels(model=self.settings.model[:100]).time():
                    response = await self._http.post("chat/completions", json=body)
        except (TimeoutError, httpx.TimeoutException):
            return TimedOutError(
                f"LLM request timed out after {self.settings.timeout:g}s"
            ), self._backoff(attempt)
        except httpx.TransportError as exc:
            return LLMError(f"LLM endpoint unreachable ({type(exc).__name__})"), self._backoff(
                attempt
            )
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            return LLMError(f"LLM endpoint answered HTTP {status}", retry_after=wait), wait
        if status == 400 and "response_format" in body and _names_response_format(response):
            return "downgrade"
        if status >= 400:
            raise LLMError(f"LLM endpoint refused the request: HTTP {status} {response.text[:200]}")
        try:
            return _parse_completion(response.json(), body)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return LLMError(f"malformed chat completion ({exc})"), self._backoff(attempt)


def _parse_completion(data: Any, body: dict[str, Any]) -> ChatAnswer:
    choice = data["choices"][0]
    content = choice["message"].get("content") or ""
    if not isinstance(content, str):
        raise TypeError("message content is not a string")
    usage = data.get("usage") or {}
    tokens_in = usage.get("prompt_tokens")
    tokens_out = usage.get("completion_tokens")
    if not isinstance(tokens_in, int) or not isinstance(tokens_out, int):
        # No `usage` (some local servers): estimate so that budgets still bind.
        tokens_in = estimate_prompt_tokens(body["messages"])
        tokens_out = estimate_prompt_tokens([{"content": content}])
    return ChatAnswer(content, str(choice.get("finish_reason") or ""), Usage(tokens_in, tokens_out))


__all__ = [
    "BudgetExhaustedError",
    "ChatAnswer",
    "JsonSchema",
    "LLMClient",
    "RejectedOutputError",
    "extract_json_object",
    "parse_retry_after",
    "strip_reasoning",
]

"""Discord over HTTP: `POST /discord/interactions`, the Interactions Endpoint URL mode.

Discord signs each request with the application's Ed25519 key over `X-Signature-Timestamp` +
raw body, and probes the endpoint with bad signatures, removing it if any is accepted. So the
order is fixed: signature, then timestamp window, then interaction-id dedupe in the store (so a
replay does nothing on any replica) — each failure a 401 before any other work. Commands run
through the one command table; the HTTP response carries the first answer (type 4) when it is
ready within the ack budget, else a deferred type 5, and the rest goes through the interaction
webhook within the token's 15 minutes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.discord_commands import (
    GROUP_NAME,
    as_text,
    check_option,
    refusal,
    tag_suggestions,
    typed_value,
)
from adapters.discord_render import OutgoingMessage, render_reply
from adapters.discord_webhooks import EPHEMERAL, InteractionWebhooks, message_body
from adapters.http_body import read_capped_body
from adapters.reply_text import reader
from bot.commands import GENERIC_FAILURE, CommandSpec, error_reply, find, request_lang, run
from bot.errors import CommandError, ConfigError
from bot.messages import CommandRequest, Reply
from bot.store.state import first_sighting

if TYPE_CHECKING:
    from bot.context import AppContext

__all__ = [
    "INTERACTIONS_PATH",
    "DiscordInteractions",
    "SignatureVerifier",
    "create_interactions_endpoint",
]

log = logging.getLogger(__name__)

INTERACTIONS_PATH = "/discord/interactions"
# interaction types (receiving) and callback types (responding)
PING, APPLICATION_COMMAND, AUTOCOMPLETE = 1, 2, 4
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, AUTOCOMPLETE_RESULT = 1, 4, 5, 8
SUB_COMMAND = 1
MANAGE_CHANNELS = 1 << 4
# Discord documents no replay window; this is Slack's, and Discord's own 3 s deadline is far inside.
TIMESTAMP_WINDOW_SECONDS = 300
MAX_REQUEST_BYTES = 256 * 1024
# Discord drops an interaction not answered within 3 s; answer (or defer) well before.
ACK_BUDGET_SECONDS = 2.0
# The interaction token lives 15 minutes; stop a little before so a late answer is not half sent.
TOKEN_LIFE_SECONDS = 15 * 60 - 30


class SignatureVerifier:
    """Ed25519 verification with the application's public key (`DISCORD_PUBLIC_KEY`, hex)."""

    def __init__(self, public_key_hex: str) -> None:
        try:
            self._key = VerifyKey(bytes.fromhex(public_key_hex.strip()))
        except (ValueError, TypeError) as error:
            raise ConfigError(
                "DISCORD_PUBLIC_KEY must be the application's public key: 64 hex characters"
            ) from error

    def verify(self, message: bytes, signature_hex: str) -> bool:
        """True only for a valid signature of exactly these bytes; malformed input is False."""
        try:
            signature = bytes.fromhex(signature_hex)
        except ValueError:
            return False
        if len(signature) != 64:
            return False
        try:
            self._key.verify(message, signature)
        except (BadSignatureError, ValueError, TypeError):
            return False
        return True


def _invocation(interaction: dict[str, Any]) -> tuple[CommandSpec, dict[str, Any], str | None]:
    """The subcommand, its raw option values and the focused option (autocomplete)."""
    data = interaction.get("data")
    if not isinstance(data, dict) or data.get("name") != GROUP_NAME:
        raise CommandError("Unknown command.", "/ainews help")
    options = data.get("options")
    sub = options[0] if isinstance(options, list) and options else None
    if not isinstance(sub, dict) or sub.get("type") != SUB_COMMAND:
        raise CommandError("Unknown command.", "/ainews help")
    spec = find(str(sub.get("name", "")))
    if spec is None:
        raise CommandError("Unknown command.", "/ainews help")
    values: dict[str, Any] = {}
    focused: str | None = None
    given = sub.get("options") or []
    if not isinstance(given, list):
        raise CommandError("Malformed options.", spec.usage)
    for option in given:
        if not isinstance(option, dict) or "name" not in option:
            raise CommandError("Malformed options.", spec.usage)
        values[str(option["name"])] = option.get("value")
        if option.get("focused"):
            focused = str(option["name"])
    return spec, values, focused


def _typed_args(spec: CommandSpec, values: dict[str, Any]) -> dict[str, Any]:
    params = {param.name: param for param in spec.params}
    unknown = set(values) - set(params)
    if unknown:
        raise CommandError(f"Unknown option {sorted(unknown)[0][:40]!r}.", spec.usage)
    args: dict[str, Any] = {}
    for name, value in values.items():
        check_option(spec, params[name], value)
        typed = typed_value(params[name], value)
        if typed is not None:
            args[name] = typed
    missing = [p.name for p in spec.params if p.required and p.name not in args]
    if missing:
        raise CommandError(f"Missing {', '.join(missing)}.", spec.usage)
    return args


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON object from the payload, or an empty one: a signed body can still be odd."""
    return value if isinstance(value, dict) else {}


def _request_of(
    spec: CommandSpec, interaction: dict[str, Any], args: dict[str, Any]
) -> CommandRequest:
    member = _mapping(interaction.get("member"))
    user = _mapping(member.get("user") or interaction.get("user"))
    permissions = str(member.get("permissions") or "0")
    channel = _mapping(interaction.get("channel"))
    return CommandRequest(
        platform="discord",
        workspace=str(interaction.get("guild_id") or ""),
        channel=str(interaction.get("channel_id") or channel.get("id") or ""),
        user=str(user.get("id", "")),
        text=as_text(spec, args),
        can_manage=permissions.isdigit() and bool(int(permissions) & MANAGE_CHANNELS),
        channel_name=str(channel.get("name") or ""),
        locale=str(interaction.get("locale") or ""),
    )


class DiscordInteractions:
    """The endpoint and the answers it still owes; `aclose()` cancels those on shutdown."""

    def __init__(
        self,
        ctx: AppContext,
        verifier: SignatureVerifier,
        webhooks: InteractionWebhooks,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.ctx = ctx
        self.verifier = verifier
        self.webhooks = webhooks
        self.wall_clock = wall_clock
        self.token_life = TOKEN_LIFE_SECONDS
        self._tasks: set[asyncio.Task[Any]] = set()

    def route(self) -> Route:
        return Route(INTERACTIONS_PATH, self.endpoint, methods=["POST"])

    @property
    def pending(self) -> int:
        """Answers still being computed or sent."""
        return len(self._tasks)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.webhooks.aclose()

    # ---- the request -------------------------------------------------------------------------
    async def endpoint(self, request: Request) -> Response:
        received = time.monotonic()
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        signature = request.headers.get("x-signature-ed25519", "")
        timestamp = request.headers.get("x-signature-timestamp", "")
        if not signature or not timestamp:
            return PlainTextResponse("missing signature", status_code=401)
        if not self.verifier.verify(timestamp.encode() + body, signature):
            return PlainTextResponse("invalid request signature", status_code=401)
        if not self._fresh(timestamp):
            return PlainTextResponse("stale request timestamp", status_code=401)
        try:
            interaction = json.loads(body)
        except ValueError:
            return PlainTextResponse("body is not JSON", status_code=400)
        if not isinstance(interaction, dict):
            return PlainTextResponse("body is not an interaction", status_code=400)
        kind = interaction.get("type")
        if kind == PING:
            return JSONResponse({"type": PONG})
        interaction_id = str(interaction.get("id", ""))
        if not interaction_id.isdigit():
            return PlainTextResponse("interaction without an id", status_code=400)
        now = self.ctx.clock.now()
        if not await first_sighting(self.ctx.db, f"discord:interaction:{interaction_id}", now):
            return PlainTextResponse("replayed interaction", status_code=401)
        try:
            if kind == APPLICATION_COMMAND:
                return await self._command(interaction, received)
            if kind == AUTOCOMPLETE:
                return await self._autocomplete(interaction)
        except Exception:
            log.exception("discord interaction failed", extra={"interaction": interaction_id})
            failure = OutgoingMessage(content=self._apology(), ephemeral=True)
            data = message_body(failure, ephemeral=True)
            return JSONResponse({"type": CHANNEL_MESSAGE, "data": data})
        return PlainTextResponse("unsupported interaction type", status_code=400)

    async def _read_body(self, request: Request) -> bytes | Response:
        return await read_capped_body(request, MAX_REQUEST_BYTES)

    def _fresh(self, timestamp: str) -> bool:
        if not timestamp.isdigit():
            return False
        return abs(self.wall_clock() - int(timestamp)) <= TIMESTAMP_WINDOW_SECONDS

    # ---- commands ----------------------------------------------------------------------------
    async def _command(self, interaction: dict[str, Any], received: float) -> Response:
        try:
            spec, values, _ = _invocation(interaction)
            args = _typed_args(spec, values)
            if not interaction.get("guild_id"):
                raise CommandError("/ainews works in server channels only.")
        except CommandError as error:
            return self._answer(interaction, error_reply(error), ephemeral=True)
        request = _request_of(spec, interaction, args)
        refused = refusal(request.text, await request_lang(self.ctx, request))
        if refused is not None:
            return self._answer(interaction, refused, ephemeral=True)
        job = self._spawn(run(self.ctx, spec, request, args))
        if not spec.slow:
            done, _ = await asyncio.wait({job}, timeout=ACK_BUDGET_SECONDS)
            if done:
                return self._answer(interaction, job.result(), ephemeral=spec.ephemeral)
        deferred = {"type": DEFERRED_CHANNEL_MESSAGE, "data": {"flags": 0}}
        if spec.ephemeral:
            deferred["data"] = {"flags": EPHEMERAL}
        complete = functools.partial(
            self._complete, interaction, job, ephemeral=spec.ephemeral, received=received
        )
        return JSONResponse(deferred, background=BackgroundTask(self._start, complete))

    def _apology(self, lang: str = "") -> str:
        """The generic failure line in `lang` (else `[translate] default_lang`)."""
        return reader(lang, self.ctx.settings).render(GENERIC_FAILURE)

    def _render(self, reply: Reply) -> list[OutgoingMessage]:
        try:
            return render_reply(reply, self.ctx.settings) or [
                OutgoingMessage(content=self._apology(), ephemeral=True)
            ]
        except Exception:
            log.exception("rendering a reply failed")
            return [OutgoingMessage(content=self._apology(), ephemeral=True)]

    def _answer(self, interaction: dict[str, Any], reply: Reply, *, ephemeral: bool) -> Response:
        """The whole first message in the HTTP response; any further parts as follow-ups."""
        first, *rest = self._render(reply)
        if first.attachment is not None:  # files need multipart: send it through the webhook
            ready: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
            ready.set_result(reply)
            complete = functools.partial(
                self._complete, interaction, ready, ephemeral=ephemeral, received=time.monotonic()
            )
            data = {"flags": EPHEMERAL if ephemeral else 0}
            return JSONResponse(
                {"type": DEFERRED_CHANNEL_MESSAGE, "data": data},
                background=BackgroundTask(self._start, complete),
            )
        data = message_body(first, ephemeral=first.ephemeral or ephemeral)
        background = None
        if rest:
            follow = functools.partial(self._follow_ups, interaction, rest, ephemeral)
            background = BackgroundTask(self._start, follow)
        return JSONResponse({"type": CHANNEL_MESSAGE, "data": data}, background=background)

    async def _complete(
        self,
        interaction: dict[str, Any],
        job: Awaitable[Reply],
        *,
        ephemeral: bool,
        received: float,
    ) -> None:
        """Finish a deferred answer: edit the placeholder, then follow up, in the token life."""
        app_id, token = str(interaction.get("application_id")), str(interaction.get("token"))
        remaining = self.token_life - (time.monotonic() - received)
        try:
            async with asyncio.timeout(remaining):
                reply = await job
                messages = self._render(reply)
                if reply.ephemeral and not ephemeral:
                    # A public "thinking…" placeholder must not show a private answer (an error)
                    # to everyone: remove it and answer privately instead.
                    await self.webhooks.delete_original(app_id, token)
                    await self._follow_ups(interaction, messages, True)
                    return
                first, *rest = messages
                await self.webhooks.edit_original(app_id, token, first)
                await self._follow_ups(interaction, rest, ephemeral)
        except TimeoutError:
            log.warning("discord answer not ready within the interaction token's life; dropped")
        except Exception:
            log.exception("completing a discord interaction failed")

    async def _follow_ups(
        self, interaction: dict[str, Any], messages: list[OutgoingMessage], ephemeral: bool
    ) -> None:
        app_id, token = str(interaction.get("application_id")), str(interaction.get("token"))
        for message in messages:
            await self.webhooks.follow_up(
                app_id, token, message, ephemeral=message.ephemeral or ephemeral
            )

    # ---- autocomplete ------------------------------------------------------------------------
    async def _autocomplete(self, interaction: dict[str, Any]) -> Response:
        choices: list[dict[str, str]] = []
        try:
            spec, values, focused = _invocation(interaction)
        except CommandError:
            return JSONResponse({"type": AUTOCOMPLETE_RESULT, "data": {"choices": choices}})
        param = next((p for p in spec.params if p.name == focused), None)
        if param is not None and param.kind in ("tag", "tags"):
            current = str(values.get(param.name) or "")
            suggestions = await tag_suggestions(self.ctx, current)
            choices = [{"name": label, "value": value} for label, value in suggestions]
        return JSONResponse({"type": AUTOCOMPLETE_RESULT, "data": {"choices": choices}})

    # ---- tasks -------------------------------------------------------------------------------
    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _start(self, work: Callable[[], Awaitable[None]]) -> None:
        """Runs after the HTTP response went out: Discord knows the interaction by then."""
        self._spawn(work())


def create_interactions_endpoint(ctx: AppContext) -> DiscordInteractions:
    """The endpoint for `[discord] interactions = "http"`; needs DISCORD_PUBLIC_KEY."""
    public_key = ctx.settings.secrets.discord_public_key
    if public_key is None:
        raise ConfigError('[discord] interactions = "http" needs DISCORD_PUBLIC_KEY (hex)')
    verifier = SignatureVerifier(public_key.get_secret_value())
    return DiscordInteractions(
        ctx, verifier, InteractionWebhooks(ctx.settings.discord.api_base_url)
    )

"""The Discord adapter: a discord.py client whose `/ainews` command group is built from the table.

`bot.commands.commands()` is the only list of commands: each `CommandSpec` becomes a subcommand
with typed, described options, and each invocation becomes a neutral `CommandRequest` run through
`bot.commands.run` with the already-typed arguments. Rendering lives in `discord_render`, channel
delivery in `discord_notifier`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.http import Route

from adapters.discord_feedback import register_reactions
from adapters.discord_notifier import DiscordNotifier
from adapters.discord_render import OutgoingMessage, render_reply
from bot.commands import (
    GENERIC_FAILURE,
    MAX_COMMAND_CHARS,
    CommandSpec,
    ParamSpec,
    commands,
    error_reply,
    is_hidden_control,
    run,
)
from bot.config import Settings
from bot.errors import CommandError, ConfigError
from bot.messages import CommandRequest, Reply
from bot.observe import COMMAND_ACK_SECONDS
from bot.search import recent_tags

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

GROUP_NAME = "ainews"
# Discord invalidates an interaction not answered within 3 s; defer well before that.
ACK_BUDGET_SECONDS = 2.0
# discord.py sleeps on a 429 up to this long itself and raises `RateLimited` beyond (30 s floor).
MAX_RATELIMIT_WAIT_SECONDS = 30.0
TAG_WINDOW = timedelta(weeks=4)
MAX_CHOICES = 25


def use_api_base(url: str) -> None:
    """Point every REST call discord.py makes (bot, interactions, webhooks) at `url`.

    discord.py builds all URLs from the class attribute `discord.http.Route.BASE`; this is the one
    place ainews changes it (`[discord] api_base_url`, default `https://discord.com/api/v10`).
    """
    Route.BASE = url.rstrip("/")


def make_client(settings: Settings) -> discord.Client:
    """A client that never pings (`AllowedMentions.none()`), auto-sharded when configured."""
    options: dict[str, Any] = {
        # guild reactions are not privileged: 👍/👎 on alerts tune the channel (discord_feedback)
        "intents": discord.Intents(guilds=True, guild_reactions=True),
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": MAX_RATELIMIT_WAIT_SECONDS,
    }
    if settings.discord.shard_count:
        return discord.AutoShardedClient(shard_count=settings.discord.shard_count, **options)
    return discord.Client(**options)


def _annotation(param: ParamSpec) -> Any:
    if param.kind == "int":
        if param.min_value is None and param.max_value is None:
            return int
        return app_commands.Range[int, param.min_value, param.max_value]
    # Discord enforces the length in the client; `_refusal` re-checks what arrives.
    return app_commands.Range[str, None, MAX_COMMAND_CHARS]


def _typed_value(param: ParamSpec, value: Any) -> Any:
    """The same typed values `bot.commands.parse_text` produces from text."""
    if value is None:
        return None
    if param.kind == "int":
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if param.kind == "tags":
        return [word.lower() for word in text.replace(",", " ").split()]
    if param.kind in ("tag", "lang", "choice"):
        return text.lower()
    return text


def _as_text(spec: CommandSpec, args: dict[str, Any]) -> str:
    """The invocation as `/ainews` text, for logs and handlers that read `request.text`."""
    words = [spec.name]
    for param in spec.params:
        value = args.get(param.name)
        if value is None:
            continue
        shown = " ".join(value) if isinstance(value, list) else str(value)
        words.extend([param.name, shown] if spec.name == "settings" else [shown])
    return " ".join(words)


def _refusal(text: str) -> Reply | None:
    """Typed options skip `parse_text`, so its table-wide input checks are applied here."""
    if len(text) > MAX_COMMAND_CHARS:
        message = f"That command is too long (over {MAX_COMMAND_CHARS} characters)."
        return error_reply(CommandError(message, "/ainews help"))
    if any(is_hidden_control(char) for char in text):
        message = "That command contains control or text-direction characters."
        return error_reply(CommandError(message, "/ainews help"))
    return None


def _send_options(message: OutgoingMessage) -> dict[str, Any]:
    options: dict[str, Any] = {
        "content": message.content or None,
        "ephemeral": message.ephemeral,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if message.embeds:
        options["embeds"] = [discord.Embed.from_dict(embed) for embed in message.embeds]
    if message.attachment is not None:
        name, data = message.attachment
        options["file"] = discord.File(io.BytesIO(data), filename=name)
    return options


class AinewsCommands:
    """Builds the `/ainews` group from the command table and answers its interactions."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def group(self) -> app_commands.Group:
        # One group keeps `/ainews subscribe llm` as documented. Discord applies default member
        # permissions per top-level command only, so managing subcommands are guarded at run
        # time (Manage Channels → `can_manage`) rather than hidden.
        group = app_commands.Group(
            name=GROUP_NAME, description="AI news digests, alerts and summaries", guild_only=True
        )
        for spec in commands():
            group.add_command(self._command(spec, group))
        return group

    def _command(
        self, spec: CommandSpec, parent: app_commands.Group
    ) -> app_commands.Command[Any, ..., None]:
        async def callback(interaction: discord.Interaction, **values: Any) -> None:
            await self.invoke(spec, interaction, values)

        parameters = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for param in spec.params:
            parameters.append(
                inspect.Parameter(
                    param.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=_annotation(param),
                    default=inspect.Parameter.empty if param.required else None,
                )
            )
        # discord.py reads options from the callback's signature; ours is generated from the spec.
        callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        callback.__qualname__ = callback.__name__ = f"ainews_{spec.name}"
        descriptions = {p.name: p.description[:100] for p in spec.params}
        if descriptions:
            callback = app_commands.describe(**descriptions)(callback)
        choices = {
            p.name: [app_commands.Choice(name=c, value=c) for c in p.choices]
            for p in spec.params
            if p.choices
        }
        if choices:
            callback = app_commands.choices(**choices)(callback)
        completers = {p.name: self.complete_tags for p in spec.params if p.kind in ("tag", "tags")}
        if completers:
            callback = app_commands.autocomplete(**completers)(callback)
        return app_commands.Command(
            name=spec.name, description=spec.description[:100], callback=callback, parent=parent
        )

    def request_of(
        self, spec: CommandSpec, interaction: discord.Interaction, args: dict[str, Any]
    ) -> CommandRequest:
        channel = interaction.channel
        return CommandRequest(
            platform="discord",
            workspace=str(interaction.guild_id or ""),
            channel=str(interaction.channel_id or ""),
            user=str(interaction.user.id),
            text=_as_text(spec, args),
            can_manage=interaction.permissions.manage_channels,
            channel_name=str(getattr(channel, "name", "") or ""),
            locale=str(interaction.locale),
        )

    async def invoke(
        self, spec: CommandSpec, interaction: discord.Interaction, values: dict[str, Any]
    ) -> None:
        """Answer within Discord's 3 s: slow specs defer at once, others if they take too long."""
        params = {p.name: p for p in spec.params}
        args = {
            name: typed
            for name, value in values.items()
            if (typed := _typed_value(params[name], value)) is not None
        }
        request = self.request_of(spec, interaction, args)
        refusal = _refusal(request.text)
        if refusal is not None:
            await self.respond(interaction, refusal, ephemeral=True)
            return
        received = time.perf_counter()
        acked = spec.slow
        if spec.slow:
            await interaction.response.defer(ephemeral=spec.ephemeral, thinking=True)
        task = asyncio.ensure_future(run(self.ctx, spec, request, args))
        if not spec.slow:
            done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_SECONDS)
            if not done:
                await interaction.response.defer(ephemeral=spec.ephemeral, thinking=True)
                acked = True
        if acked:
            COMMAND_ACK_SECONDS.labels(platform="discord").observe(time.perf_counter() - received)
        reply = await task
        await self.respond(interaction, reply, ephemeral=spec.ephemeral)
        if not acked:  # the answer itself was the acknowledgement
            COMMAND_ACK_SECONDS.labels(platform="discord").observe(time.perf_counter() - received)

    async def respond(
        self, interaction: discord.Interaction, reply: Reply, *, ephemeral: bool
    ) -> None:
        """Send the rendered answer: the first message as the response, the rest as follow-ups."""
        try:
            messages = render_reply(reply, self.ctx.settings)
        except Exception:
            log.exception("rendering a reply failed")
            messages = [OutgoingMessage(content=GENERIC_FAILURE, ephemeral=True)]
        if (
            reply.ephemeral
            and not ephemeral
            and interaction.response.type
            is discord.InteractionResponseType.deferred_channel_message
        ):
            # A public "thinking…" placeholder would show a private answer (an error) to everyone;
            # remove it so the ephemeral follow-up below is a message of its own.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        for message in messages:
            options = _send_options(message)
            options["ephemeral"] = message.ephemeral or ephemeral
            if interaction.response.is_done():
                await interaction.followup.send(wait=True, **options)
            else:
                await interaction.response.send_message(**options)

    async def complete_tags(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Tags stored in the last weeks matching what is typed (the last word for tag lists)."""
        words = current.replace(",", " ").split()
        prefix = words[-1].lower().lstrip("#") if words and not current.endswith(" ") else ""
        kept = " ".join(words[:-1] if prefix else words)
        since = self.ctx.clock.now() - TAG_WINDOW
        async with self.ctx.db.session() as session:
            ranked = await recent_tags(session, since, limit=200)
        out: list[app_commands.Choice[str]] = []
        for tag, count in ranked:
            if tag.startswith(prefix) and tag not in words:
                value = f"{kept} {tag}".strip()[:100]
                out.append(app_commands.Choice(name=f"{value} ({count})"[:100], value=value))
            if len(out) >= MAX_CHOICES:
                break
        return out


def build_tree(client: discord.Client, ctx: AppContext) -> app_commands.CommandTree[Any]:
    """The client's command tree holding the `/ainews` group; errors are logged, never raised."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    tree.add_command(AinewsCommands(ctx).group())

    @tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("discord command failed", exc_info=error, extra={"interaction": interaction.id})
        with contextlib.suppress(discord.HTTPException):
            if not interaction.response.is_done():
                await interaction.response.send_message(GENERIC_FAILURE, ephemeral=True)

    return tree


async def sync_commands(
    tree: app_commands.CommandTree[Any], settings: Settings
) -> list[app_commands.AppCommand]:
    """Register the commands with Discord: globally, or in `[discord] dev_guild_id` (instant)."""
    guild_id = settings.discord.dev_guild_id
    if guild_id is None:
        return await tree.sync()
    guild = discord.Object(id=guild_id)
    tree.copy_global_to(guild=guild)
    return await tree.sync(guild=guild)


@dataclass
class DiscordService:
    """What `ainews run` holds: the logged-in client, its tree, the outbox notifier."""

    client: discord.Client
    tree: app_commands.CommandTree[Any]
    notifier: DiscordNotifier
    gateway: asyncio.Task[None] | None = None

    async def close(self) -> None:
        await self.client.close()
        if self.gateway is not None:
            self.gateway.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.gateway


async def start_discord(ctx: AppContext, *, connect_gateway: bool = True) -> DiscordService:
    """Log in with `DISCORD_BOT_TOKEN`, sync `/ainews`, and listen on the gateway in a task.

    `connect_gateway=False` stops after login and sync (REST only), which the tests use.
    """
    token = ctx.settings.secrets.discord_bot_token
    if token is None:
        raise ConfigError("DISCORD_BOT_TOKEN is not set; the Discord adapter needs it")
    if ctx.settings.discord.use_webhooks:
        # Webhook executes cannot carry `enforce_nonce` and need Manage Webhooks: not used.
        log.warning("[discord] use_webhooks is not supported; posting as the bot instead")
    use_api_base(ctx.settings.discord.api_base_url)
    client = make_client(ctx.settings)
    tree = build_tree(client, ctx)
    register_reactions(client, ctx)
    try:
        await client.login(token.get_secret_value())
        await sync_commands(tree, ctx.settings)
    except BaseException:
        await client.close()
        raise
    service = DiscordService(client, tree, DiscordNotifier(client.http, ctx.settings))
    if connect_gateway:
        service.gateway = asyncio.create_task(_listen(client), name="discord-gateway")
    return service


async def _listen(client: discord.Client) -> None:
    try:
        await client.connect(reconnect=True)
    except Exception:
        log.exception("discord gateway stopped")
        raise

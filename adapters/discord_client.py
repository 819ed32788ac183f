"""The Discord adapter: a discord.py client whose `/ainews` command group is built from the table.

`bot.commands.commands()` is the only list of commands: each `CommandSpec` becomes a subcommand
with typed, described options, and each invocation becomes a neutral `CommandRequest` run through
`bot.commands.run` with the already-typed arguments. Rendering lives in `discord_render`, channel
delivery in `discord_notifier`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import io
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord_commands import GROUP_NAME, as_text, refusal, tag_suggestions, typed_value
from adapters.discord_notifier import DiscordNotifier
from adapters.discord_render import OutgoingMessage, render_reply
from bot.commands import GENERIC_FAILURE, MAX_COMMAND_CHARS, CommandSpec, ParamSpec, commands, run
from bot.config import Settings
from bot.errors import ConfigError
from bot.messages import CommandRequest, Reply
from bot.store.state import read_state, write_state

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

# Discord invalidates an interaction not answered within 3 s; defer well before that.
ACK_BUDGET_SECONDS = 2.0
# discord.py sleeps on a 429 up to this long itself and raises `RateLimited` beyond (30 s floor).
MAX_RATELIMIT_WAIT_SECONDS = 30.0


def use_api_base(url: str) -> None:
    """Point every REST call discord.py makes (bot, interactions, webhooks) at `url`.

    discord.py builds all URLs from the class attribute `discord.http.Route.BASE`; this is the one
    place ainews changes it (`[discord] api_base_url`, default `https://discord.com/api/v10`).
    """
    Route.BASE = url.rstrip("/")


def use_gateway(url: str) -> None:
    """Connect the gateway to `url` (`[discord] gateway_url`) instead of Discord's host.

    discord.py dials `DiscordWebSocket.DEFAULT_GATEWAY` for a first connection and after an
    INVALID_SESSION (a RESUME uses the `resume_gateway_url` READY gave), so this is where a
    loopback fake gateway, or a gateway proxy, is set.
    """
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


def make_client(settings: Settings) -> discord.Client:
    """A client that never pings (`AllowedMentions.none()`), auto-sharded when configured."""
    options: dict[str, Any] = {
        "intents": discord.Intents(guilds=True),
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
            text=as_text(spec, args),
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
            if (typed := typed_value(params[name], value)) is not None
        }
        request = self.request_of(spec, interaction, args)
        refused = refusal(request.text)
        if refused is not None:
            await self.respond(interaction, refused, ephemeral=True)
            return
        if spec.slow:
            await interaction.response.defer(ephemeral=spec.ephemeral, thinking=True)
        task = asyncio.ensure_future(run(self.ctx, spec, request, args))
        if not spec.slow:
            done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_SECONDS)
            if not done:
                await interaction.response.defer(ephemeral=spec.ephemeral, thinking=True)
        reply = await task
        await self.respond(interaction, reply, ephemeral=spec.ephemeral)

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
        return [
            app_commands.Choice(name=label, value=value)
            for label, value in await tag_suggestions(self.ctx, current)
        ]


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


def command_table_hash(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> str:
    """A digest of exactly what a sync would send: a changed table gives a different digest."""
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync_commands(
    tree: app_commands.CommandTree[Any], ctx: AppContext
) -> list[app_commands.AppCommand] | None:
    """Register the commands with Discord — globally, or in `[discord] dev_guild_id` (instant) —
    only when the table differs from the last successful sync (its hash is kept in the store).

    Discord rate-limits command syncs; a restart with an unchanged table makes no call and
    returns None.
    """
    guild_id = ctx.settings.discord.dev_guild_id
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    scope = f"guild:{guild_id}" if guild_id is not None else "global"
    key = f"discord:commands:{tree.client.application_id}:{scope}"
    digest = command_table_hash(tree, guild)
    if await read_state(ctx.db, key) == digest:
        log.info("discord commands unchanged; not syncing", extra={"scope": scope})
        return None
    synced = await tree.sync(guild=guild)
    await write_state(ctx.db, key, digest, ctx.clock.now())
    return synced


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


async def start_discord(
    ctx: AppContext, *, connect_gateway: bool = True, sync: bool = True
) -> DiscordService:
    """Log in with `DISCORD_BOT_TOKEN`, sync `/ainews` if it changed, listen on the gateway.

    `connect_gateway=False` stops after login (REST only: delivery, HTTP interactions, tests);
    `sync=False` skips the command sync (`run --once` never syncs).
    """
    token = ctx.settings.secrets.discord_bot_token
    if token is None:
        raise ConfigError("DISCORD_BOT_TOKEN is not set; the Discord adapter needs it")
    if ctx.settings.discord.use_webhooks:
        # Webhook executes cannot carry `enforce_nonce` and need Manage Webhooks: not used.
        log.warning("[discord] use_webhooks is not supported; posting as the bot instead")
    use_api_base(ctx.settings.discord.api_base_url)
    use_gateway(ctx.settings.discord.gateway_url)
    client = make_client(ctx.settings)
    tree = build_tree(client, ctx)
    try:
        await client.login(token.get_secret_value())
        if sync:
            await sync_commands(tree, ctx)
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

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
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord_commands import GROUP_NAME, as_text, refusal, tag_suggestions, typed_value
from adapters.discord_feedback import register_reactions
from adapters.discord_notifier import DiscordNotifier
from adapters.discord_render import OutgoingMessage, render_reply
from adapters.i18n import DEFAULT_LANG, translator, ui_lang
from adapters.reply_text import reader
from bot.commands import (
    GENERIC_FAILURE,
    MAX_COMMAND_CHARS,
    CommandSpec,
    ParamSpec,
    commands,
    request_lang,
    run,
)
from bot.config import Settings
from bot.errors import ConfigError
from bot.messages import N_, CommandRequest, Reply
from bot.observe import COMMAND_ACK_SECONDS
from bot.store.state import read_state, write_state

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

# A catalogue id: the handler words it in the channel's language.
CANNOT_POST = N_("error.cannot_post_discord")
# Discord invalidates an interaction not answered within 3 s; defer well before that.
ACK_BUDGET_SECONDS = 2.0
# An interaction token is valid for 15 minutes; past that (with a minute's margin) a slow answer
# (a long translation) goes to the channel with the bot token instead of being lost.
INTERACTION_TOKEN_LIFETIME = timedelta(minutes=14)
# discord.py sleeps on a 429 up to this long itself and raises `RateLimited` beyond (30 s floor).
MAX_RATELIMIT_WAIT_SECONDS = 30.0


def use_api_base(url: str) -> None:
    """Point every REST call discord.py makes (bot, interactions, webhooks) at `url`.

    discord.py has no per-client base URL: every URL comes from the class attribute
    `discord.http.Route.BASE` (its own `_set_api_version` sets it too). So it is changed only
    when `[discord] api_base_url` is not Discord's own — a loopback fake or a proxy — and never in
    a normal deployment.
    """
    base = url.rstrip("/")
    if base != Route.BASE:
        Route.BASE = base


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
    # Discord enforces the length in the client; `refusal` re-checks what arrives.
    return app_commands.Range[str, None, MAX_COMMAND_CHARS]


def _described(message_id: str) -> app_commands.locale_str:
    """A command or option description: English (Discord's default locale) with the catalogue
    id attached, so `CatalogueTranslator` can localise it for other client languages."""
    return app_commands.locale_str(translator("en")(message_id)[:100], key=message_id)


class CatalogueTranslator(app_commands.Translator):
    """Command help in the reader's client language: Discord sends `description_localizations`
    from this at sync, so a Japanese client shows the ja catalogue's wording."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = ui_lang(locale.value)
        if not key or lang == DEFAULT_LANG:  # English is what the command already says
            return None
        return translator(lang)(str(key))[:100]


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
            name=GROUP_NAME, description=_described(N_("cmd.group")), guild_only=True
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
        descriptions = {p.name: _described(p.description) for p in spec.params}
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
            name=spec.name,
            description=_described(spec.description),
            callback=callback,
            parent=parent,
        )

    def request_of(
        self, spec: CommandSpec, interaction: discord.Interaction, args: dict[str, Any]
    ) -> CommandRequest:
        channel = interaction.channel
        # what the bot itself may do in this channel, as Discord computed it for the interaction
        bot = interaction.app_permissions
        can_post = bot.view_channel and bot.send_messages
        return CommandRequest(
            platform="discord",
            workspace=str(interaction.guild_id or ""),
            channel=str(interaction.channel_id or ""),
            user=str(interaction.user.id),
            text=as_text(spec, args),
            can_manage=interaction.permissions.manage_channels,
            channel_name=str(getattr(channel, "name", "") or ""),
            locale=str(interaction.locale),
            bot_can_post=can_post,
            post_problem="" if can_post else CANNOT_POST,
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
        refused = refusal(request.text, await request_lang(self.ctx, request))
        if refused is not None:
            await self.respond(interaction, refused, ephemeral=True)
            return
        started = self.ctx.clock.now()
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
        expired = self.ctx.clock.now() - started >= INTERACTION_TOKEN_LIFETIME
        await self.respond(interaction, reply, ephemeral=spec.ephemeral, token_expired=expired)
        if not acked:  # the answer itself was the acknowledgement
            COMMAND_ACK_SECONDS.labels(platform="discord").observe(time.perf_counter() - received)

    async def respond(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        *,
        ephemeral: bool,
        token_expired: bool = False,
    ) -> None:
        """Send the rendered answer: the first message as the response, the rest as follow-ups."""
        try:
            messages = render_reply(reply, self.ctx.settings)
        except Exception:
            log.exception("rendering a reply failed")
            apology = reader(reply.lang, self.ctx.settings).render(GENERIC_FAILURE)
            messages = [OutgoingMessage(content=apology, ephemeral=True)]
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
        for index, message in enumerate(messages):
            options = _send_options(message)
            options["ephemeral"] = message.ephemeral or ephemeral
            if token_expired:
                await self._post_with_bot_token(interaction, messages[index:], ephemeral)
                return
            try:
                if interaction.response.is_done():
                    await interaction.followup.send(wait=True, **options)
                else:
                    await interaction.response.send_message(**options)
            except (discord.NotFound, discord.Forbidden, discord.HTTPException) as error:
                if getattr(error, "status", 0) not in (401, 404):
                    raise
                log.info("[discord] interaction token no longer valid; posting as the bot")
                await self._post_with_bot_token(interaction, messages[index:], ephemeral)
                return

    async def _post_with_bot_token(
        self, interaction: discord.Interaction, messages: list[OutgoingMessage], ephemeral: bool
    ) -> None:
        """The rest of an answer whose interaction token expired, sent to the channel as the bot.

        A private answer cannot be made private outside the interaction, so it is not posted.
        """
        if ephemeral or interaction.channel_id is None:
            log.warning("[discord] interaction token expired; a private answer was not delivered")
            return
        channel = interaction.client.get_partial_messageable(interaction.channel_id)
        for message in messages:
            if message.ephemeral:
                continue
            options = _send_options(message)
            del options["ephemeral"]
            try:
                await channel.send(**options)
            except discord.HTTPException:
                log.warning(
                    "[discord] posting an expired interaction's answer failed", exc_info=True
                )
                return

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
                apology = reader(ctx.settings.translate.default_lang, ctx.settings)
                await interaction.response.send_message(
                    apology.render(GENERIC_FAILURE), ephemeral=True
                )

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
    await tree.set_translator(CatalogueTranslator())
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
    register_reactions(client, ctx)
    try:
        await client.login(token.get_secret_value())
        if sync:
            await sync_commands(tree, ctx)
    except BaseException:
        await client.close()
        raise
    service = DiscordService(client, tree, DiscordNotifier(client, ctx.settings))
    if connect_gateway:
        service.gateway = asyncio.create_task(_listen(client), name="discord-gateway")
    return service


async def _listen(client: discord.Client) -> None:
    try:
        await client.connect(reconnect=True)
    except Exception:
        log.exception("discord gateway stopped")
        raise

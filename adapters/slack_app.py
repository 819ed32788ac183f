"""The Slack adapter: `/ainews` through slack-bolt, over HTTP (`POST /slack/events`) or Socket Mode.

Bolt verifies every HTTP request (v0 HMAC, 5-minute window) before anything else runs; a failed
check is answered 401 and does no work. The command is acknowledged at once and answered through
the response_url (or chat.postMessage for a long translation, as a thread): translation only, no
logic lives here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.http_body import read_capped_body
from adapters.i18n import Translator
from adapters.reply_text import reader
from adapters.slack_feedback import register_reactions
from adapters.slack_notifier import ChannelPacer, make_web_client, post_messages
from adapters.slack_render import escape, link, render_reply, section
from bot.commands import GENERIC_FAILURE, CommandSpec, error_reply, parse_text, request_lang, run
from bot.errors import CommandError, ConfigError
from bot.links import article_permalink
from bot.messages import N_, CommandRequest, Reply
from bot.observe import COMMAND_ACK_SECONDS

if TYPE_CHECKING:
    from bot.context import AppContext

__all__ = [
    "EVENTS_PATH",
    "SlackSocketMode",
    "build_slack_app",
    "create_slack_routes",
    "start_socket_mode",
    "to_command_request",
]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SLASH_COMMAND = "/ainews"
RESPONSE_URL_USES = 5  # Slack accepts at most five posts per response_url
# A response_url is valid for 30 minutes; past that (with a minute's margin) a slow answer (a
# long translation) goes to the channel with the bot token instead of being lost.
RESPONSE_URL_LIFETIME = timedelta(minutes=29)
MAX_REQUEST_BYTES = 64 * 1024  # slash-command bodies are a few hundred bytes
REPLAY_WINDOW_SECONDS = 6 * 60.0  # a little longer than the 5 minutes a timestamp is valid
_SLOT = "\ue000"  # where a ready-made link goes into a catalogue sentence
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def to_command_request(command: dict[str, Any]) -> CommandRequest:
    """A slash-command payload as the neutral request the command table understands."""
    return CommandRequest(
        platform="slack",
        workspace=str(command.get("team_id", "")),
        channel=str(command.get("channel_id", "")),
        user=str(command.get("user_id", "")),
        text=str(command.get("text", "")),
        channel_name=str(command.get("channel_name", "")),
    )


def _response_type(spec: CommandSpec | None, reply: Reply) -> str:
    private = reply.ephemeral or reply.is_error or (spec is not None and spec.ephemeral)
    return "ephemeral" if private else "in_channel"


# Commands that promise deliveries to the channel check first that the bot may post there.
POST_CHECKED_COMMANDS = frozenset({"subscribe", "resume"})
# A catalogue id: the handler words it in the channel's language.
INVITE_FIRST = N_("error.cannot_post")


async def with_post_check(client: AsyncWebClient, request: CommandRequest) -> CommandRequest:
    """Whether the bot can post here: a member may; in a public channel, so may a token with
    `chat:write.public`. A private channel the bot is not in is invisible to it
    (`channel_not_found`). When Slack cannot tell us, the request goes on unchecked."""
    try:
        response = await client.conversations_info(channel=request.channel)
    except SlackApiError as error:
        data = getattr(error.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        if code == "channel_not_found":
            return replace(request, bot_can_post=False, post_problem=INVITE_FIRST)
        return request
    except (aiohttp.ClientError, TimeoutError):
        return request
    channel = response.get("channel") or {}
    if channel.get("is_member") or channel.get("is_im"):
        return replace(request, bot_can_post=True)
    scopes = str(response.headers.get("x-oauth-scopes", "") or "")
    granted = {scope.strip() for scope in scopes.split(",")}
    if not channel.get("is_private") and "chat:write.public" in granted:
        return replace(request, bot_can_post=True)
    return replace(request, bot_can_post=False, post_problem=INVITE_FIRST)


async def is_workspace_admin(client: AsyncWebClient, user_id: str) -> bool:
    """Slash payloads carry no roles; users.info says whether the user administers the team."""
    try:
        response = await client.users_info(user=user_id)
    except (SlackApiError, aiohttp.ClientError, TimeoutError):
        log.warning("users.info failed; treating user as not an admin", exc_info=True)
        return False
    user = response.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


class SlashCommandAnswerer:
    """Runs one acknowledged command and posts its reply where Slack expects it."""

    def __init__(self, ctx: AppContext, pacer: ChannelPacer) -> None:
        self.ctx = ctx
        self.pacer = pacer

    async def answer(
        self,
        spec: CommandSpec,
        request: CommandRequest,
        args: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        settings = self.ctx.settings
        received = self.ctx.clock.now()
        if spec.manages(args) and settings.slack.admins_only:
            request = replace(request, can_manage=await is_workspace_admin(client, request.user))
        if spec.name in POST_CHECKED_COMMANDS:
            request = await with_post_check(client, request)
        reply = await run(self.ctx, spec, request, args)
        payloads = render_reply(reply, settings)
        response_type = _response_type(spec, reply)
        if self.ctx.clock.now() - received >= RESPONSE_URL_LIFETIME:
            await self._post_with_bot_token(client, request, payloads, response_type)
            return
        # A long translation, or anything over the response_url's five posts, goes out as a
        # thread when the bot may post in the channel.
        threaded = len(payloads) > RESPONSE_URL_USES or (
            reply.translation is not None and len(payloads) > 1
        )
        if (
            threaded
            and response_type == "in_channel"
            and await self._post_thread(client, request.channel, payloads)
        ):
            await self._upload_chart(client, request.channel, reply, respond)
            return
        rest = await self._respond_all(respond, payloads, response_type, reply)
        if rest:
            await self._post_with_bot_token(client, request, rest, response_type)
        await self._upload_chart(client, request.channel, reply, respond)

    async def _post_with_bot_token(
        self,
        client: AsyncWebClient,
        request: CommandRequest,
        payloads: Sequence[dict[str, Any]],
        response_type: str,
    ) -> None:
        """An answer that outlived its response_url, posted with the bot token instead."""
        try:
            if response_type == "in_channel":
                if not await self._post_thread(client, request.channel, payloads):
                    log.warning("slack answer lost: response_url expired, bot not in channel")
                return
            for payload in payloads:
                await client.chat_postEphemeral(
                    channel=request.channel, user=request.user, **payload
                )
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            log.warning("slack answer lost: response_url expired and posting failed", exc_info=True)

    def translator(self, reply: Reply) -> Translator:
        return reader(reply.lang, self.ctx.settings)

    async def _upload_chart(
        self, client: AsyncWebClient, channel: str, reply: Reply, respond: AsyncRespond
    ) -> None:
        """A reply's chart as a file in the channel (files.uploadV2: get URL, upload, complete);
        a channel the bot is not in gets a note instead of an error."""
        if not reply.chart_png:
            return
        t = self.translator(reply)
        try:
            await client.files_upload_v2(
                channel=channel,
                file=reply.chart_png,
                alt_txt=t("chart.alt"),
                filename=reply.chart_name or "chart.png",
                title=reply.chart_name or "chart",
            )
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            log.warning("slack chart upload refused", extra={"error": code})
            await respond(
                response_type="ephemeral",
                text=t("chart.upload_failed"),
            )

    async def _post_thread(
        self, client: AsyncWebClient, channel: str, payloads: Sequence[dict[str, Any]]
    ) -> bool:
        """The answer as a thread of chat.postMessage; False when the bot may not post there."""
        try:
            await post_messages(client, channel, payloads, self.pacer, thread=True)
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in NOT_A_MEMBER:
                return False
            raise
        return True

    async def _respond_all(
        self,
        respond: AsyncRespond,
        payloads: list[dict[str, Any]],
        response_type: str,
        reply: Reply,
    ) -> list[dict[str, Any]]:
        """Post through the response_url; returns what an expired URL (404) refused."""
        if len(payloads) > RESPONSE_URL_USES:
            payloads = [*payloads[: RESPONSE_URL_USES - 1], self._too_long_note(reply)]
        for index, payload in enumerate(payloads):
            result = await respond({**payload, "response_type": response_type})
            if result.status_code != 200:
                log.warning(
                    "slack response_url post refused",
                    extra={"status": result.status_code, "body": str(result.body)[:200]},
                )
                return payloads[index:] if result.status_code == 404 else []
        return []

    def _too_long_note(self, reply: Reply) -> dict[str, Any]:
        t = self.translator(reply)
        text = escape(t("slack.too_long"))
        article_id = reply.card.article_id if reply.card is not None else None
        if article_id is not None:
            page = article_permalink(self.ctx.settings, article_id)
            web_view = link(page, t("digest.web_view"))
            before, _, after = t("slack.read_on_web", link=_SLOT).partition(_SLOT)
            text += f" {escape(before)}{web_view}{escape(after)}"
        else:
            text += " " + escape(t("slack.invite"))
        return {"text": text, "blocks": [section(text)]}


def build_slack_app(
    ctx: AppContext,
    *,
    client: AsyncWebClient | None = None,
    pacer: ChannelPacer | None = None,
    signing_secret: str | None = None,
) -> AsyncApp:
    """The bolt app with `/ainews` registered; request verification stays on."""
    secrets = ctx.settings.secrets
    if signing_secret is None and secrets.slack_signing_secret is not None:
        signing_secret = secrets.slack_signing_secret.get_secret_value()
    web_client = client or make_web_client(ctx.settings)
    answerer = SlashCommandAnswerer(ctx, pacer or ChannelPacer())
    # Bolt logs refused requests with their whole body at INFO; keep bodies out of the logs.
    bolt_logger = logging.getLogger("adapters.slack_app.bolt")
    bolt_logger.setLevel(logging.WARNING)
    app = AsyncApp(
        name="ainews",
        client=web_client,
        signing_secret=signing_secret or "",
        process_before_response=False,
        logger=bolt_logger,
    )

    async def on_ainews(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        received = time.perf_counter()
        request = to_command_request(command)
        try:
            spec, args = parse_text(request.text)
        except CommandError as error:
            reply = error_reply(error, await request_lang(ctx, request))
            payload = render_reply(reply, ctx.settings)[0]
            await ack({**payload, "response_type": "ephemeral"})
            return
        if spec.slow:
            t = reader(await request_lang(ctx, request), ctx.settings)
            await ack(response_type="ephemeral", text=t("working"))
        else:
            await ack()
        COMMAND_ACK_SECONDS.labels(platform="slack").observe(time.perf_counter() - received)
        try:
            await answerer.answer(spec, request, args, respond, client)
        except Exception:
            log.exception("slack command answer failed", extra={"command": spec.name})
            try:
                t = reader(await request_lang(ctx, request), ctx.settings)
                await respond(response_type="ephemeral", text=t.render(GENERIC_FAILURE))
            except Exception:
                log.warning("could not tell the user about the failure", exc_info=True)

    app.command(SLASH_COMMAND)(on_ainews)
    register_reactions(app, ctx)
    return app


def create_slack_routes(ctx: AppContext, client: AsyncWebClient | None = None) -> list[BaseRoute]:
    """`POST /slack/events` for the public listener (needs SLACK_SIGNING_SECRET).

    `client`: a Web API client to share (the notifier's pooled one), so one session serves both.
    """
    if ctx.settings.secrets.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set")
    return [slack_events_route(build_slack_app(ctx, client=client))]


class ReplayGuard:
    """Signatures already accepted within Slack's 5-minute window; a replayed request is refused.

    Slack signs every delivery (retries included) afresh, so an identical signature means a copy.
    Per process: with several replicas, a copy sent to another replica is still only 5 minutes'
    worth of risk, which is what the timestamp window bounds anyway.
    """

    def __init__(self, window_seconds: float = REPLAY_WINDOW_SECONDS) -> None:
        self.window = window_seconds
        self._seen: dict[str, float] = {}

    def seen(self, signature: str) -> bool:
        return signature in self._seen and self._seen[signature] > time.monotonic()

    def remember(self, signature: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 50_000:
            self._seen = {sig: until for sig, until in self._seen.items() if until > now}
        self._seen[signature] = now + self.window


def slack_events_route(app: AsyncApp) -> Route:
    replays = ReplayGuard()

    async def slack_events(request: Request) -> Response:
        body = await read_capped_body(request, MAX_REQUEST_BYTES)
        if isinstance(body, Response):
            return body
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("body is not UTF-8", status_code=400)
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            # bolt would raise on int(); an unsigned-looking request is a 401, not a 500
            return PlainTextResponse("invalid request timestamp", status_code=401)
        signature = request.headers.get("x-slack-signature", "")
        if signature and replays.seen(signature):
            return PlainTextResponse("replayed request", status_code=401)
        bolt_response = await app.async_dispatch(to_async_bolt_request(request, bytes(body)))
        if signature and bolt_response.status != 401:
            replays.remember(signature)
        return to_starlette_response(bolt_response)

    return Route(EVENTS_PATH, slack_events, methods=["POST"])


class SlackSocketMode:
    """A running Socket Mode connection; `close()` disconnects it."""

    def __init__(self, handler: AsyncSocketModeHandler) -> None:
        self.handler = handler

    async def close(self) -> None:
        await self.handler.close_async()  # type: ignore[no-untyped-call]


async def start_socket_mode(
    ctx: AppContext, client: AsyncWebClient | None = None
) -> SlackSocketMode:
    """Connect to Slack over Socket Mode (SLACK_APP_TOKEN); no public URL needed."""
    app_token = ctx.settings.secrets.slack_app_token
    if app_token is None:
        raise ConfigError("SLACK_APP_TOKEN is not set")
    app = build_slack_app(ctx, client=client, signing_secret="")
    handler = AsyncSocketModeHandler(app, app_token.get_secret_value())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    return SlackSocketMode(handler)

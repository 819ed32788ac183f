"""Composition root: the only module that imports every adapter and command group.

`serve()` builds the context, the notifier registry (one `Notifier` per platform), the scheduler,
the listeners (the private web view, the platforms' public endpoint) and any long-running
adapter, and owns their cleanup in reverse order. A role (`all`, `worker`, `front`) picks which
of these parts one process runs; the parts themselves are the same.

Everything a command does not need is imported where it is used, so `ainews --help` and
`ainews fetch` do not load the enrichment pipeline, the scheduler or any platform SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TextIO

from adapters.cli import (  # noqa: F401  (register commands)
    channel_cmds,
    db_cmds,
    enrich_cmds,
    ingest_cmds,
    llm_cmds,
    service_cmds,
)
from adapters.cli.app import app
from adapters.cli.lang import cli_translator
from adapters.i18n import N_, Translator

if TYPE_CHECKING:
    from adapters.listeners import Listener
    from bot.config import Settings
    from bot.context import AppContext
    from bot.jobs import CycleReport
    from bot.ports import Clock, Notifier

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


@dataclass
class Service:
    """What `serve()` runs: the context, notifiers by platform, HTTP routes and closers.

    A platform adapter joins by adding its notifier to `notifiers`, its HTTP endpoints to
    `routes` (served by the public listener, never by the web view) and its shutdown to
    `closers` — nothing else changes.
    """

    ctx: AppContext
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    routes: list[Any] = field(default_factory=list)
    closers: list[Closer] = field(default_factory=list)

    async def aclose(self) -> None:
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing the service")
        await self.ctx.aclose()


Role = Literal["all", "worker", "front"]
ROLES: tuple[Role, ...] = ("all", "worker", "front")


def answers_commands(role: Role) -> bool:
    """The front answers people: Slack, Discord (gateway or HTTP) and the web view."""
    return role in ("all", "front")


def delivers(role: Role) -> bool:
    """The worker polls, enriches, queues and delivers: the scheduler and the notifiers."""
    return role in ("all", "worker")


async def build_service(
    settings: Settings,
    *,
    clock: Clock | None = None,
    stream: TextIO | None = None,
    long_running: bool = False,
    role: Role = "all",
) -> Service:
    """Open the store, build the notifier registry and the platform adapters whose tokens are set.

    `long_running` adds what only a serving process needs: Slack's endpoint or Socket Mode and
    Discord's gateway or HTTP endpoint; a one-shot cycle only needs the notifiers. `role` keeps
    the parts of one side: a worker builds no command surface, a front no notifier.
    """
    from adapters.console import ConsoleNotifier
    from bot.channels import console_wanted
    from bot.context import build_context

    ctx = await build_context(settings, clock=clock)
    service = Service(ctx=ctx)
    answers = long_running and answers_commands(role)
    if delivers(role) and console_wanted(settings):
        service.notifiers["console"] = ConsoleNotifier(stream, settings.translate.default_lang)
    try:
        await _add_slack(service, answers=answers, delivers=delivers(role))
        await _add_discord(service, answers=answers, delivers=delivers(role))
    except BaseException:
        await service.aclose()
        raise
    for notifier in service.notifiers.values():
        closer = getattr(notifier, "aclose", None)
        if closer is not None:
            service.closers.append(closer)
    return service


async def _add_slack(service: Service, *, answers: bool, delivers: bool) -> None:
    """Slack joins when SLACK_BOT_TOKEN is set: HTTP with the signing secret, else Socket Mode."""
    secrets = service.ctx.settings.secrets
    if secrets.slack_bot_token is None:
        return
    from adapters.slack_app import create_slack_routes, start_socket_mode
    from adapters.slack_notifier import SlackNotifier

    # one Web API client (one aiohttp session) for delivery and bolt's answers alike
    notifier = SlackNotifier(service.ctx.settings)
    if delivers:
        service.notifiers["slack"] = notifier
    else:
        service.closers.append(notifier.aclose)
    if not answers:
        return
    if secrets.slack_app_token is not None:
        try:
            socket = await start_socket_mode(service.ctx, notifier.client)
        except Exception:
            log.exception("Slack Socket Mode could not connect; commands are off, delivery stays")
        else:
            service.closers.append(socket.close)
    elif secrets.slack_signing_secret is not None:
        service.routes.extend(create_slack_routes(service.ctx, notifier.client))
    else:
        log.warning(
            "SLACK_BOT_TOKEN without SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: delivery only"
        )


async def _add_discord(service: Service, *, answers: bool, delivers: bool) -> None:
    """Discord joins when DISCORD_BOT_TOKEN is set; a failed login leaves its rows pending.

    With `[discord] interactions = "http"` a serving process adds `POST /discord/interactions`
    to the public listener (DISCORD_PUBLIC_KEY verifies it) and opens no gateway connection.
    """
    if answers and service.ctx.settings.discord.interactions == "http":
        from adapters.discord_interactions import create_interactions_endpoint

        endpoint = create_interactions_endpoint(service.ctx)
        service.routes.append(endpoint.route())
        service.closers.append(endpoint.aclose)
    if service.ctx.settings.secrets.discord_bot_token is None:
        return
    from adapters.discord_client import start_discord

    gateway = service.ctx.settings.discord.interactions == "gateway"
    try:
        # commands are synced by a process that answers them, and only when the table changed
        discord_service = await start_discord(
            service.ctx, connect_gateway=answers and gateway, sync=answers
        )
    except Exception:
        log.exception("Discord login failed; Discord deliveries stay queued until it works")
        return
    if delivers:
        service.notifiers["discord"] = discord_service.notifier
    service.closers.append(discord_service.close)


def _listeners(service: Service, *, web: bool) -> list[Listener]:
    """Bind the web view (private, `[web] host`) and the platforms' public endpoint.

    The public listener (`[slack] host`/`port`) exists only when a platform posts to us over
    HTTP and serves only those routes, so publishing it publishes nothing of the web view.
    """
    from adapters.listeners import create_public_app, start_listener

    settings = service.ctx.settings
    listeners: list[Listener] = []
    try:
        if service.routes:
            public = create_public_app(service.ctx, service.routes)
            listeners.append(
                start_listener(
                    N_("run.listener.platform"),
                    public,
                    settings.slack.host,
                    settings.slack.port,
                    "[slack] host/port",
                )
            )
        web_app = _web_app(service) if web else None
        if web_app is not None:
            listeners.append(
                start_listener(
                    N_("run.listener.web"),
                    web_app,
                    settings.web.host,
                    settings.web.port,
                    "[web] host/port",
                )
            )
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def _web_app(service: Service) -> Any:
    """The web view's ASGI app, or None when disabled or not installed."""
    if not service.ctx.settings.web.enabled:
        return None
    try:
        from adapters.web import create_web_app
    except ImportError:
        log.info("web view not available; skipping it")
        return None
    return create_web_app(service.ctx)


async def run_once(
    settings: Settings, *, clock: Clock | None = None, stream: TextIO | None = None
) -> CycleReport:
    """One full cycle: sync sources, fetch, enrich, queue due digests and alerts, deliver.

    Takes the same SQLite lock as `serve()`: a cycle beside a running service would be a
    second scheduler on one file.
    """
    from bot.instance_lock import InstanceLock
    from bot.jobs import Jobs

    lock = InstanceLock.acquire(settings.database.url)
    try:
        service = await build_service(settings, clock=clock, stream=stream)
        try:
            return await Jobs(service.ctx, service.notifiers).cycle()
        finally:
            await service.aclose()
    finally:
        lock.release()


async def serve(
    settings: Settings,
    *,
    stream: TextIO | None = None,
    stop: asyncio.Event | None = None,
    announce: Callable[[str], None] | None = None,
    role: Role = "all",
) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set) as `role`, composed from the same parts:

    - `all`: everything below in one process (the default);
    - `worker`: the scheduler (poll, enrich, queue, deliver), the notifiers, the CPU pool;
    - `front`: Slack, Discord (gateway or HTTP) and the web view, on their listeners.

    Raises StartupError (the CLI exits 2) when another scheduling process runs on the same
    SQLite file or a listener's port is taken; nothing has been served or scheduled by then.
    """
    from bot.cpu import start_cpu_pool, stop_cpu_pool
    from bot.instance_lock import InstanceLock

    stop = stop or asyncio.Event()
    say = announce or (lambda line: print(line, flush=True))
    t = cli_translator(settings)
    # only a scheduling process owns the SQLite file; a front beside its worker is expected
    lock = InstanceLock.acquire(settings.database.url) if delivers(role) else None
    try:
        service = await build_service(settings, stream=stream, long_running=True, role=role)
        try:
            listeners = _listeners(service, web=answers_commands(role))
        except BaseException:
            await service.aclose()
            raise
        if delivers(role):
            start_cpu_pool()
        try:
            await _serve_until_stopped(service, listeners, stop, say, role, t)
        finally:
            await stop_cpu_pool()
    finally:
        if lock is not None:
            lock.release()


async def _serve_until_stopped(
    service: Service,
    listeners: list[Listener],
    stop: asyncio.Event,
    say: Callable[[str], None],
    role: Role,
    t: Translator,
) -> None:
    from bot.jobs import Jobs

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    jobs = Jobs(service.ctx, service.notifiers)
    serving = [asyncio.create_task(item.serve(), name=item.name) for item in listeners]
    jobs.announce = lambda line: say(t.render(line))
    running: list[asyncio.Task[Any]] = []
    scheduler = None
    try:
        for item in listeners:
            say(t("run.listening", name=t(item.name), url=item.url))
        if delivers(role):
            platforms = t.join(sorted(service.notifiers)) if service.notifiers else t("run.none")
            say(t("run.delivering", role=role, platforms=platforms))
            # the first full cycle runs at once; the scheduler then keeps each job on its cadence
            running.append(asyncio.create_task(jobs.cycle(), name="first-cycle"))
            scheduler = jobs.scheduler()
            scheduler.start()
        else:
            say(t("run.answering", role=role))
        await stop.wait()
    finally:
        # no new claims; sends in flight finish and are marked; other jobs are cancelled and
        # awaited — all before the engine closes
        await jobs.stop(scheduler)
        for item in listeners:
            item.stop()
        for task in running:
            task.cancel()
        if serving:
            await asyncio.wait(serving, timeout=5)
        for task in serving:
            task.cancel()
        await asyncio.gather(*running, *serving, return_exceptions=True)
        for item in listeners:
            item.close()
        await service.aclose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


def main() -> None:
    # Start-up (the command's imports) allocates objects that live as long as the process; the
    # cyclic GC would walk them over and over while they pile up. `run_async` freezes them and
    # turns it back on before any command does its work.
    gc.disable()
    app()


if __name__ == "__main__":
    main()

"""Composition root: the only module that imports every adapter and command group.

`serve()` builds the context, the notifier registry (one `Notifier` per platform), the scheduler,
the web server and any long-running adapter, and owns their cleanup in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from adapters.cli import (  # noqa: F401  (register commands)
    db_cmds,
    enrich_cmds,
    ingest_cmds,
    service_cmds,
)
from adapters.cli.app import app
from adapters.console import ConsoleNotifier
from bot.channels import console_wanted
from bot.config import Settings
from bot.jobs import CycleReport, Jobs
from bot.ports import Clock, Notifier

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


@dataclass
class Service:
    """What `serve()` runs: the context, notifiers by platform, HTTP routes and closers.

    A platform adapter joins by adding its notifier to `notifiers`, its HTTP endpoints to
    `routes` (served by the web server) and its shutdown to `closers` — nothing else changes.
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


async def build_service(
    settings: Settings,
    *,
    clock: Clock | None = None,
    stream: TextIO | None = None,
    long_running: bool = False,
) -> Service:
    """Open the store, build the notifier registry and the platform adapters whose tokens are set.

    `long_running` adds what only a serving process needs: Slack's endpoint or Socket Mode and
    Discord's gateway; a one-shot cycle only needs the notifiers.
    """
    from bot.context import build_context

    ctx = await build_context(settings, clock=clock)
    service = Service(ctx=ctx)
    if console_wanted(settings):
        service.notifiers["console"] = ConsoleNotifier(stream)
    try:
        await _add_slack(service, long_running=long_running)
        await _add_discord(service, long_running=long_running)
    except BaseException:
        await service.aclose()
        raise
    for notifier in service.notifiers.values():
        closer = getattr(notifier, "aclose", None)
        if closer is not None:
            service.closers.append(closer)
    return service


async def _add_slack(service: Service, *, long_running: bool) -> None:
    """Slack joins when SLACK_BOT_TOKEN is set: HTTP with the signing secret, else Socket Mode."""
    secrets = service.ctx.settings.secrets
    if secrets.slack_bot_token is None:
        return
    from adapters.slack_app import create_slack_routes, start_socket_mode
    from adapters.slack_notifier import SlackNotifier

    service.notifiers["slack"] = SlackNotifier(service.ctx.settings)
    if not long_running:
        return
    if secrets.slack_app_token is not None:
        try:
            socket = await start_socket_mode(service.ctx)
        except Exception:
            log.exception("Slack Socket Mode could not connect; commands are off, delivery stays")
        else:
            service.closers.append(socket.close)
    elif secrets.slack_signing_secret is not None:
        service.routes.extend(create_slack_routes(service.ctx))
    else:
        log.warning(
            "SLACK_BOT_TOKEN without SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: delivery only"
        )


async def _add_discord(service: Service, *, long_running: bool) -> None:
    """Discord joins when DISCORD_BOT_TOKEN is set; a failed login leaves its rows pending."""
    if service.ctx.settings.secrets.discord_bot_token is None:
        return
    from adapters.discord_client import start_discord

    try:
        discord_service = await start_discord(service.ctx, connect_gateway=long_running)
    except Exception:
        log.exception("Discord login failed; Discord deliveries stay queued until it works")
        return
    service.notifiers["discord"] = discord_service.notifier
    service.closers.append(discord_service.close)


def _web_server(service: Service) -> Any:
    """A uvicorn server for the web view, or None when disabled or not installed."""
    settings = service.ctx.settings
    if not settings.web.enabled:
        return None
    try:
        from adapters.web import create_web_app
    except ImportError:
        log.info("web view not available; skipping it")
        return None
    import uvicorn

    web_app = create_web_app(service.ctx, extra_routes=service.routes)
    config = uvicorn.Config(
        web_app,
        host=settings.web.host,
        port=settings.web.port,
        log_level="warning",
        lifespan="on",  # the web view cancels its running translations on shutdown
    )
    server = uvicorn.Server(config)
    # the service owns SIGINT/SIGTERM and tells the server to exit; uvicorn must not take them
    setattr(server, "capture_signals", contextlib.nullcontext)  # noqa: B010
    return server


async def _run_web(server: Any, url: str) -> None:
    """Serve the web view; a failure to start (port taken) is reported, not fatal."""
    try:
        await server.serve()
    except SystemExit:
        log.error("web view could not start on %s (is the port in use?)", url)
        return
    if not server.started:
        log.error("web view could not start on %s (is the port in use?)", url)


async def run_once(
    settings: Settings, *, clock: Clock | None = None, stream: TextIO | None = None
) -> CycleReport:
    """One full cycle: sync sources, fetch, enrich, queue due digests and alerts, deliver."""
    service = await build_service(settings, clock=clock, stream=stream)
    try:
        return await Jobs(service.ctx, service.notifiers).cycle()
    finally:
        await service.aclose()


async def serve(
    settings: Settings,
    *,
    stream: TextIO | None = None,
    stop: asyncio.Event | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set): scheduler, web view, adapters, console."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    say = announce or (lambda line: print(line, flush=True))
    service = await build_service(settings, stream=stream, long_running=True)
    jobs = Jobs(service.ctx, service.notifiers)
    jobs.announce = say
    running: list[asyncio.Task[Any]] = []
    scheduler = None
    server = None
    try:
        server = _web_server(service)
        if server is not None:
            url = f"http://{settings.web.host}:{settings.web.port}/"
            running.append(asyncio.create_task(_run_web(server, url), name="web"))
            say(f"ainews web view: {url}")
        platforms = ", ".join(sorted(service.notifiers)) or "none"
        say(f"ainews running: delivering to {platforms}; Ctrl-C stops it")
        # the first full cycle runs at once; the scheduler then keeps each job on its cadence
        running.append(asyncio.create_task(jobs.cycle(), name="first-cycle"))
        scheduler = jobs.scheduler()
        scheduler.start()
        await stop.wait()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)  # cancels running jobs; let them unwind before closing
            await asyncio.sleep(0.1)
        if server is not None:
            server.should_exit = True
        web = [task for task in running if task.get_name() == "web"]
        for task in running:
            if task not in web:
                task.cancel()
        if web:
            await asyncio.wait(web, timeout=5)
        for task in web:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await service.aclose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""HTTP listeners: the private web view and the public platform endpoint, each its own server.

Sockets are bound before anything is served, so a port already in use stops start-up with one
clear line instead of a uvicorn `SystemExit` deep inside a task. The public app serves only the
routes the platforms post to (Slack's `/slack/events`, Discord's `/discord/interactions`) and a
health check: nothing of the web view, its metrics or its token-spending translate form.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from bot.errors import StartupError
from bot.messages import msg

if TYPE_CHECKING:
    from bot.context import AppContext

__all__ = ["Listener", "bind_socket", "create_public_app", "start_listener"]

log = logging.getLogger(__name__)


def bind_socket(host: str, port: int, setting: str) -> socket.socket:
    """A listening TCP socket on host:port, or StartupError naming the address and the key."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # lets a restarted service reuse a port in TIME_WAIT; a live listener still refuses it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                explained=msg("startup.port_in_use", port=port, host=host, setting=setting)
            ) from None
        raise StartupError(
            explained=msg(
                "startup.cannot_listen", host=host, port=port, setting=setting, reason=str(error)
            )
        ) from None
    sock.setblocking(False)
    return sock


async def health(ctx: AppContext) -> Response:
    """Liveness plus the store: what a load balancer in front of the public listener needs."""
    try:
        async with ctx.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        body = {"status": "degraded", "reasons": ["database unreachable"]}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok"})


def create_public_app(ctx: AppContext, routes: Sequence[BaseRoute]) -> Starlette:
    """The platforms' listener: their signed endpoints and `GET /healthz`, nothing else."""

    async def healthz(_request: Request) -> Response:
        return await health(ctx)

    return Starlette(routes=[*routes, Route("/healthz", healthz)])


@dataclass
class Listener:
    """A bound socket and the server that will serve `app` on it."""

    name: str
    sock: socket.socket
    server: uvicorn.Server

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    async def serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.sock])
        except SystemExit:  # uvicorn exits this way when its startup fails
            log.error("%s stopped: it could not start on %s", self.name, self.url)

    def stop(self) -> None:
        self.server.should_exit = True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def start_listener(name: str, app: ASGIApp, host: str, port: int, setting: str) -> Listener:
    """Bind now (fail fast on a taken port); serving starts when `Listener.serve` is awaited."""
    sock = bind_socket(host, port, setting)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",  # the web view cancels its running translations on shutdown
    )
    server = uvicorn.Server(config)
    # the service owns SIGINT/SIGTERM and tells the server to exit; uvicorn must not take them
    setattr(server, "capture_signals", contextlib.nullcontext)  # noqa: B010
    return Listener(name, sock, server)

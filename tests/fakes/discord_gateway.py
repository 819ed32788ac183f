"""A fake Discord gateway on 127.0.0.1: a WebSocket server speaking the gateway protocol (v10).

It sends HELLO, takes IDENTIFY (recording the intents) and answers READY with a
`resume_gateway_url` pointing back at itself, ACKs heartbeats, dispatches events with sequence
numbers, and on RESUME replays exactly the events after the client's sequence, then RESUMED.
Tests make it send RECONNECT, drop the connection, or answer the next RESUME with
INVALID_SESSION, so discord.py's real gateway client is exercised without leaving loopback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_api import APP_ID, BOT_TOKEN, BOT_USER_ID

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0,
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)
# Intents Discord calls privileged: GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)


@dataclass
class Session:
    """One gateway session: its id and every event dispatched in it, by sequence number."""

    id: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sequence(self) -> int:
        return len(self.events)


@dataclass
class Opcode:
    """One frame the client sent."""

    op: int
    data: Any


class FakeDiscordGateway:
    """The server; `url` is what `[discord] gateway_url` must be set to."""

    def __init__(self, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.received: list[Opcode] = []
        self.connections = 0
        self.heartbeats_acked = 0
        self.session: Session | None = None
        self.invalidate_next_resume = False
        self.url = ""
        self._socket: web.WebSocketResponse | None = None
        self._session_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # ---- what tests read -------------------------------------------------------------------
    def sent(self, op: int) -> list[Any]:
        """The payloads of every frame with this opcode the client sent."""
        return [frame.data for frame in self.received if frame.op == op]

    @property
    def connected(self) -> bool:
        return self._socket is not None and not self._socket.closed

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # ---- what tests do ---------------------------------------------------------------------
    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Dispatch an event in the current session (queued for RESUME while disconnected)."""
        assert self.session is not None, "no session: the client has not identified"
        sequence = self.session.sequence + 1
        frame = {"op": DISPATCH, "t": event, "s": sequence, "d": data}
        self.session.events.append(frame)
        if self.connected:
            assert self._socket is not None
            await self._socket.send_str(json.dumps(frame))
        return sequence

    async def request_reconnect(self) -> None:
        """Opcode 7: Discord asks the client to reconnect and resume."""
        assert self._socket is not None
        await self._socket.send_str(json.dumps({"op": RECONNECT, "d": None}))

    async def drop(self) -> None:
        """Close the connection as a network failure or a gateway restart would (code 4000)."""
        if self._socket is not None:
            await self._socket.close(code=4000, message=b"dropped by the fake")

    async def invalidate_session(self) -> None:
        """Opcode 9 with `d: false`: the session is gone, the client must IDENTIFY again."""
        assert self._socket is not None
        self.session = None
        await self._socket.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/", self._connect)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"ws://{host}:{port}/"
        return self.url

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- the protocol ----------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        if request.query.get("v") != "10" or request.query.get("encoding") != "json":
            raise web.HTTPBadRequest(text="v=10 and encoding=json expected")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        self.connections += 1
        await socket.send_str(
            json.dumps({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        )
        await self._notify()
        try:
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                self.received.append(Opcode(frame["op"], frame.get("d")))
                await self._handle(socket, frame["op"], frame.get("d"))
                await self._notify()
        finally:
            if self._socket is socket:
                self._socket = None
            await self._notify()
        return socket

    async def _handle(self, socket: web.WebSocketResponse, op: int, data: Any) -> None:
        if op == HEARTBEAT:
            self.heartbeats_acked += 1
            await socket.send_str(json.dumps({"op": HEARTBEAT_ACK, "d": None}))
        elif op == IDENTIFY:
            if data.get("token") != BOT_TOKEN:
                await socket.close(code=4004, message=b"Authentication failed.")
                return
            if data.get("intents", 0) & PRIVILEGED_INTENTS:
                # what Discord does when a bot asks for privileged intents it was not granted
                await socket.close(code=4014, message=b"Disallowed intent(s).")
                return
            self.session = Session(id=f"fake-session-{next(self._session_ids)}")
            await self.dispatch("READY", self._ready(self.session))
        elif op == RESUME:
            session = self.session
            if (
                self.invalidate_next_resume
                or session is None
                or data.get("session_id") != session.id
                or data.get("token") != BOT_TOKEN
            ):
                self.invalidate_next_resume = False
                self.session = None
                await socket.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
                return
            for frame in session.events[int(data.get("seq") or 0) :]:
                await socket.send_str(json.dumps(frame))
            await self.dispatch("RESUMED", {})

    def _ready(self, session: Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {
                "id": BOT_USER_ID,
                "username": "ainews",
                "discriminator": "0",
                "global_name": "ainews",
                "avatar": None,
                "bot": True,
                "flags": 0,
            },
            "guilds": [],
            "session_id": session.id,
            "resume_gateway_url": self.url,
            "application": {"id": APP_ID, "flags": 0},
        }


@asynccontextmanager
async def running_fake_gateway(**options: Any) -> AsyncIterator[FakeDiscordGateway]:
    gateway = FakeDiscordGateway(**options)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.close()

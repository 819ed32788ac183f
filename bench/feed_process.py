"""The benchmarks' feed server, in a child process of its own so that it costs the measured
tools nothing but the CPU it shares with them.

`start(latency, hosts)` serves the bench corpus (fixtures/feeds/bench) with `latency` seconds
per response on `hosts` loopback addresses and returns the child and their base URLs; `stop`
ends it. Run as a script, it is that child.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_FEEDS = REPO.parent / "shared" / "fixtures" / "feeds" / "bench"


async def _serve(latency: float, hosts: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.fakes.feed_server import FeedServer

    server = FeedServer(root=BENCH_FEEDS, latency=latency)
    await server.start()
    bases = await server.listen_on_more_hosts(hosts)
    print(json.dumps(bases), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()


def start(latency: float, hosts: int) -> tuple[subprocess.Popen[str], list[str]]:
    child = subprocess.Popen(
        [sys.executable, __file__, str(latency), str(hosts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, json.loads(child.stdout.readline())


def stop(child: subprocess.Popen[str]) -> None:
    """Close its stdin (it then stops); kill it if it lingers on idle keep-alive connections."""
    assert child.stdin is not None
    child.stdin.close()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


if __name__ == "__main__":
    asyncio.run(_serve(float(sys.argv[1]), int(sys.argv[2])))

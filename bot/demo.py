"""The bundled sample corpus (`bot/sample/*.xml`) loaded into a store, for `ainews demo`.

The sample is fictional news written for the demo. Its dates are rewritten so that every item
falls inside *today* in the digest time zone (spread between local midnight and now, in their
original order), so "today's digest" is never empty whatever the hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.ingest.context import IngestContext
from bot.ingest.poll import ingest_feed_bytes
from bot.store.schema import Source


@dataclass(frozen=True, slots=True)
class SampleFeed:
    name: str
    file: str
    lang: str
    weight: float

    @property
    def url(self) -> str:
        # .invalid never resolves (RFC 2606): the demo can never reach the network by accident
        return f"https://sample.ainews.invalid/{self.file}"


SAMPLE_FEEDS: tuple[SampleFeed, ...] = (
    SampleFeed("AI Wire (sample)", "ai-wire.xml", "en", 1.2),
    SampleFeed("Lab Notes (sample)", "lab-notes.xml", "en", 1.0),
    SampleFeed("Tech Daily AI (sample)", "tech-daily.xml", "en", 0.9),
    SampleFeed("日刊AIニュース (sample)", "nikkan-ai.xml", "ja", 1.0),
)

_PUB_DATE = re.compile(rb"<pubDate>([^<]+)</pubDate>")


def sample_bytes(feed: SampleFeed) -> bytes:
    return resources.files("bot").joinpath("sample", feed.file).read_bytes()


def corpus_dates() -> list[datetime]:
    """Every pubDate of the sample, to map the corpus's time span onto today."""
    return [
        parsedate_to_datetime(match.decode())
        for feed in SAMPLE_FEEDS
        for match in _PUB_DATE.findall(sample_bytes(feed))
    ]


def today_mapper(now: datetime, tz: str) -> dict[datetime, datetime]:
    """Map each corpus date into [local midnight + 1 min, now - 1 min], order kept."""
    dates = sorted(set(corpus_dates()))
    midnight = now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    first, last = midnight + timedelta(minutes=1), now - timedelta(minutes=1)
    if last <= first:  # the first two minutes of the day: squeeze everything into them
        first, last = midnight, now
    span = (dates[-1] - dates[0]) or timedelta(seconds=1)
    return {d: first + (last - first) * ((d - dates[0]) / span) for d in dates}


def rewrite_dates(body: bytes, mapping: dict[datetime, datetime]) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        moved = mapping[parsedate_to_datetime(match.group(1).decode())]
        return b"<pubDate>" + format_datetime(moved).encode() + b"</pubDate>"

    return _PUB_DATE.sub(replace, body)


async def load_sample(ctx: IngestContext, *, tz: str | None = None) -> int:
    """Store the sample feeds as sources and ingest them offline; returns new articles."""
    now = ctx.clock.now()
    mapping = today_mapper(now, tz or ctx.settings.digest.timezone)
    new = 0
    for feed in SAMPLE_FEEDS:
        async with ctx.db.session() as session:
            source = await session.scalar(select(Source).where(Source.url == feed.url))
            if source is None:
                # kind "sample": stored and shown, never polled (its host does not exist)
                source = Source(
                    name=feed.name, url=feed.url, lang=feed.lang, weight=feed.weight, kind="sample"
                )
                session.add(source)
                await session.flush()
        body = rewrite_dates(sample_bytes(feed), mapping)
        new += await ingest_feed_bytes(ctx, source, body, fetched_at=now, full_text=False)
    return new

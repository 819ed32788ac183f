"""On-demand fetch: one page a user asked for, stored under the source "On demand"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.errors import BlockedAddressError, FetchError
from bot.ingest import write
from bot.ingest.clean import clean_text
from bot.ingest.context import IngestContext
from bot.ingest.extract import detect_lang, extract_page
from bot.ingest.fetch import HTML_ACCEPT
from bot.ingest.parse import parse_date
from bot.ingest.prepare import Draft, draft
from bot.ingest.sanitize import plain_paragraphs, plain_text
from bot.store.articles import article_id_by_canonical, insert_articles
from bot.store.sources import on_demand_source
from digest.dedup import canonical_url
from digest.models import Article

__all__ = ["fetch_article"]


async def fetch_article(ctx: IngestContext, url: str) -> int:
    """Fetch one page on demand, store it under "On demand", cluster it; returns the article id."""
    canonical = canonical_url(url)
    if not canonical.startswith(("http://", "https://")):
        raise BlockedAddressError(f"only http(s) URLs can be fetched, not {url!r}")
    async with ctx.db.session() as session:
        existing = await article_id_by_canonical(session, canonical)
        if existing is not None:
            return existing
    response = await ctx.fetcher.get(url, accept=HTML_ACCEPT)
    if not response.ok:
        raise FetchError(f"could not fetch {url}: HTTP {response.status}")
    page = await extract_page(response.body, response.final_url)
    text = clean_text(plain_paragraphs(page.text))
    if not text:
        raise FetchError(f"no readable article text at {url}")
    now = ctx.clock.now()
    title = plain_text(page.title, single_line=True) or text[:120]
    published = parse_date(page.date)
    final = canonical_url(response.final_url)
    async with ctx.db.session() as session:
        if final != canonical:
            existing = await article_id_by_canonical(session, final)
            if existing is not None:
                return existing
        source = await on_demand_source(session)
    article = Article(
        guid="",
        url=response.final_url,
        canonical_url=final,
        title=title,
        content=text,
        published_at=min(published, now) if published else now,
        lang=detect_lang(f"{title} {text[:1000]}"),
        dated=published is not None,
    )
    item = draft(article, full_text=True)
    holder = write.CycleIndex(now)
    async with ctx.db.session() as session:
        await session.run_sync(
            lambda sync: _store_page(sync.connection(), holder, source.id, now, item)
        )
        stored = await article_id_by_canonical(session, final)
    if stored is None:
        raise FetchError(f"could not store {url}")
    return stored


def _store_page(
    conn: Connection, holder: write.CycleIndex, source_id: int, now: datetime, item: Draft
) -> None:
    """Insert an on-demand page unless the source already has it (no fetch state to write)."""
    new_items, _known = write.match_feed(conn, source_id, [item])
    if new_items:
        insert_articles(
            conn,
            source_id,
            write.new_articles(new_items),  # drafted with full_text=True
            fetched_at=now,
            is_backlog=False,
            index=holder.get(conn),
        )

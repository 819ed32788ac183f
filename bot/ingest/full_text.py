"""The full-text step of a poll: fetch the pages of new items whose feed carried only a teaser.

Runs on the event loop between a feed's match and its commit (outside any transaction), a
bounded number of pages at a time across the cycle; a failed page keeps the teaser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from bot.errors import FetchError
from bot.ingest.clean import clean_text
from bot.ingest.extract import extract_page, is_teaser
from bot.ingest.fetch import HTML_ACCEPT, Fetcher
from bot.ingest.prepare import Draft, draft
from bot.ingest.sanitize import plain_paragraphs
from bot.ingest.workers import run_cpu
from digest.models import Article

__all__ = ["FULL_TEXT_CONCURRENCY", "FULL_TEXT_PER_SOURCE", "fetch_full_texts", "teasers"]

log = logging.getLogger(__name__)

FULL_TEXT_PER_SOURCE = 20
FULL_TEXT_CONCURRENCY = 4


def teasers(limit: int, new_items: list[tuple[Draft, str]]) -> list[int]:
    """Positions of new items whose page should be fetched for full text."""
    return [
        i
        for i, (item, _) in enumerate(new_items)
        if item.article.url and is_teaser(item.article.content)
    ][:limit]


async def fetch_full_texts(
    fetcher: Fetcher,
    pages: asyncio.Semaphore,
    new_items: Sequence[tuple[Draft, str]],
    wanted: Sequence[int],
) -> list[tuple[Draft, str]]:
    """`new_items` with the items at positions `wanted` replaced by their page's full text,
    where the page was fetched and says more than the feed did."""
    items = list(new_items)
    done = await asyncio.gather(*(_full_text(fetcher, pages, items[i][0].article) for i in wanted))
    for i, full in zip(wanted, done, strict=True):
        if full is not None:
            items[i] = (full, items[i][1])
    return items


async def _full_text(fetcher: Fetcher, pages: asyncio.Semaphore, article: Article) -> Draft | None:
    """Fetch and extract the article page when the feed carried only a teaser."""
    async with pages:
        try:
            response = await fetcher.get(article.url, accept=HTML_ACCEPT)
            if not response.ok or not response.body:
                return None
            page = await extract_page(response.body, response.final_url)
        except FetchError as exc:
            log.info("full text failed", extra={"url": article.url, "error": str(exc)})
            return None
    text = clean_text(plain_paragraphs(page.text))
    if len(text) <= len(article.content):
        return None
    return await run_cpu(_draft_full_text, replace(article, content=text))


def _draft_full_text(article: Article) -> Draft:
    return draft(article, full_text=True)

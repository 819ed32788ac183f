"""Hacker News as a source: the front-page id list, then each item, through the same Fetcher."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from bot.errors import FetchError
from bot.ingest.fetch import Fetcher
from bot.ingest.parse import http_link
from bot.ingest.sanitize import plain_text
from digest.dedup import canonical_url
from digest.models import Article

__all__ = ["HN_ITEM_PAGE", "TOP_ITEMS", "fetch_front_page"]

log = logging.getLogger(__name__)

TOP_ITEMS = 30
HN_ITEM_PAGE = "https://news.ycombinator.com/item?id={id}"
_JSON = "application/json"


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"not JSON from {url}: {exc}") from exc


async def _item(fetcher: Fetcher, list_url: str, item_id: int) -> dict[str, Any] | None:
    url = urljoin(list_url, f"item/{item_id}.json")
    try:
        response = await fetcher.get(url, accept=_JSON)
        response.raise_for_status()
        data = _json(response.body, url)
    except FetchError as exc:
        log.warning("hn item failed", extra={"item": item_id, "error": str(exc)})
        return None
    return data if isinstance(data, dict) else None


def _article(data: dict[str, Any], fetched_at: datetime) -> Article | None:
    if data.get("deleted") or data.get("dead") or not isinstance(data.get("id"), int):
        return None
    title = plain_text(str(data.get("title") or ""), single_line=True)
    if not title:
        return None
    item_page = HN_ITEM_PAGE.format(id=data["id"])
    link = http_link(data.get("url"), "") or item_page
    stamp = data.get("time")
    published = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) else fetched_at
    return Article(
        guid=f"hn:{data['id']}",
        url=link,
        canonical_url=canonical_url(link),
        title=title,
        content=plain_text(str(data.get("text") or "")),
        published_at=min(published, fetched_at),
        author=str(data.get("by") or "")[:500],
        lang="en",
        dated=isinstance(stamp, int | float),
        points=int(data.get("score") or 0),
        comments=int(data.get("descendants") or 0),
    )


async def fetch_front_page(
    fetcher: Fetcher, list_url: str, *, fetched_at: datetime, limit: int = TOP_ITEMS
) -> list[Article]:
    """The top `limit` stories with points and comment counts, in front-page order."""
    response = await fetcher.get(list_url, accept=_JSON)
    response.raise_for_status()
    ids = _json(response.body, list_url)
    if not isinstance(ids, list):
        raise FetchError(f"expected a JSON list of ids from {list_url}")
    wanted = [i for i in ids if isinstance(i, int)][:limit]
    items = await asyncio.gather(*(_item(fetcher, list_url, i) for i in wanted))
    articles = [_article(data, fetched_at) for data in items if data is not None]
    return [a for a in articles if a is not None]

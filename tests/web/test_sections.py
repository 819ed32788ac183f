"""The seed's sections on the web, fed by the real samples: pages, charts and per-view feeds."""

from __future__ import annotations

import feedparser
import httpx
import pytest

from bot.context import AppContext
from tests.sections_seed import SectionsSeed, seed_sections
from tests.web.htmlcheck import scan
from tests.web.test_pages import assert_secure

EN = {"accept-language": "en"}


@pytest.fixture
async def sections(web_ctx: AppContext) -> SectionsSeed:
    return await seed_sections(web_ctx)


def _only_our_media(html: str) -> str:
    """The page text, after checking that nothing executable is on it but our own chart SVG
    and thumbnails (the hostile-markup scan flags every svg and img)."""
    page = scan(html)
    assert [p for p in page.problems() if p not in ("<svg>", "<img>")] == []
    return page.text


async def test_tools_rank_by_momentum_with_numbers(
    client: httpx.AsyncClient, sections: SectionsSeed
) -> None:
    response = await client.get("/tools", headers=EN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_secure(response)
    text = _only_our_media(response.text)
    assert "AI tools by momentum" in text
    assert "exo-explore/exo" in text and "37,570 stars" in text and "+1,361 today" in text
    assert "363,445 downloads" in text and "text-to-image" in text
    # the seen-twice repo shows its growth a day from the two snapshots
    assert "growth 3.8%/day" in text
    filtered = await client.get("/tools", params={"tag": "text-to-image"}, headers=EN)
    assert "Tongyi-MAI/Z-Image-Turbo" in filtered.text and "exo-explore/exo" not in filtered.text


async def test_videos_show_thumbnails_channel_and_views(
    client: httpx.AsyncClient, sections: SectionsSeed
) -> None:
    response = await client.get("/videos", headers=EN)
    assert response.status_code == 200
    text = _only_our_media(response.text)
    assert "The Google app: Questions Title" in text and "251,497 views" in text
    assert 'src="https://i2.ytimg.com/vi/5shykyfmb28/hqdefault.jpg"' in response.text
    assert "img-src 'self' https://*.ytimg.com" in response.headers["content-security-policy"]


async def test_trends_page_lists_risers_with_a_server_side_chart(
    client: httpx.AsyncClient, sections: SectionsSeed
) -> None:
    response = await client.get("/trends", headers=EN)
    assert response.status_code == 200
    text = _only_our_media(response.text)
    assert (
        "<svg" in response.text and "<polyline" in response.text and "<script" not in response.text
    )
    assert "Anthropic" in text and "#agents" in text
    table = text.split("Score", 1)[1]
    # new this week first, then the company tripling its pace; OpenAI (steady in the month,
    # plus the seed's few extra stories) ranks below both if at all
    assert table.index("#agents") < table.index("Anthropic")
    assert "OpenAI" not in table or table.index("Anthropic") < table.index("OpenAI")
    assert 'href="/companies/anthropic"' in response.text


async def test_companies_and_a_company_page(
    client: httpx.AsyncClient, sections: SectionsSeed
) -> None:
    listing = await client.get("/companies", headers=EN)
    assert listing.status_code == 200
    text = _only_our_media(listing.text)
    assert "Anthropic" in text and "OpenAI" in text
    assert 'href="/companies/anthropic"' in listing.text
    page = await client.get("/companies/anthropic", headers=EN)
    assert page.status_code == 200
    text = _only_our_media(page.text)
    assert f"{sections.anthropic_articles} stories" in text
    assert "Claude" in text  # its model, through the gazetteer's owner
    assert "anthropics/claude-code" in text  # its repository from GitHub trending
    assert "<polyline" in page.text
    assert (await client.get("/companies/no-such-lab")).status_code == 404


async def test_article_page_lists_related_stories_with_why(
    client: httpx.AsyncClient, sections: SectionsSeed
) -> None:
    response = await client.get(f"/a/{sections.gemma_article}", headers=EN)
    assert response.status_code == 200
    text = scan(response.text).text
    assert "Related articles" in text
    assert "Gemma 3 tops a small-model benchmark" in text and "also about Gemma" in text


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/feed.xml", {"tag": "agents"}, "Anthropic ships Claude update"),
        ("/tags/agents/feed.xml", {}, "Anthropic ships Claude update"),
        ("/companies/anthropic/feed.xml", {}, "Anthropic"),
        ("/tools/feed.xml", {}, "exo-explore / exo"),
    ],
)
async def test_per_view_feeds_are_valid_rss(
    client: httpx.AsyncClient,
    sections: SectionsSeed,
    path: str,
    params: dict[str, str],
    expected: str,
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.entries and any(expected in entry.title for entry in parsed.entries)
    assert parsed.feed.links[0].href.endswith(path) or any(
        link.get("rel") == "self" and link.href.endswith(path) for link in parsed.feed.links
    )

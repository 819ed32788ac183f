"""`ainews digest tools|videos`, `ainews trends`, `ainews companies` and the `related` key of
`ainews article --json`, on a store fed by the real samples (real clock: the CLI's own)."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.config import Settings
from bot.context import build_context
from tests.fakes.discord_api import message_errors
from tests.fakes.slack_api import message_error
from tests.sections_seed import SectionsSeed, seed_sections
from tests.service.test_cli_service import _cli


async def _seed(url: str) -> SectionsSeed:
    ctx = await build_context(Settings.model_validate({"database": {"url": url}}), upgrade=False)
    try:
        return await seed_sections(ctx)
    finally:
        await ctx.aclose()


@pytest.fixture
def seeded(sqlite_url: str) -> tuple[str, SectionsSeed]:
    return sqlite_url, asyncio.run(_seed(sqlite_url))


def test_digest_tools_json_shape(seeded: tuple[str, SectionsSeed]) -> None:
    url, _ = seeded
    code, out, err = _cli("--database-url", url, "digest", "tools", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "tools" and {"date", "lang", "items"} <= set(data)
    assert data["items"] and all(item["kind"] == "tool" for item in data["items"])
    for item in data["items"]:
        tool = item["tool"]
        assert "stars" in tool and "downloads" in tool and "growth" in tool
        assert all(tool[k] is None or isinstance(tool[k], int) for k in ("stars", "downloads"))
        assert tool["growth"] is None or isinstance(tool["growth"], float)
        assert isinstance(item["story_id"], int) and isinstance(item["title"], str)
    exo = next(i for i in data["items"] if i["tool"]["key"] == "github:exo-explore/exo")
    assert (exo["tool"]["stars"], exo["tool"]["stars_today"]) == (37570, 1361)
    assert exo["tool"]["growth"] == pytest.approx((37570 - 36209) / 36209, abs=1e-6)
    momenta = [i["tool"]["momentum"] for i in data["items"]]
    assert momenta == sorted(momenta, reverse=True)


def test_digest_tools_other_formats(seeded: tuple[str, SectionsSeed]) -> None:
    url, _ = seeded
    base = ("--database-url", url, "digest", "tools", "--format")
    code, out, _ = _cli(*base, "text")
    assert code == 0 and "AIツール" in out and "exo-explore / exo" in out  # ja by default
    code, out, _ = _cli(*base, "slack")
    assert code == 0
    assert all(message_error(payload) is None for payload in json.loads(out))
    code, out, _ = _cli(*base, "discord")
    assert code == 0
    assert all(message_errors(payload) == {} for payload in json.loads(out))
    code, out, _ = _cli("--database-url", url, "digest", "videos", "--format", "json")
    videos = json.loads(out)["items"]
    assert videos and all(v["kind"] == "video" and v["video"]["thumbnail"] for v in videos)


def test_trends_json(seeded: tuple[str, SectionsSeed]) -> None:
    url, _ = seeded
    code, out, err = _cli("--database-url", url, "trends", "--json")
    assert code == 0, err
    rising = json.loads(out)["rising"]
    assert {"name", "kind", "count", "previous", "score"} <= set(rising[0])
    names = [(r["name"], r["kind"]) for r in rising]
    assert ("agents", "tag") in names and ("anthropic", "entity") in names
    anthropic = next(r for r in rising if r["name"] == "anthropic")
    assert anthropic["count"] == 21 and anthropic["previous"] == 3.5
    code, out, _ = _cli("--database-url", url, "trends", "--days", "3", "--json")
    assert code == 0 and json.loads(out)["days"] == 3
    code, _, _ = _cli("--database-url", url, "trends", "--days", "0")
    assert code == 2


def test_companies_json(seeded: tuple[str, SectionsSeed]) -> None:
    url, seed = seeded
    code, out, err = _cli("--database-url", url, "companies", "--json")
    assert code == 0, err
    companies = json.loads(out)
    assert all(set(c) == {"slug", "name", "stories"} for c in companies)
    by_slug = {c["slug"]: c for c in companies}
    assert by_slug["anthropic"]["name"] == "Anthropic"
    assert by_slug["anthropic"]["stories"] == seed.anthropic_articles
    counts = [c["stories"] for c in companies]
    assert counts == sorted(counts, reverse=True)


def test_article_json_has_related(seeded: tuple[str, SectionsSeed]) -> None:
    url, seed = seeded
    code, out, err = _cli("--database-url", url, "article", str(seed.gemma_article), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {"id", "title", "tags", "scores", "translation"} <= set(data)  # existing keys kept
    related = data["related"]
    assert 1 <= len(related) <= 5
    bench = next(r for r in related if r["title"] == "Gemma 3 tops a small-model benchmark")
    assert bench["why"] == "also about Gemma, Google" and set(bench) >= {"id", "published_at"}
    dates = [r["published_at"] for r in related]
    assert dates == sorted(dates, reverse=True)

"""Pages rendered from a seeded store over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from adapters.web import SECURITY_HEADERS
from bot.context import AppContext
from bot.store.schema import TranslationRow
from tests.web.htmlcheck import scan
from tests.web.seed import HOSTILE_TITLE, Seeded

CSP = dict(SECURITY_HEADERS)["content-security-policy"]


def assert_secure(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_home_lists_one_line_per_story(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get("/", headers={"accept-language": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_secure(response)
    page = scan(response.text)
    assert page.problems() == []
    story_links = [h for h in page.hrefs() if h.startswith("/a/")]
    # six articles, but the two covering one story make one line
    assert len(story_links) == 5
    assert f"/a/{seeded.main}" in story_links or f"/a/{seeded.main_hn}" in story_links
    assert f"/a/{seeded.unscored}" in story_links
    assert "Example AI Blog · Hacker News" in page.text
    assert "★★★★☆" in page.text
    assert "#llm" in page.text
    main_titles = ("OpenAI releases a reasoning model", "OpenAI reasoning model (HN discussion)")
    assert sum(title in page.text for title in main_titles) == 1
    assert "unscored Notes on GPU supply" in page.text  # listed too, without stars
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text


async def test_article_page_shows_rubric_weights_translation_and_related(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(f"/a/{seeded.main}", params={"lang": "en", "tl": "ja"})
    assert response.status_code == 200
    assert_secure(response)
    page = scan(response.text)
    text = page.text
    assert page.problems() == []
    assert "OpenAI releases a reasoning model" in text
    assert "OpenAIが推論モデルを公開" in text  # translated title
    assert "Example AI Blog" in text and "November 28, 2026 8:00 AM" in text  # Tokyo time
    assert "Reading time 3 min" in text
    for dimension, score, weight in (
        ("Depth", 5, 40),
        ("Relevance", 4, 30),
        ("Practicality", 3, 20),
        ("Innovation", 3, 10),
    ):
        assert f"{dimension} {score}/5 {score}/5 {weight}%" in text
    assert "Explains the method with benchmark numbers." in text
    assert "Weighted mean 4.1 → importance 4" in text
    assert "数学ベンチマークで向上" in text  # key point
    assert "開発者は推論コストを下げられる。" in text  # impact
    assert "Translation complete" in text
    assert "数学ベンチマークのスコアが向上し" in text  # translation body
    assert "It scores higher on maths benchmarks" in text  # original beside it
    assert f"/a/{seeded.main_hn}?lang=en" in page.hrefs()  # related coverage, keeps ?lang=
    assert "https://main.example.com/post" in page.hrefs()
    assert '<link rel="canonical" href="https://news.example.org/a/' in response.text
    assert 'method="post"' not in response.text  # complete: nothing to request


async def test_hostile_article_renders_inert(client: httpx.AsyncClient, seeded: Seeded) -> None:
    for path in (
        "/",
        f"/a/{seeded.hostile}",
        "/tags/llm",
        "/search?q=alert",
        "/digest/daily/2026-11-28",
    ):
        response = await client.get(path, params={"tl": "ja"} if path.startswith("/a/") else None)
        assert response.status_code == 200, path
        page = scan(response.text)
        assert page.problems() == [], path
        assert "<script>alert" not in response.text
        assert HOSTILE_TITLE in page.text, path  # shown as text, exactly as stored
    article = await client.get(f"/a/{seeded.hostile}", params={"tl": "ja", "lang": "en"})
    page = scan(article.text)
    assert "javascript:alert(3)" not in page.hrefs()
    assert "Open the original article" not in page.text  # no link at all for a javascript: URL
    assert '<img src=x onerror="alert(11)">' in page.text  # partial translation body, as text
    assert "Partial translation: 2 of 5 parts" in page.text
    assert "@everyone" in page.text
    assert "Evil <b>Feed</b>" in page.text


async def test_translation_status_not_yet_without_llm(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(f"/a/{seeded.unscored}", params={"lang": "en", "tl": "ja"})
    text = scan(response.text).text
    assert "Not translated yet" in text
    assert "Translation needs an LLM: add an [llm] section" in text
    assert "Not scored yet." in text
    assert 'method="post"' not in response.text


async def test_japanese_article_needs_no_japanese_translation(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(f"/a/{seeded.japanese}", params={"lang": "ja"})
    text = scan(response.text).text
    assert "原文がすでにこの言語です。" in text
    assert "国産の大規模言語モデルの新版が公開された。" in text
    english = await client.get(f"/a/{seeded.japanese}", params={"lang": "en"})
    assert "Not translated yet" in scan(english.text).text


ERROR_CASES = [
    ("/a/999999", 404),
    ("/a/abc", 404),
    ("/a/99999999999999999999", 404),
    ("/tags/no-such-tag", 404),
    ("/digest/daily/2026-13-45", 400),
    ("/digest/daily/yesterday", 400),
    ("/digest/monthly/2026-11-28", 404),
    ("/hn/0000-01-01", 400),
    ("/hn/1900-01-01", 404),
    ("/nowhere", 404),
    ("/a/1?tl=%3Cscript%3E", 400),
]


async def test_errors_are_pages_not_tracebacks(client: httpx.AsyncClient, seeded: Seeded) -> None:
    for path, status in ERROR_CASES:
        response = await client.get(path, headers={"accept-language": "en"})
        assert response.status_code == status, path
        assert_secure(response)
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text
        page = scan(response.text)
        assert page.problems() == []
        assert ("Not found" if status == 404 else "Bad request") in page.text, path
    bad_date = await client.get("/digest/daily/2026-13-45", params={"lang": "ja"})
    assert "日付は YYYY-MM-DD（例: 2026-11-28）で指定してください。" in scan(bad_date.text).text


async def test_unknown_method_is_405_with_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/")
    assert response.status_code == 405
    assert_secure(response)


async def test_daily_weekly_and_hn_digests(client: httpx.AsyncClient, seeded: Seeded) -> None:
    daily = await client.get("/digest/daily/2026-11-28", params={"lang": "en"})
    assert daily.status_code == 200
    page = scan(daily.text)
    assert "Daily digest — November 28, 2026" in page.text
    japanese = scan((await client.get("/digest/daily/2026-11-28", params={"lang": "ja"})).text)
    assert "デイリーダイジェスト — 2026年11月28日" in japanese.text
    assert "/digest/daily/2026-11-27?lang=en" in page.hrefs()
    assert "/digest/daily/2026-11-29?lang=en" in page.hrefs()
    assert "Last week's agent framework" not in page.text
    weekly = await client.get("/digest/weekly/2026-11-28", params={"lang": "en"})
    assert weekly.status_code == 200
    assert "Last week's agent framework" in scan(weekly.text).text
    assert "/digest/weekly/2026-11-21?lang=en" in scan(weekly.text).hrefs()
    hn = await client.get("/hn/2026-11-28", params={"lang": "en"})
    assert hn.status_code == 200
    hn_text = scan(hn.text).text
    assert "OpenAI reasoning model (HN discussion)" in hn_text
    assert "420 points" in hn_text
    empty = await client.get("/digest/daily/2026-10-01", params={"lang": "en"})
    assert empty.status_code == 404
    assert "No stories for this day." in scan(empty.text).text


async def test_archive_tags_and_search(client: httpx.AsyncClient, seeded: Seeded) -> None:
    archive = await client.get("/archive", params={"lang": "en"})
    hrefs = scan(archive.text).hrefs()
    assert "/digest/daily/2026-11-28?lang=en" in hrefs
    assert "/digest/daily/2026-11-25?lang=en" in hrefs
    tags = await client.get("/tags", params={"lang": "en"})
    assert "#llm" in scan(tags.text).text
    tagged = await client.get("/tags/agents", params={"lang": "en"})
    assert tagged.status_code == 200
    assert "Last week's agent framework" in scan(tagged.text).text
    assert "OpenAI releases" not in scan(tagged.text).text
    japanese_tag = await client.get("/tags/国産")
    assert japanese_tag.status_code == 200
    assert scan(japanese_tag.text).hrefs().count(f"/a/{seeded.japanese}") == 1
    found = await client.get("/search", params={"q": "reasoning", "lang": "en"})
    found_text = scan(found.text).text
    assert "Results for “reasoning”" in found_text
    assert "OpenAI" in found_text and "GPU supply" not in found_text
    by_tldr = await client.get("/search", params={"q": "推論モデル"})
    assert f"/a/{seeded.main}" in "".join(scan(by_tldr.text).hrefs()) or "/a/" in by_tldr.text
    wild = await client.get("/search", params={"q": "%_% " * 200})
    assert wild.status_code == 200
    assert "/a/" not in "".join(scan(wild.text).hrefs())
    empty = await client.get("/search")
    assert empty.status_code == 200


async def test_extra_routes_are_served_with_the_same_headers(web_ctx: AppContext) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from adapters.web import create_web_app
    from tests.web.conftest import serve

    async def slack_events(request: object) -> PlainTextResponse:
        return PlainTextResponse("slack ok")

    app = create_web_app(
        web_ctx, extra_routes=[Route("/slack/events", slack_events, methods=["POST"])]
    )
    async for url in serve(app):
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.post("/slack/events")
            assert response.text == "slack ok"
            assert_secure(response)
            assert (await http.get("/")).status_code == 200


async def test_language_links_stay_on_this_site(client: httpx.AsyncClient) -> None:
    # %2F%2F decodes to a path starting "///", which a browser reads as another host
    for path in ("/%2F%2Fevil.example.com", "/%5C%5Cevil.example.com", "/tags/%2F%2Fevil.example"):
        response = await client.get(path, headers={"accept-language": "en"})
        for href in scan(response.text).hrefs():
            assert href.startswith("/") and not href.startswith("//"), (path, href)
            assert "\\\\" not in href, (path, href)


async def test_translation_language_is_case_insensitive(
    client: httpx.AsyncClient, web_ctx: AppContext, seeded: Seeded
) -> None:
    # the translator stores language codes in lower case; ?tl=pt-BR must find that row
    async with web_ctx.db.session() as session:
        session.add(
            TranslationRow(
                article_id=seeded.main,
                lang="pt-br",
                title="Título",
                body="Corpo traduzido.",
                chunks=["Corpo traduzido."],
                chunks_total=1,
                chunks_done=1,
                status="complete",
                model="fake",
            )
        )
    response = await client.get(f"/a/{seeded.main}", params={"lang": "en", "tl": "pt-BR"})
    assert response.status_code == 200
    assert "Corpo traduzido." in scan(response.text).text

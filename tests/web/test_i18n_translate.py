"""UI language choice (ja/en) and the translation request button."""

from __future__ import annotations

import httpx
import pytest

from adapters.web import create_web_app
from adapters.web_i18n import accepted_langs, choose_lang
from bot.context import AppContext
from tests.fakes.llm_server import FakeLLM, fake_japanese
from tests.waiting import until
from tests.web.conftest import serve
from tests.web.htmlcheck import scan
from tests.web.seed import Seeded


@pytest.mark.parametrize(
    ("query", "header", "default", "expected"),
    [
        ("en", "ja", "ja", "en"),
        ("ja", "en-US,en;q=0.9", "en", "ja"),
        (None, "fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.7", "en", "ja"),
        (None, "en;q=0.2, ja;q=0.9", "en", "ja"),
        (None, "ja;q=0, en;q=0.1", "ja", "en"),
        (None, "de", "ja", "ja"),
        (None, "", "zh", "en"),
        ("xx", "garbage;;q=abc,,", "ja", "ja"),
    ],
)
def test_choose_lang(query: str | None, header: str, default: str, expected: str) -> None:
    assert choose_lang(query, header, default) == expected


def test_accept_language_order() -> None:
    assert accepted_langs("en;q=0.5, ja, fr;q=0.8") == ["ja", "fr", "en"]


async def test_ui_language_from_query_header_and_config(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    default = await client.get("/")  # no header: [enrich] lang = ja
    assert '<html lang="ja">' in default.text
    assert "最新の記事" in scan(default.text).text
    english = await client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Latest stories" in english.text
    forced = await client.get("/", params={"lang": "ja"}, headers={"accept-language": "en"})
    page = scan(forced.text)
    assert "最新の記事" in page.text
    assert f"/a/{seeded.hostile}?lang=ja" in page.hrefs()  # explicit choice carried in links
    article = await client.get(f"/a/{seeded.main}", params={"lang": "ja"})
    text = scan(article.text).text
    assert "採点の内訳" in text and "深さ" in text and "重み" in text
    assert "加重平均 4.1 → 重要度 4" in text
    assert "翻訳済み" in text


async def test_request_translation_runs_in_background_and_redirects(
    llm_ctx: AppContext, fake_llm: FakeLLM, seeded: Seeded
) -> None:
    fake_llm.hang_seconds = 1.0
    fake_llm.queue("hang")  # the first answer takes a second: long enough to see "in progress"
    async for url in serve(create_web_app(llm_ctx)):
        async with httpx.AsyncClient(base_url=url) as http:
            before = await http.get(f"/a/{seeded.unscored}", params={"lang": "ja"})
            assert "未翻訳" in scan(before.text).text
            assert 'method="post"' in before.text and "日本語に翻訳する" in scan(before.text).text
            response = await http.post(
                f"/a/{seeded.unscored}/translate", params={"lang": "ja"}, data={"lang": "ja"}
            )
            assert response.status_code == 303
            assert response.headers["location"] == f"/a/{seeded.unscored}?tl=ja&lang=ja#translation"
            running = await http.get(response.headers["location"])
            assert "翻訳中です" in scan(running.text).text
            assert 'method="post"' not in running.text
            again = await http.post(f"/a/{seeded.unscored}/translate", data={"lang": "ja"})
            assert again.status_code == 303

            async def finished() -> str | None:
                page = await http.get(f"/a/{seeded.unscored}", params={"lang": "ja"})
                return page.text if "翻訳中です" not in page.text else None

            done = await until(finished, what="the translation to finish")
    text = scan(done).text
    assert "翻訳済み" in text
    shown = fake_japanese("It scores higher on maths benchmarks and costs less per token.")
    assert shown in text  # the fake's translation, verified and stored
    assert "It scores higher on maths benchmarks and costs less per token." in text  # original
    assert fake_llm.calls_for("text") == 1  # the second request joined the running one


async def test_failed_translation_is_shown_with_a_retry_button(
    llm_ctx: AppContext, fake_llm: FakeLLM, seeded: Seeded
) -> None:
    fake_llm.default_mode = "server_error"
    async for url in serve(create_web_app(llm_ctx)):
        async with httpx.AsyncClient(base_url=url) as http:
            await http.post(f"/a/{seeded.unscored}/translate", data={"lang": "ja"})

            async def finished() -> str | None:
                params = {"lang": "en", "tl": "ja"}
                page = (await http.get(f"/a/{seeded.unscored}", params=params)).text
                return page if "Translation in progress" not in page else None

            page = await until(finished, what="the translation to end")
    text = scan(page).text
    assert "Translation complete" not in text
    assert "Translation failed" in text or "Partial translation" in text
    assert "Retry the translation into Japanese" in text


async def test_translation_request_is_refused_cross_site_bad_or_without_llm(
    client: httpx.AsyncClient, llm_ctx: AppContext, fake_llm: FakeLLM, seeded: Seeded
) -> None:
    no_llm = await client.post(f"/a/{seeded.unscored}/translate", data={"lang": "ja"})
    assert no_llm.status_code == 400
    async for url in serve(create_web_app(llm_ctx)):
        async with httpx.AsyncClient(base_url=url) as http:
            cross = await http.post(
                f"/a/{seeded.unscored}/translate",
                data={"lang": "ja"},
                headers={"origin": "https://evil.example.com"},
            )
            assert cross.status_code == 403
            for headers in ({"origin": "null"}, {"sec-fetch-site": "cross-site"}):
                refused = await http.post(
                    f"/a/{seeded.unscored}/translate", data={"lang": "ja"}, headers=headers
                )
                assert refused.status_code == 403, headers
            assert "このフォームはこのサイトからのみ送信できます。" in scan(refused.text).text
            bad_lang = await http.post(f"/a/{seeded.unscored}/translate", data={"lang": "<x>"})
            assert bad_lang.status_code == 400
            missing = await http.post("/a/424242/translate", data={"lang": "ja"})
            assert missing.status_code == 404
    assert fake_llm.calls == 0


async def test_same_site_check_compares_with_base_url_not_the_host_header(
    llm_ctx: AppContext, fake_llm: FakeLLM, seeded: Seeded
) -> None:
    web = llm_ctx.settings.web.model_copy(update={"base_url": "https://news.example.org/"})
    llm_ctx.settings = llm_ctx.settings.model_copy(update={"web": web})
    async for url in serve(create_web_app(llm_ctx)):
        async with httpx.AsyncClient(base_url=url) as http:
            target = f"/a/{seeded.unscored}/translate"
            # an attacker controls Host: Origin matching it proves nothing
            forged = await http.post(
                target,
                data={"lang": "ja"},
                headers={"host": "evil.example", "origin": "http://evil.example"},
            )
            # the listener's own address is not the site either when base_url says otherwise
            listener = await http.post(target, data={"lang": "ja"}, headers={"origin": url})
            assert (forged.status_code, listener.status_code) == (403, 403)
            assert fake_llm.calls == 0
            ours = await http.post(
                target, data={"lang": "ja"}, headers={"origin": "https://NEWS.example.org"}
            )
            assert ours.status_code == 303

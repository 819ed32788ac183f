"""`ainews enrich`, `ainews article` and `ainews translate` through the real Typer app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from adapters.i18n import translator
from adapters.main import app
from bot.store.db import Database
from tests.enrich.conftest import ARTICLE_TEXT, Seed, seed_articles
from tests.fakes.llm_server import FakeLLM, fake_japanese

SEEDS = [
    Seed("OpenAI ships an open-source agent framework", ARTICLE_TEXT, source_count=2),
    Seed(
        "生成AIの新しいエージェント",
        "新しいエージェントを発表した。開発者はすぐに試せる。",
        lang="ja",
    ),
]


async def ainews(*args: str) -> tuple[int, str, str]:
    """The Typer app in a thread (it runs its own event loop), like the console script."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_config(tmp_path: Path, database_url: str, llm: FakeLLM | None = None) -> str:
    lines = ["[database]", f'url = "{database_url}"']
    if llm is not None:
        lines += ["[llm]", f'base_url = "{llm.base_url}"', 'model = "fake-model"', "timeout = 2.0"]
        lines += ["[translate]", 'default_lang = "ja"', "chunk_chars = 400"]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


async def test_enrich_json_then_nothing_left(tmp_path: Path, sqlite_url: str) -> None:
    database = Database(sqlite_url)
    await seed_articles(database, SEEDS)
    await database.dispose()
    config = write_config(tmp_path, sqlite_url)
    code, out, _ = await ainews("--config", config, "enrich", "--json")
    assert code == 0
    assert json.loads(out) == {"enriched": 2, "failed": 0, "engine": "offline"}
    code, out, _ = await ainews("--config", config, "enrich", "--limit", "5", "--json")
    assert json.loads(out) == {"enriched": 0, "failed": 0, "engine": "offline"}
    code, out, _ = await ainews("--config", config, "enrich")
    assert code == 0 and "0件を採点・要約、失敗0件（エンジン: offline）" in out


async def test_article_json_has_exactly_the_documented_shape(
    tmp_path: Path, sqlite_url: str
) -> None:
    database = Database(sqlite_url)
    ids = await seed_articles(database, SEEDS)
    await database.dispose()
    config = write_config(tmp_path, sqlite_url)
    code, out, _ = await ainews("--config", config, "article", str(ids[0]), "--json")
    assert code == 0
    card = json.loads(out)
    assert set(card) == {
        "id", "title", "url", "source", "published_at", "tldr", "key_points", "tags",
        "scores", "importance", "translation", "related",
    }  # fmt: skip
    assert card["id"] == ids[0] and card["source"] == "Test"
    assert card["title"] == SEEDS[0].title and card["url"].startswith("https://")
    assert isinstance(card["importance"], int) and 1 <= card["importance"] <= 5
    assert set(card["scores"]) == {"depth", "relevance", "practicality", "innovation"}
    for dim in card["scores"].values():
        assert isinstance(dim["score"], int) and dim["reason"]
    assert card["tldr"] and 3 <= len(card["key_points"]) <= 7 and card["tags"]
    assert card["translation"] is None
    assert "covered by 2 sources" in card["scores"]["relevance"]["reason"]


async def test_article_card_text_and_unknown_id(tmp_path: Path, sqlite_url: str) -> None:
    database = Database(sqlite_url)
    ids = await seed_articles(database, SEEDS)
    await database.dispose()
    config = write_config(tmp_path, sqlite_url)
    code, out, _ = await ainews("--config", config, "article", str(ids[1]))
    assert code == 0
    # labelled in `[translate] default_lang` (ja); the rubric reasons are shown as given
    assert "重要度" in out and "要約:" in out and "関連性" in out and "スコア:" in out
    code, out, err = await ainews("--config", config, "article", "99999")
    assert code == 1 and "ID 99999 の記事はありません。" in err


async def test_translate_without_llm_says_how_to_configure_one(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(tmp_path, sqlite_url)
    code, _, err = await ainews("--config", config, "translate", "1")
    assert code == 1
    assert err == f"エラー: {translator('ja')('no_llm')}\n"  # `[translate] default_lang` is ja


async def test_translate_with_llm_prints_the_translation(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    database = Database(sqlite_url)
    ids = await seed_articles(database, SEEDS)
    await database.dispose()
    config = write_config(tmp_path, sqlite_url, fake_llm)
    code, out, _ = await ainews("--config", config, "translate", str(ids[0]), "--lang", "ja")
    assert code == 0
    assert out.startswith(fake_japanese(SEEDS[0].title))
    assert fake_japanese(SEEDS[0].content.split("\n\n")[0]) in out
    code, out, _ = await ainews("--config", config, "article", str(ids[0]), "--json")
    assert json.loads(out)["translation"] == {"lang": "ja", "status": "complete"}
    code, _, err = await ainews("--config", config, "translate", "99999")
    assert code == 1 and "No article" in err


async def test_llm_usage_reports_tokens_and_cost_by_day_and_purpose(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    database = Database(sqlite_url)
    ids = await seed_articles(database, SEEDS)
    await database.dispose()
    config = write_config(tmp_path, sqlite_url, fake_llm)
    code, out, _ = await ainews("--config", config, "llm", "usage", "--json")
    assert code == 0 and json.loads(out)["days"] == []
    assert (await ainews("--config", config, "enrich", "--json"))[0] == 0
    assert (await ainews("--config", config, "translate", str(ids[0]), "--lang", "ja"))[0] == 0
    code, out, _ = await ainews("--config", config, "llm", "usage", "--json")
    report = json.loads(out)
    assert set(report) == {"days", "total", "budget"}
    lines = {line["purpose"]: line for line in report["days"]}
    assert set(lines) == {"enrich", "translate"}
    assert lines["enrich"]["calls"] == fake_llm.calls_for("json") == 2
    assert lines["translate"]["calls"] == fake_llm.calls_for("text")
    for line in report["days"]:
        assert set(line) == {
            "day", "purpose", "calls", "tokens_in", "tokens_out", "tokens", "cost_usd",
        }  # fmt: skip
        assert line["tokens"] == line["tokens_in"] + line["tokens_out"] > 0
    assert report["total"]["tokens"] == sum(line["tokens"] for line in report["days"])
    budget = report["budget"]
    assert budget["spent_or_reserved"] == report["total"]["tokens"]  # reservations settled
    assert budget["left"] == budget["daily_token_budget"] - budget["spent_or_reserved"]
    code, out, _ = await ainews("--config", config, "llm", "usage")
    assert code == 0 and "enrich" in out and "translate" in out and "予算" in out  # ja

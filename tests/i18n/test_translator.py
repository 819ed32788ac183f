"""Plural rules, dates, language names and `Msg` rendering of the shared catalogue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.i18n import Translator, translator, ui_lang
from bot.messages import msg


@pytest.mark.parametrize(
    ("key", "n", "english", "japanese"),
    [
        ("digest.count", 0, "0 stories", "0件"),
        ("digest.count", 1, "1 story", "1件"),
        ("digest.count", 2, "2 stories", "2件"),
        ("digest.count", 1200, "1,200 stories", "1,200件"),
        ("points", 1, "1 point", "1ポイント"),
        ("points", 420, "420 points", "420ポイント"),
        ("comments", 1, "1 comment", "コメント1件"),
        ("comments", 0, "0 comments", "コメント0件"),
        ("reading_time", 1, "1 min", "約1分"),
        ("translation.attached", 1, "The full translation is attached (1 character).",
         "翻訳の全文を添付しました（1文字）。"),
    ],
)  # fmt: skip
def test_plural_forms(key: str, n: int, english: str, japanese: str) -> None:
    assert translator("en").plural(key, n) == english
    assert translator("ja").plural(key, n) == japanese


@pytest.mark.parametrize(("n", "english"), [(1, "1 result for “gpu”"), (3, "3 results for “gpu”")])
def test_counted_msg_from_the_bot_layer(n: int, english: str) -> None:
    """A handler's `msg(..., count=n)` picks the plural form: no "1 results"."""
    message = msg("search.count", count=n, query="gpu")
    assert translator("en").render(message) == english
    assert translator("ja").render(message) == f"「gpu」の検索結果: {n}件"


def test_nested_messages_and_lists() -> None:
    message = msg("prefs.tags", tags=msg("prefs.tags_none"))
    assert translator("en").render(message) == "Tags: none (every story)"
    assert translator("ja").render(message) == "タグ: なし（すべての記事）"
    listed = msg("subscribe.following", tags=("agents", "llm"))
    assert translator("en").render(listed) == "This channel now follows: agents, llm."
    assert translator("ja").render(listed) == "このチャンネルがフォロー中のタグ: agents、llm"
    assert translator("ja").render("as typed") == "as typed"


def test_locale_dates_and_times() -> None:
    day = date(2026, 8, 21)
    assert translator("ja").date(day) == "2026年8月21日"
    assert translator("en").date(day) == "August 21, 2026"
    moment = datetime(2026, 8, 21, 0, 5, tzinfo=UTC)
    assert translator("ja").datetime(moment) == "2026年8月21日 0:05 UTC"
    assert translator("en").datetime(moment) == "August 21, 2026 12:05\u202fAM UTC"  # CLDR spacing
    tokyo = ZoneInfo("Asia/Tokyo")
    assert translator("ja").datetime(moment, tokyo) == "2026年8月21日 9:05"


def test_language_names_and_fallbacks() -> None:
    assert translator("ja").lang_name("en") == "英語"
    assert translator("en").lang_name("ja") == "Japanese"
    assert translator("en").lang_name("pt-br") == "Portuguese"
    assert translator("en").lang_name("xx") == "xx"
    assert [ui_lang(code) for code in ("ja", "ja-JP", "JA_jp", "en-GB", "pt-br", "")] == [
        "ja", "ja", "ja", "en", "en", "en",
    ]  # fmt: skip
    # a channel set to a language without a catalogue reads English
    assert (
        Translator("pt-br").lang == "en" and translator("de")("digest.empty") == "No stories yet."
    )


def test_cycle_summary_counts_each_thing_in_its_own_plural() -> None:
    from adapters.cli.service_cmds import cycle_summary
    from bot.delivery import DeliveryReport
    from bot.jobs import CycleReport

    one = CycleReport(new_articles=1, sources_failed=1, enriched=1, digests_queued=1,
                      alerts_queued=1, delivery=DeliveryReport(sent=1))  # fmt: skip
    assert cycle_summary(one, translator("en")) == (
        "1 new article (1 source failed), 1 enriched, 1 digest and 1 alert queued, "
        "1 delivered, 0 to retry, 0 failed"
    )
    two = CycleReport(new_articles=5, sources_failed=2, digests_queued=2, alerts_queued=0)
    assert cycle_summary(two, translator("en")).startswith(
        "5 new articles (2 sources failed), 0 enriched, 2 digests and 0 alerts queued"
    )
    assert cycle_summary(two, translator("ja")).startswith(
        "新着記事5件（取得に失敗した情報源2件）、採点・要約0件、ダイジェスト2件とアラート0件を配信待ちに登録"
    )

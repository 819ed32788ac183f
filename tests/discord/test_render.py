"""Discord rendering: limits under hostile sizes, sentence cuts, inert text, payload shape."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from adapters.discord_render import (
    MAX_CONTENT,
    NO_MENTIONS,
    cut,
    inert,
    neutralise_mentions,
    part_nonce,
    render_alert_payloads,
    render_digest_payloads,
    render_outbox_payload,
    render_reply,
    split_text,
)
from bot.config import Settings
from bot.messages import Reply
from digest.models import (
    ArticleCard,
    Digest,
    DigestItem,
    DimensionScore,
    Scores,
    TranslationStatus,
    TranslationView,
)
from digest.serialize import digest_to_dict, item_to_dict
from tests.fakes.discord_api import message_errors

SETTINGS = Settings.model_validate({"web": {"base_url": "https://ainews.example"}})
INJECTION = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&987654321098765432>"


def _scores(reason: str = "Reason.") -> Scores:
    return Scores(*(DimensionScore(4, reason) for _ in range(4)))


def _item(
    n: int, *, title: str = "", tldr: str = "", tags: tuple[str, ...] = ("llm",)
) -> DigestItem:
    return DigestItem(
        story_id=n,
        article_id=100 + n,
        title=title or f"Story {n}",
        url=f"https://news.example/{n}",
        sources=("Wire", "Other Wire"),
        importance=(n % 5) + 1,
        scores=_scores(),
        tldr=tldr or f"Summary {n}. It matters.",
        tags=tags,
        alerted=False,
        published_at=datetime(2026, 11, 28, 1, n % 60, tzinfo=UTC),
    )


def _digest(items: list[DigestItem], **kw: object) -> Digest:
    return Digest(kind="daily", day=date(2026, 11, 28), lang="en", items=tuple(items), **kw)  # type: ignore[arg-type]


def _accepted(payloads: list[dict[str, object]]) -> None:
    for payload in payloads:
        assert message_errors(payload) == {}, payload
        assert payload["allowed_mentions"] == NO_MENTIONS
        assert payload["enforce_nonce"] is True
        assert 0 < len(str(payload["nonce"])) <= 25


def test_hostile_digest_stays_within_every_discord_limit() -> None:
    sentence = "This sentence is long enough to matter for the budget. "
    items = [
        _item(n, title="T" * 5000, tldr=sentence * 200, tags=tuple(f"tag{i}" for i in range(300)))
        for n in range(25)
    ]
    payloads = render_digest_payloads(_digest(items, rising_tags=(("llm", 5),) * 50), SETTINGS)
    _accepted(payloads)
    assert len(payloads) > 1, "25 items cannot fit in one message of ten embeds"
    assert sum(len(p["embeds"]) for p in payloads) == 25
    assert len({p["nonce"] for p in payloads}) == len(payloads)


def test_digest_payload_shape_is_json_with_nonce_and_links() -> None:
    digest = _digest([_item(1), _item(2)])
    payloads = render_digest_payloads(digest, SETTINGS, nonce="row-nonce-1")
    _accepted(payloads)
    assert payloads[0]["nonce"] == "row-nonce-1"
    first = payloads[0]
    assert "AI news · November 28, 2026** — 2 stories" in str(first["content"])
    embed = first["embeds"][0]
    assert embed["url"] == "https://news.example/1"
    assert embed["author"]["name"] == "Wire, Other Wire"
    names = [f["name"] for f in embed["fields"]]
    assert names[:3] == ["Importance", "Scores", "Tags"]
    assert "★★☆☆☆" in embed["fields"][0]["value"]
    assert "Depth 4 · Relevance 4 · Practicality 4 · Innovation 4" in embed["fields"][1]["value"]
    assert "https://ainews.example/a/101" in embed["fields"][3]["value"]
    assert embed["color"] != first["embeds"][1]["color"]
    assert json.loads(json.dumps(payloads)) == payloads
    # Rendering is deterministic, so a resend after a crash carries the same bodies and nonces.
    assert render_digest_payloads(digest, SETTINGS, nonce="row-nonce-1") == payloads


def test_empty_digest_still_sends_a_valid_message() -> None:
    payloads = render_digest_payloads(_digest([]), SETTINGS)
    _accepted(payloads)
    assert "No stories yet." in str(payloads[0]["content"])
    japanese = render_digest_payloads(replace(_digest([]), lang="ja"), SETTINGS)
    _accepted(japanese)
    assert "AIニュース · 2026年11月28日** — まだ記事はありません。" in str(japanese[0]["content"])


def test_japanese_digest_and_alert_labels() -> None:
    discussed = replace(_item(2), points=1, comments=1)
    digest = replace(_digest([_item(1), discussed]), lang="ja")
    payloads = render_digest_payloads(digest, SETTINGS)
    _accepted(payloads)
    assert "**AIニュース · 2026年11月28日** — 2件" in str(payloads[0]["content"])
    embed = payloads[0]["embeds"][0]
    assert [f["name"] for f in embed["fields"]][:3] == ["重要度", "スコア", "タグ"]
    assert embed["fields"][1]["value"] == "深さ 4 · 関連性 4 · 実用性 4 · 新規性 4"
    assert payloads[0]["embeds"][1]["footer"]["text"] == "1ポイント · コメント1件"
    english = render_digest_payloads(replace(digest, lang="en"), SETTINGS)
    assert english[0]["embeds"][1]["footer"]["text"] == "1 point · 1 comment"  # no "1 points"
    alert = render_alert_payloads(_item(3), "ja", SETTINGS, nonce="n")
    _accepted(alert)
    assert str(alert[0]["content"]).startswith("**アラート** · ★★★★☆ 重要度 4/5")
    alert = render_alert_payloads(_item(3), "en", SETTINGS, nonce="n")
    assert str(alert[0]["content"]).startswith("**Alert** · ★★★★☆ Importance 4 of 5")


def test_mentions_in_untrusted_text_are_inert() -> None:
    item = _item(1, title=INJECTION, tldr=INJECTION, tags=("@everyone",))
    payloads = render_alert_payloads(item, "en", SETTINGS, nonce="n")
    _accepted(payloads)
    text = json.dumps(payloads, ensure_ascii=False)
    for raw in ("@everyone", "@here", "<@1234", "<@!1234", "<@&9876"):
        assert raw not in text
    assert neutralise_mentions("mail me at a@b.c") == "mail me at a@b.c"
    assert inert("**bold** `code` <@&1>") == "\\*\\*bold\\*\\* \\`code\\` <@\u200d&1>"


def test_outbox_payloads_render_for_both_contract_types() -> None:
    digest_payload = {"type": "digest", "digest": digest_to_dict(_digest([_item(3)]))}
    alert_payload = {"type": "alert", "lang": "ja", "item": item_to_dict(_item(4))}
    digest_messages = render_outbox_payload(digest_payload, SETTINGS, "abc")
    alert_messages = render_outbox_payload(alert_payload, SETTINGS, "def")
    _accepted(digest_messages + alert_messages)
    assert alert_messages[0]["nonce"] == "def"
    with pytest.raises(ValueError):
        render_outbox_payload({"type": "poll"}, SETTINGS, "x")


def test_cut_prefers_sentence_then_word_boundaries() -> None:
    text = "First sentence here. Second sentence is quite a bit longer than the first one."
    assert cut(text, 40) == "First sentence here.…"
    assert cut("word " * 20, 23).endswith("word…")
    assert len(cut("x" * 500, 100)) == 100
    assert cut("短い文です。次の文はとても長いのでここで切られるはずです。", 12) == "短い文です。…"
    assert cut("ends with \\* star", 11) == "ends with…"


def test_part_nonces_are_stable_distinct_and_short() -> None:
    nonces = [part_nonce("a" * 24, index) for index in range(5)]
    assert nonces[0] == "a" * 24
    assert len(set(nonces)) == 5
    assert all(len(n) <= 25 for n in nonces)
    assert nonces == [part_nonce("a" * 24, index) for index in range(5)]


def test_split_text_keeps_every_character_and_the_limit() -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "Sentence here. " * 40 for n in range(20))
    parts = split_text(text, 1900)
    assert all(len(p) <= 1900 for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


def _translation(body: str, status: TranslationStatus = "complete") -> Reply:
    view = TranslationView(
        lang="ja", status=status, title="翻訳 @everyone", body=body, chunks_total=4, chunks_done=2
    )
    return Reply(
        translation=view,
        translation_title="Original",
        translation_url="https://news.example/1",
        lang="en",
    )


def test_long_translation_goes_out_as_several_messages() -> None:
    body = "これは翻訳された文です。" * 500  # 6,000 characters
    messages = render_reply(_translation(body), SETTINGS)
    assert len(messages) >= 4
    assert all(len(m.content) <= MAX_CONTENT for m in messages)
    assert "".join(m.content for m in messages[1:]) == body
    assert "@everyone" not in messages[0].content


def test_very_long_translation_is_attached_as_markdown() -> None:
    body = "A translated sentence. " * 2000
    messages = render_reply(_translation(body, status="partial"), SETTINGS)
    assert len(messages) == 1
    assert messages[0].attachment is not None
    name, data = messages[0].attachment
    assert name == "translation-ja.md"
    assert body.strip() in data.decode()
    assert "Partial translation: 2 of 4 parts" in messages[0].content
    assert "The full translation is attached (45,999 characters)." in messages[0].content
    japanese = render_reply(replace(_translation(body, status="partial"), lang="ja"), SETTINGS)
    assert "翻訳（日本語） — 部分翻訳: 4件中2件" in japanese[0].content
    assert "翻訳の全文を添付しました（45,999文字）。" in japanese[0].content


def test_card_reply_has_the_four_scores_with_reasons() -> None:
    card = ArticleCard(
        article_id=7,
        story_id=1,
        title="A title",
        url="javascript:alert(1)",
        source="Wire",
        published_at=datetime(2026, 11, 28, tzinfo=UTC),
        lang="en",
        reading_minutes=3,
        tldr="Short. " * 500,
        key_points=("One.", "Two."),
        tags=("llm",),
        scores=_scores("R" * 2000),
        importance=4,
        related=((8, "Elsewhere"),),
    )
    [message] = render_reply(Reply(card=card, lang="en"), SETTINGS)
    payload = {"content": message.content, "embeds": message.embeds}
    assert message_errors(payload) == {}
    embed = message.embeds[0]
    assert "url" not in embed  # a non-http link is dropped, not sent for Discord to reject
    assert [f["name"] for f in embed["fields"]][2:6] == [
        "Depth 4/5",
        "Relevance 4/5",
        "Practicality 4/5",
        "Innovation 4/5",
    ]
    assert embed["footer"]["text"] == "#7 · 3 min"
    [message] = render_reply(Reply(card=card, lang="ja"), SETTINGS)
    assert message_errors({"content": message.content, "embeds": message.embeds}) == {}
    embed = message.embeds[0]
    assert [f["name"] for f in embed["fields"]][:6] == [
        "重要度", "タグ", "深さ 4/5", "関連性 4/5", "実用性 4/5", "新規性 4/5",
    ]  # fmt: skip
    assert embed["fields"][2]["value"].startswith("RRR")  # the reason is shown as given
    assert embed["footer"]["text"] == "#7 · 約3分"


def test_text_reply_is_split_and_neutralised() -> None:
    reply = Reply(message="@everyone " + "line\n" * 1000, ephemeral=True)
    messages = render_reply(reply, SETTINGS)
    assert len(messages) > 1
    assert all(m.ephemeral and len(m.content) <= MAX_CONTENT for m in messages)
    assert not messages[0].content.startswith("@everyone")


def test_blank_reply_still_answers_the_interaction() -> None:
    [message] = render_reply(Reply(message="   \n  ", lang="en"), SETTINGS)
    assert message.content == "Done."
    [message] = render_reply(Reply(message="   \n  "), SETTINGS)  # `[translate] default_lang`
    assert message.content == "完了しました。"


def test_split_never_separates_an_escape_from_its_character() -> None:
    text = "a" * 99 + "\\*" + "b" * 50
    parts = split_text(text, 100)
    assert not any(part.endswith("\\") for part in parts)
    assert "".join(parts) == text
    assert neutralise_mentions("@Everyone @HERE") == "@\u200dEveryone @\u200dHERE"


def test_sources_lines_from_a_hostile_feed_are_shown_as_typed() -> None:
    """A feed's name and error text reach `/ainews sources`: no masked link, heading or ping."""
    hostile = "Evil Feed: 3 errors, last: [verify here](https://evil.example) # Big @everyone"
    reply = Reply(message="Sources:", lines=(hostile, "# Owned"), ephemeral=True)
    [message] = render_reply(reply, SETTINGS)
    assert message.content.startswith("Sources:\n")
    assert "\\[verify here](https://evil.example)" in message.content
    assert "[verify here](" not in message.content.replace("\\[verify here](", "")
    assert "\n\\# Owned" in message.content
    assert "@everyone" not in message.content

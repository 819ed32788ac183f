"""Every Slack and Discord renderer under generated input: any Unicode, any length, markup
characters, Japanese. None may raise, and every payload must be one the platform accepts
(checked by the same validators the fake Slack and fake Discord servers answer with)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import discord_render, slack_render
from bot.config import Settings
from bot.messages import Reply
from digest.models import ArticleCard, Digest, DigestItem, DimensionScore, Scores, TranslationView
from tests.fakes.discord_api import collapse_same_url_embeds, message_errors
from tests.fakes.slack_api import message_error

SETTINGS = Settings.model_validate({"web": {"base_url": "https://ainews.example.org"}})
WHEN = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
MARKUP = "&<>*_~`|@!#:[]()\\\n\t\r\u200b\u202e\u2066"
JAPANESE = "日本語のニュース。生成AIが「世界初」を発表！？、ー"
SNIPPETS = ["<!channel>", "@everyone", "<@U1>", "<@&1>", "<http://x|y>", "&amp;", "```", "||"]

# any Unicode (surrogates excluded: they cannot be encoded), weighted toward what breaks things
text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=400),
    st.text(st.sampled_from(MARKUP + JAPANESE + "a "), max_size=3500),
    st.lists(st.sampled_from([*SNIPPETS, JAPANESE, "word ", ". "]), max_size=150).map("".join),
    st.sampled_from([" ", "\n\t", "\u202e", "&" * 1000, "<" * 3000, JAPANESE * 120]),
)
short = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
url = st.one_of(
    st.just("https://news.example.com/a?b=1&c=<2>"), short, st.just("javascript:alert(1)")
)
scores = st.one_of(
    st.none(),
    st.builds(
        Scores,
        *[st.builds(DimensionScore, st.integers(1, 5), text) for _ in range(4)],
    ),
)
items = st.builds(
    DigestItem,
    story_id=st.integers(1, 10**9),
    article_id=st.integers(1, 10**9),
    title=text,
    url=url,
    sources=st.lists(short, max_size=5).map(tuple),
    importance=st.integers(1, 5),
    scores=scores,
    tldr=text,
    tags=st.lists(short, max_size=8).map(tuple),
    alerted=st.booleans(),
    published_at=st.just(WHEN),
    points=st.one_of(st.none(), st.integers(0, 10**6)),
    comments=st.one_of(st.none(), st.integers(0, 10**6)),
    title_translated=text,
)
digests = st.builds(
    Digest,
    kind=st.sampled_from(["daily", "weekly", "hn"]),
    day=st.just(date(2026, 11, 28)),
    lang=st.sampled_from(["en", "ja"]),
    items=st.lists(items, max_size=30).map(tuple),
    tag=st.one_of(st.none(), short),
    rising_tags=st.lists(st.tuples(short, st.integers(0, 99)), max_size=5).map(tuple),
)
translations = st.builds(
    TranslationView,
    lang=st.sampled_from(["en", "ja"]),
    status=st.sampled_from(["complete", "partial", "failed", "pending"]),
    title=text,
    body=text,
    chunks_total=st.integers(0, 9),
    chunks_done=st.integers(0, 9),
)
cards = st.builds(
    ArticleCard,
    article_id=st.integers(1, 10**9),
    story_id=st.one_of(st.none(), st.integers(1, 10**9)),
    title=text,
    url=url,
    source=short,
    published_at=st.just(WHEN),
    lang=st.sampled_from(["en", "ja", ""]),
    reading_minutes=st.integers(0, 999),
    tldr=text,
    key_points=st.lists(text, max_size=7).map(tuple),
    tags=st.lists(short, max_size=8).map(tuple),
    scores=scores,
    importance=st.one_of(st.none(), st.integers(1, 5)),
    title_translated=text,
    impact=text,
    editorial=text,
    translation=st.one_of(st.none(), translations),
    related=st.lists(st.tuples(st.integers(1, 99), text), max_size=5).map(tuple),
)
replies = st.one_of(
    st.builds(Reply, message=text, ephemeral=st.booleans(), is_error=st.booleans()),
    st.builds(Reply, message=text, digest=digests),
    st.builds(Reply, message=text, card=cards),
    st.builds(Reply, message=text, cards=st.lists(cards, max_size=10).map(tuple)),
    st.builds(
        Reply, message=text, translation=translations, translation_title=text, translation_url=url
    ),
    st.builds(Reply, message=text, lines=st.lists(text, max_size=30).map(tuple)),
)
RUNS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _slack_ok(payloads: list[dict[str, Any]]) -> None:
    assert payloads
    for payload in payloads:
        assert message_error(payload) is None, json.dumps(payload, ensure_ascii=False)[:600]
        assert len(json.dumps(payload.get("blocks", []), ensure_ascii=False)) <= 13_200


def _discord_ok(payloads: list[dict[str, Any]]) -> None:
    assert payloads
    for payload in payloads:
        assert message_errors(payload) == {}, json.dumps(payload, ensure_ascii=False)[:600]
        assert payload["allowed_mentions"] == {"parse": []}
        # nothing Discord would collapse away: no two embeds of one message share a url
        assert collapse_same_url_embeds(payload["embeds"]) == payload["embeds"]


@RUNS
@given(text)
def test_slack_escaped_sections_never_recurse_and_fit(value: str) -> None:
    for limit in (50, 120, slack_render.MAX_SECTION_CHARS):
        pieces = slack_render.escaped_sections(value, limit)
        assert all(len(piece) <= limit for piece in pieces)


@RUNS
@given(digests)
def test_slack_digest(digest: Digest) -> None:
    _slack_ok(slack_render.render_digest_payloads(digest, SETTINGS))


@RUNS
@given(items)
def test_slack_alert(item: DigestItem) -> None:
    _slack_ok(slack_render.render_alert_payloads(item, SETTINGS))


@RUNS
@given(cards)
def test_slack_card(card: ArticleCard) -> None:
    _slack_ok(slack_render.render_card_payloads(card, SETTINGS))


@RUNS
@given(translations, text, url)
def test_slack_translation(view: TranslationView, title: str, link: str) -> None:
    _slack_ok(slack_render.render_translation_payloads(view, title, link, SETTINGS))


@RUNS
@given(replies)
def test_slack_reply(reply: Reply) -> None:
    _slack_ok(slack_render.render_reply(reply, SETTINGS))


@RUNS
@given(digests, st.text(min_size=1, max_size=24))
def test_discord_digest(digest: Digest, nonce: str) -> None:
    _discord_ok(discord_render.render_digest_payloads(digest, SETTINGS, nonce=nonce))


@RUNS
@given(items, st.sampled_from(["en", "ja", ""]))
def test_discord_alert(item: DigestItem, lang: str) -> None:
    _discord_ok(discord_render.render_alert_payloads(item, lang, SETTINGS, nonce="n"))


@RUNS
@given(replies)
def test_discord_reply(reply: Reply) -> None:
    for message in discord_render.render_reply(reply, SETTINGS):
        body: dict[str, Any] = {"content": message.content, "embeds": message.embeds}
        files = 1 if message.attachment is not None else 0
        assert message.content or message.embeds or files
        assert collapse_same_url_embeds(message.embeds) == message.embeds
        assert message_errors(body, files=files) == {}, json.dumps(body, ensure_ascii=False)[:600]

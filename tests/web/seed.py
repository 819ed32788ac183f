"""A small store for the web tests: one story covered twice, a hostile article, a Japanese one,
an unscored one, translations in every state, deliveries and a failing source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store.db import Database
from bot.store.schema import (
    ArticleRow,
    Channel,
    Delivery,
    EnrichmentRow,
    Source,
    Story,
    TranslationRow,
)

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
HOSTILE_TITLE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> @everyone'
HOSTILE_URL = "javascript:alert(3)"
HOSTILE_BODY = '<script>alert("body")</script>\n\n<a href="javascript:alert(4)">x</a> @everyone'
ORIGINAL_BODY = (
    "OpenAI released a reasoning model that plans before it answers.\n\n"
    "It scores higher on maths benchmarks and costs less per token.\n\n"
    "Developers can try it in the API today."
)
TRANSLATED_BODY = (
    "OpenAIは回答前に計画を立てる推論モデルを公開した。\n\n"
    "数学ベンチマークのスコアが向上し、トークン単価も下がった。\n\n"
    "開発者は本日からAPIで試せる。"
)


@dataclass(frozen=True)
class Seeded:
    """Ids of the seeded rows, so tests do not hard-code autoincrement values."""

    main: int
    main_hn: int
    hostile: int
    japanese: int
    unscored: int
    old: int


def _enrichment(
    article_id: int, importance: int, scores: tuple[int, int, int, int], **kw: object
) -> EnrichmentRow:
    depth, relevance, practicality, innovation = scores
    values: dict[str, object] = {
        "tldr": "",
        "key_points": [],
        "tags": [],
        "reasons": {
            "depth": "Explains the method with benchmark numbers.",
            "relevance": "Directly about large language models.",
            "practicality": "Available in the API today.",
            "innovation": "Incremental over the previous model.",
        },
        "lang": "ja",
        "engine": "offline",
    }
    values.update(kw)
    return EnrichmentRow(
        article_id=article_id,
        depth=depth,
        relevance=relevance,
        practicality=practicality,
        innovation=innovation,
        importance=importance,
        **values,
    )


async def seed_store(db: Database) -> Seeded:
    async with db.session() as session:
        blog = Source(name="Example AI Blog", url="https://blog.example.com/feed.xml", lang="en")
        hn = Source(name="Hacker News", url="https://news.ycombinator.com/", kind="hackernews")
        evil = Source(name="Evil <b>Feed</b>", url="https://evil.example.com/rss")
        itmedia = Source(
            name="ITmedia AI+",
            url="https://itmedia.example.jp/rss",
            lang="ja",
            error_count=2,
            last_error="HTTP 503",
        )
        session.add_all([blog, hn, evil, itmedia])
        await session.flush()
        story = Story(title="OpenAI releases a reasoning model", fingerprint="f1", source_count=2)
        lone = Story(title="hostile", fingerprint="f2")
        session.add_all([story, lone])
        await session.flush()

        def article(
            source: Source, ident: str, title: str, published: datetime, **kw: object
        ) -> ArticleRow:
            values: dict[str, object] = {
                "url": f"https://{ident}.example.com/post",
                "canonical_url": f"https://{ident}.example.com/post",
                "content": ORIGINAL_BODY,
                "lang": "en",
                "reading_minutes": 3,
                "enrich_status": "done",
            }
            values.update(kw)
            return ArticleRow(
                source_id=source.id,
                identity=ident,
                guid=ident,
                title=title,
                published_at=published,
                **values,
            )

        main = article(
            blog,
            "main",
            "OpenAI releases a reasoning model",
            NOW - timedelta(hours=4),
            story_id=story.id,
        )
        main_hn = article(
            hn,
            "mainhn",
            "OpenAI reasoning model (HN discussion)",
            NOW - timedelta(hours=3),
            story_id=story.id,
            points=420,
            comments=180,
        )
        hostile = article(
            evil,
            "hostile",
            HOSTILE_TITLE,
            NOW - timedelta(hours=2),
            url=HOSTILE_URL,
            canonical_url=HOSTILE_URL,
            story_id=lone.id,
            content=HOSTILE_BODY,
        )
        japanese = article(
            itmedia,
            "ja",
            "国産LLMの新バージョンが公開",
            NOW - timedelta(hours=1),
            lang="ja",
            content="国産の大規模言語モデルの新版が公開された。",
        )
        unscored = article(
            blog,
            "unscored",
            "Notes on GPU supply",
            NOW - timedelta(minutes=30),
            enrich_status="pending",
        )
        old = article(blog, "old", "Last week's agent framework", NOW - timedelta(days=3))
        session.add_all([main, main_hn, hostile, japanese, unscored, old])
        await session.flush()

        session.add_all(
            [
                _enrichment(
                    main.id,
                    4,
                    (5, 4, 3, 3),
                    tldr="推論モデルが公開され、APIで利用できる。",
                    key_points=[
                        "計画してから回答する",
                        "数学ベンチマークで向上",
                        "トークン単価が低下",
                    ],
                    tags=["llm", "research"],
                    title_translated="OpenAIが推論モデルを公開",
                    impact="開発者は推論コストを下げられる。",
                ),
                _enrichment(main_hn.id, 4, (4, 4, 4, 3), tldr="HNでの議論。", tags=["llm"]),
                _enrichment(
                    hostile.id,
                    5,
                    (5, 5, 5, 5),
                    tldr='<img src=x onerror="alert(5)"> <!channel> @everyone',
                    key_points=["<script>alert(6)</script>"],
                    tags=["<b>x</b>", "llm"],
                    title_translated="<svg onload=alert(7)>",
                    editorial='"><iframe src="javascript:alert(8)">',
                    reasons={"depth": "<script>alert(9)</script>"},
                ),
                _enrichment(
                    japanese.id,
                    2,
                    (2, 2, 2, 2),
                    tldr="国産LLMの新版。",
                    tags=["japan", "llm", "国産"],
                ),
                _enrichment(old.id, 4, (4, 4, 4, 4), tldr="An agent framework.", tags=["agents"]),
            ]
        )
        session.add_all(
            [
                TranslationRow(
                    article_id=main.id,
                    lang="ja",
                    title="OpenAIが推論モデルを公開",
                    body=TRANSLATED_BODY,
                    chunks=[TRANSLATED_BODY],
                    chunks_total=1,
                    chunks_done=1,
                    status="complete",
                    model="fake",
                ),
                TranslationRow(
                    article_id=hostile.id,
                    lang="ja",
                    title="<script>alert(10)</script>",
                    body='<img src=x onerror="alert(11)">\n\n@everyone',
                    chunks_total=5,
                    chunks_done=2,
                    status="partial",
                    model="fake",
                ),
            ]
        )
        channel = Channel(platform="slack", workspace="T1", channel="C1")
        session.add(channel)
        await session.flush()
        session.add_all(
            [
                Delivery(
                    channel_id=channel.id, key="daily:2026-11-27", kind="digest", status="sent"
                ),
                Delivery(
                    channel_id=channel.id, key="daily:2026-11-28", kind="digest", status="failed"
                ),
                Delivery(
                    channel_id=channel.id, key="alert:story:1", kind="alert", status="pending"
                ),
            ]
        )
        return Seeded(main.id, main_hn.id, hostile.id, japanese.id, unscored.id, old.id)

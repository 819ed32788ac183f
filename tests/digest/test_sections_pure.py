"""Momentum, trends, related stories and charts: the pure parts of the seed's sections."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree as ET

from digest.charts import png_line_chart, svg_line_chart
from digest.related import RelatedCandidate, related_stories
from digest.tools import Sighting, growth, momentum
from digest.trends import Mention, report, rising

TODAY = date(2026, 11, 28)


def _month() -> list[Mention]:
    """Five weeks of daily items: steady topics, two risers, a one-day spike, a faller."""
    mentions: list[Mention] = []
    for offset in range(35):
        day = TODAY - timedelta(days=offset)
        this_week = offset < 7
        # steady: two `llm` stories every day, every week
        mentions += [Mention(day, "llm", "tag")] * 2
        # rising entity: one story every other day before, three a day this week
        if this_week:
            mentions += [Mention(day, "anthropic", "entity")] * 3
        elif offset % 2 == 0:
            mentions.append(Mention(day, "anthropic", "entity"))
        # rising tag from nothing: `agents` appears only this week, once a day
        if this_week:
            mentions.append(Mention(day, "agents", "tag"))
        # falling: `crypto` daily before, once this week
        if not this_week or offset == 0:
            mentions.append(Mention(day, "crypto", "tag"))
    # one noisy day: `robotics` twice on one day this week, never before
    mentions += [Mention(TODAY - timedelta(days=2), "robotics", "tag")] * 2
    return mentions


def test_a_synthetic_month_gives_the_expected_risers() -> None:
    risers = rising(_month(), TODAY, days=7, min_count=3)
    names = [(r.name, r.kind) for r in risers]
    assert names == [("agents", "tag"), ("anthropic", "entity")]
    agents, anthropic = risers
    assert (agents.count, agents.previous) == (7, 0.0)
    assert (anthropic.count, anthropic.previous) == (21, 3.5)
    assert agents.score > anthropic.score > 1


def test_one_noisy_day_and_steady_topics_are_not_trends() -> None:
    names = {r.name for r in rising(_month(), TODAY, min_count=3)}
    assert "robotics" not in names  # two mentions: below the minimum count
    assert "llm" not in names  # steady
    assert "crypto" not in names  # falling


def test_report_charts_the_top_risers_over_five_windows() -> None:
    trends = report(_month(), TODAY, names={"anthropic": "Anthropic"})
    assert [label for label, _ in trends.series] == ["#agents", "Anthropic"]
    assert all(len(values) == 35 for _, values in trends.series)
    assert trends.series[1][1][-7:] == (3,) * 7
    assert trends.label(trends.risers[1]) == "Anthropic"


def test_growth_beats_size() -> None:
    big = [Sighting(TODAY - timedelta(days=1), 200_000), Sighting(TODAY, 200_060)]
    small = [Sighting(TODAY - timedelta(days=1), 900), Sighting(TODAY, 1_500)]
    assert growth(big, None) == 0.0003
    assert growth(small, None) == 0.5  # capped
    assert momentum(small, None, is_ai=True, importance=3) > momentum(
        big, None, is_ai=True, importance=3
    )


def test_stars_today_gives_growth_without_history() -> None:
    one_day = [Sighting(TODAY, 36_209)]
    assert growth(one_day, 1_150) == round(1_150 / (36_209 - 1_150), 6)
    assert growth(one_day, None) is None


def test_ai_relevance_scales_momentum() -> None:
    history = [Sighting(TODAY, 10_000)]
    ai = momentum(history, 2_000, is_ai=True, importance=4)
    other = momentum(history, 2_000, is_ai=False, importance=4)
    assert ai > other > 0


def _at(days_ago: int) -> datetime:
    return datetime(2026, 11, 28, 12, tzinfo=UTC) - timedelta(days=days_ago)


def test_related_by_entity_and_topic_most_recent_first() -> None:
    candidates = [
        RelatedCandidate(2, 20, "Gemma 3 benchmark", _at(10), ("gemma",), ("benchmark",)),
        RelatedCandidate(3, 10, "Same launch, other outlet", _at(0), ("google",), ()),
        RelatedCandidate(4, 40, "Gardening", _at(1), (), ("garden",)),
        RelatedCandidate(5, 50, "Agents and evals", _at(3), (), ("agents", "evals")),
        RelatedCandidate(6, 20, "Gemma 3 benchmark again", _at(9), ("gemma",), ()),
        RelatedCandidate(7, 70, "Only kind tag shared", _at(2), (), ("news", "tool")),
    ]
    found = related_stories(
        1,
        10,
        ("gemma", "google"),
        ("agents", "evals", "news"),
        candidates,
        {"gemma": "Gemma", "google": "Google"},
    )
    assert [(r.article_id, r.why) for r in found] == [
        (3, "also about Google"),
        (5, "also tagged #agents, #evals"),
        (6, "also about Gemma"),
    ]


def test_related_keeps_five() -> None:
    candidates = [
        RelatedCandidate(i, 100 + i, f"Gemma {i}", _at(i), ("gemma",), ()) for i in range(2, 12)
    ]
    found = related_stories(1, 1, ("gemma",), (), candidates, {"gemma": "Gemma"})
    assert [r.article_id for r in found] == [2, 3, 4, 5, 6]


def _png_rows(data: bytes) -> tuple[int, int, bytes]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, idat, size = 8, b"", (0, 0)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def test_png_chart_is_a_valid_image_with_the_lines_drawn() -> None:
    width, height = 200, 100
    data = png_line_chart([("a", [0, 5, 10]), ("b", [10, 5, 0])], width=width, height=height)
    got_w, got_h, raw = _png_rows(data)
    assert (got_w, got_h) == (width, height)
    assert len(raw) == height * (1 + width * 3)
    blue, orange = bytes((0, 114, 178)), bytes((230, 159, 0))
    assert blue in raw and orange in raw


def test_svg_chart_is_well_formed_and_escaped() -> None:
    svg = svg_line_chart([("<b>&", [1, 2, 3])], title="Trend <x>", start_label="a", end_label="b")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    polylines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(polylines) == 1 and len(polylines[0].get("points", "").split()) == 3

"""Contract: `ainews digest today --lang ja --format slack|discord|text` renders its labels in
Japanese (and `--lang en` in English), each payload within its platform's limits."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.fakes.discord_api import message_errors
from tests.fakes.slack_api import message_error, text_objects
from tests.service.test_cli_service import _cli, _seed_digest_store

LABELS = {
    "ja": {
        "text": ["AIニュース — 2026年11月20日 (2件)", "重要度 5/5 · 深さ", "Lab、Wire"],
        "slack": ["AIニュース · 2026年11月20日", "2件", "重要度 5/5 · 深さ", "|詳細>"],
        "discord": ["**AIニュース · 2026年11月20日** — 2件", "重要度", "スコア", "深さ"],
    },
    "en": {
        "text": ["AI news — November 20, 2026 (2 stories)", "Importance 5 of 5 · Depth"],
        "slack": ["AI news · November 20, 2026", "2 stories", "Importance 5 of 5 · Depth"],
        "discord": ["**AI news · November 20, 2026** — 2 stories", "Importance", "Scores"],
    },
}
ENGLISH_ONLY = ("AI news", "stories", "Importance", "Depth", "Scores", "details")


def _shown(output: str, fmt: str) -> str:
    if fmt == "text":
        return output
    payloads = json.loads(output)
    assert isinstance(payloads, list) and payloads
    if fmt == "slack":
        for payload in payloads:
            assert message_error(payload) is None
        return "\n".join("\n".join([p["text"], *text_objects(p.get("blocks"))]) for p in payloads)
    for payload in payloads:
        assert message_errors(payload) == {}
    return json.dumps(payloads, ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["text", "slack", "discord"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_digest_labels_follow_lang(sqlite_url: str, tmp_path: Path, lang: str, fmt: str) -> None:
    asyncio.run(_seed_digest_store(sqlite_url))
    args = ("--database-url", sqlite_url, "digest", "today", "--date", "2026-11-20")
    code, out, err = _cli(*args, "--lang", lang, "--format", fmt)
    assert code == 0, err
    shown = _shown(out, fmt)
    assert "Big model launch" in shown and "Agent paper" in shown
    for label in LABELS[lang][fmt]:
        assert label in shown, (label, shown)
    if lang == "ja":
        assert [word for word in ENGLISH_ONLY if word in shown] == []

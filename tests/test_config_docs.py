"""docs/configuration.md is generated from bot/config.py; it must match what the code says."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.config_docs import render_reference

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_committed_reference_is_up_to_date() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(), (
        "docs/configuration.md is stale: run `python scripts/gen_config_docs.py`"
    )


def test_reference_names_every_section_and_key() -> None:
    text = render_reference()
    for section, field in Settings.model_fields.items():
        if section == "secrets":
            continue
        assert f"[{section}]" in text
        model = field.annotation
        for key in getattr(model, "model_fields", {}):
            assert f"| `{key}` |" in text
    assert "| `days` | int or none | unset | ≥ 1 |" in text

"""Write docs/configuration.md from the typed settings (bot/config.py)."""

from __future__ import annotations

from pathlib import Path

from bot.config_docs import render_reference

TARGET = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

if __name__ == "__main__":
    TARGET.write_text(render_reference(), encoding="utf-8")
    print(f"wrote {TARGET}")

"""Settings: validated at start-up, clear errors, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_is_valid() -> None:
    settings = load_settings(REPO_ROOT / "config.toml", environ={})
    assert len(settings.sources) >= 18
    assert settings.rubric.weights == {
        "depth": 0.4,
        "relevance": 0.3,
        "practicality": 0.2,
        "innovation": 0.1,
    }
    assert settings.fetch.allow_private_networks is False
    assert settings.llm is None


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[fetch]\nallow_privat_networks = true\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value)
    assert "fetch.allow_privat_networks: unknown key" in str(info.value)


def test_bad_value_says_what_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[digest]\ntimezone = "Mars/Olympus"\ndaily_time = "25:00"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "digest.timezone" in message and "unknown IANA time zone" in message
    assert "digest.daily_time" in message and "HH:MM" in message


def test_database_url_override_and_secret_redaction(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///a.db"\n')
    environ = {"SLACK_BOT_TOKEN": "xoxb-123-secret"}
    settings = load_settings(path, database_url="sqlite:///b.db", environ=environ)
    assert settings.database.url == "sqlite:///b.db"
    assert settings.secrets.slack_bot_token is not None
    assert "xoxb-123-secret" not in repr(settings)
    assert "xoxb-123-secret" not in str(settings.secrets)

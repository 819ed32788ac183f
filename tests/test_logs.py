"""Secrets never reach a log line: the redaction filter, and a DEBUG run whose adapters fail."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import REDACTED, KeyValueFormatter, RedactingFilter, redact

SLACK_TOKEN = "xoxb-1111111111-2222222222-abcdefghijklmnopqrstuvwx"
DISCORD_TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GhIjKl.abcdefghijklmnopqrstuvwxyz012345"
LLM_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.mark.parametrize(
    "secret",
    [
        SLACK_TOKEN,
        "xapp-1-A0000000000-0000000000000-abcdef",
        LLM_KEY,
        f"Bot {DISCORD_TOKEN}",
        "Bearer abcdefghijklmnop",
        "https://discord.com/api/webhooks/123456/abcdefSECRET",
        "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
    ],
)
def test_redact_removes_credentials(secret: str) -> None:
    cleaned = redact(f"request failed for {secret} (status 401)")
    assert REDACTED in cleaned
    assert secret not in cleaned and "SECRET" not in cleaned
    assert cleaned.startswith("request failed for ") and cleaned.endswith("(status 401)")


def test_filter_cleans_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("posting with %s", SLACK_TOKEN)
        try:
            raise RuntimeError(f"401 for Authorization: Bot {DISCORD_TOKEN}")
        except RuntimeError:
            logger.exception("send failed")
    finally:
        logger.removeHandler(handler)
    joined = "\n".join(records)
    assert SLACK_TOKEN not in joined and DISCORD_TOKEN not in joined
    assert "posting with [redacted]" in joined and "RuntimeError" in joined


def test_a_debug_run_with_failing_platforms_logs_no_secret(tmp_path: Path) -> None:
    """`ainews run --once` at DEBUG with tokens set and every platform unreachable (port 9 on
    loopback refuses): the errors are logged, the tokens are not."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/a.db"\n'
        "[fetch]\nallow_private_networks = true\ntotal_timeout = 3.0\n"
        '[slack]\napi_base_url = "http://127.0.0.1:9/api/"\n'
        '[discord]\napi_base_url = "http://127.0.0.1:9/api/v10"\n'
        "[web]\nenabled = false\n"
        '[llm]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\ntimeout = 2.0\n'
        '[[sources]]\nname = "Down"\nurl = "http://127.0.0.1:9/feed.xml"\n'
    )
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": "signing-secret-value-0123456789",
        "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
        "AINEWS_LLM_API_KEY": LLM_KEY,
    }
    done = subprocess.run(
        [sys.executable, "-m", "adapters.main", "--config", str(config), "--log-level", "DEBUG",
         "run", "--once"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Discord login failed" in output  # the failure itself is reported
    for secret in (SLACK_TOKEN, DISCORD_TOKEN, LLM_KEY, "signing-secret-value-0123456789"):
        assert secret not in output


def test_structured_keys_are_shown_and_redacted() -> None:
    formatter = KeyValueFormatter("%(levelname)s %(message)s")
    record = logging.makeLogRecord(
        {
            "levelname": "WARNING",
            "msg": "source failed",
            "source": "https://example.com/feed",
            "error": f"401 with {SLACK_TOKEN}",
        }
    )
    line = formatter.format(record)
    assert line.startswith("WARNING source failed ")
    assert "source='https://example.com/feed'" in line
    assert SLACK_TOKEN not in line and REDACTED in line

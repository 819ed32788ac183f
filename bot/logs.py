"""Logging set-up with a redaction filter: tokens and webhook URLs never reach a log line."""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bBot\s+[A-Za-z0-9._-]{20,}"),
    re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._-]{8,}"),
    re.compile(r"https?://[^\s]*/api/webhooks/[^\s\"']+"),
    re.compile(r"https?://hooks\.slack\.com/[^\s\"']+"),
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Replace anything that looks like a credential."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Applied to handlers, so third-party loggers (httpx, discord, slack) are covered too."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """Appends a record's structured keys (`extra=`) as `key=value`, redacted like the message,
    so `log.warning("source failed", extra={"source": url})` still says which source."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        line = super().formatMessage(record)
        extras = {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        }
        if not extras:
            return line
        return line + " " + redact(" ".join(f"{key}={value!r}" for key, value in extras.items()))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)

"""Typed, frozen settings from config.toml plus secrets from the environment.

Validation happens once at start-up so that a typo fails loudly with the file, the key and what
was expected, instead of surfacing hours later inside a job.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from bot.messages import Msg, msg
from digest.build import Weekday

DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_DATABASE_URL = "sqlite:///ainews.db"


class _Section(BaseModel):
    # attribute docstrings become field descriptions: docs/configuration.md is generated from them
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DatabaseSettings(_Section):
    """Where everything is stored: SQLite (one process) or PostgreSQL (several replicas)."""

    url: str = DEFAULT_DATABASE_URL
    """`sqlite:///path.db` (WAL, foreign keys, busy timeout) or `postgresql://user@host/db`."""


class FetchSettings(_Section):
    allow_private_networks: bool = False
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    total_timeout: float = Field(30.0, gt=0)
    max_body_bytes: int = Field(15 * 1024 * 1024, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    concurrency: int = Field(16, ge=1)
    per_host: int = Field(4, ge=1)
    interval_minutes: int = Field(30, ge=1)
    max_failures: int = Field(8, ge=1)
    full_text: bool = True
    user_agent: str = "ainews/0.1 (AI news digest bot)"


class RubricSettings(_Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "depth": 0.4,
            "relevance": 0.3,
            "practicality": 0.2,
            "innovation": 0.1,
        }
    )

    @field_validator("weights")
    @classmethod
    def _four_dimensions(cls, weights: dict[str, float]) -> dict[str, float]:
        expected = {"depth", "relevance", "practicality", "innovation"}
        if set(weights) != expected:
            raise ValueError(f"needs exactly the keys {sorted(expected)}")
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return weights

    # The most a non-AI item may score: EDITORIAL.md puts every non-AI item at 1; raise it to
    # let a general-tech channel see strong non-AI stories.
    non_ai_max: int = Field(default=1, ge=1, le=5)


class EnrichSettings(_Section):
    lang: str = "ja"
    interests: tuple[str, ...] = (
        "llm",
        "agents",
        "open-source",
        "research",
        "safety",
        "multimodal",
        "coding",
    )
    concurrency: int = Field(4, ge=1)
    max_input_chars: int = Field(6000, ge=500)
    # Longer articles are read in parts of `max_input_chars` (map-reduce); past this many parts
    # the rest is left unread and the enrichment's note says so.
    max_parts: int = Field(12, ge=1)
    retry_minutes: int = Field(30, ge=1)
    taxonomy: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class LLMSettings(_Section):
    """An OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp server)."""

    base_url: str
    """e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` (Ollama)."""
    model: str
    api_key_env: str = "AINEWS_LLM_API_KEY"
    timeout: float = Field(60.0, gt=0)
    max_concurrency: int = Field(4, ge=1)
    max_retries: int = Field(2, ge=0, le=5)
    daily_token_budget: int = Field(2_000_000, ge=0)
    price_in_per_million: float = Field(0.0, ge=0)
    price_out_per_million: float = Field(0.0, ge=0)
    max_output_tokens: int = Field(2048, ge=64)

    def api_key(self) -> SecretStr | None:
        value = os.environ.get(self.api_key_env)
        return SecretStr(value) if value else None


class TranslateSettings(_Section):
    default_lang: str = "ja"
    chunk_chars: int = Field(3000, ge=200)
    glossary: dict[str, str] = Field(default_factory=dict)


class DigestSettings(_Section):
    size: int = Field(10, ge=1, le=50)
    timezone: str = "Asia/Tokyo"
    daily_time: str = "09:00"
    weekly_day: Weekday = "mon"
    alert_threshold: int = Field(4, ge=1, le=5)
    hn_min_points: int = Field(50, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("daily_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        parse_hh_mm(value)
        return value


class DeliverySettings(_Section):
    max_attempts: int = Field(8, ge=1)
    backoff_seconds: float = Field(30.0, gt=0)
    lease_seconds: float = Field(120.0, gt=0)
    # On SIGTERM/SIGINT, how long sends already in flight may take to finish and be marked.
    drain_seconds: float = Field(20.0, ge=0)
    batch_size: int = Field(50, ge=1)


class SlackSettings(_Section):
    api_base_url: str = "https://slack.com/api/"
    admins_only: bool = False
    """Only workspace admins may change channel settings, sources, mutes and feedback."""
    # the public listener (Slack's and Discord's HTTP endpoints only); the web view is separate
    host: str = "0.0.0.0"  # noqa: S104  (platforms must reach it; it serves signed routes only)
    """Listen address of the public listener (Slack's and Discord's signed HTTP endpoints)."""
    port: int = Field(3000, ge=0, le=65535)


DiscordInteractions = Literal["gateway", "http"]


class DiscordSettings(_Section):
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    interactions: DiscordInteractions = "gateway"
    dev_guild_id: int | None = None
    shard_count: int | None = Field(None, ge=1)
    use_webhooks: bool = False


class WebSettings(_Section):
    """The web view, RSS feed, /metrics, /healthz and the Slack HTTP endpoint."""

    enabled: bool = True
    host: str = "127.0.0.1"
    """Listen address; loopback by default, put a reverse proxy in front for the public."""
    port: int = Field(8080, ge=0, le=65535)
    base_url: str = "http://127.0.0.1:8080"
    feed_min_importance: int = Field(4, ge=1, le=5)


class RetentionSettings(_Section):
    """How long articles are kept; `days` unset keeps everything (the default)."""

    days: int | None = Field(None, ge=1)
    """Delete articles (with enrichments and translations) older than this many days, daily;
    never one an undelivered outbox row still names. Unset keeps everything."""


class ConsoleSettings(_Section):
    enabled: bool = True


SourceKind = Literal["feed", "hackernews"]


class SourceSettings(_Section):
    name: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(min_length=1)]
    lang: str = ""
    weight: float = Field(1.0, ge=0)
    kind: SourceKind = "feed"

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class Secrets(BaseModel):
    """Tokens read from the environment only; SecretStr keeps them out of repr and logs."""

    model_config = ConfigDict(frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    discord_bot_token: SecretStr | None = None
    discord_public_key: SecretStr | None = None  # hex Ed25519 key: not secret, but env-only too

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Secrets:
        def read(name: str) -> SecretStr | None:
            value = environ.get(name, "").strip()
            return SecretStr(value) if value else None

        return cls(
            slack_bot_token=read("SLACK_BOT_TOKEN"),
            slack_signing_secret=read("SLACK_SIGNING_SECRET"),
            slack_app_token=read("SLACK_APP_TOKEN"),
            discord_bot_token=read("DISCORD_BOT_TOKEN"),
            discord_public_key=read("DISCORD_PUBLIC_KEY"),
        )


class Settings(_Section):
    """The whole configuration; `llm` is None when no LLM is configured (offline engine)."""

    database: DatabaseSettings = DatabaseSettings()
    fetch: FetchSettings = FetchSettings()
    rubric: RubricSettings = RubricSettings()
    enrich: EnrichSettings = EnrichSettings()
    llm: LLMSettings | None = None
    translate: TranslateSettings = TranslateSettings()
    digest: DigestSettings = DigestSettings()
    delivery: DeliverySettings = DeliverySettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    web: WebSettings = WebSettings()
    console: ConsoleSettings = ConsoleSettings()
    retention: RetentionSettings = RetentionSettings()
    sources: tuple[SourceSettings, ...] = ()
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @model_validator(mode="after")
    def _unique_sources(self) -> Settings:
        seen: set[str] = set()
        for source in self.sources:
            if source.url in seen:
                raise ValueError(f"source url {source.url!r} is listed twice")
            seen.add(source.url)
        return self


def parse_hh_mm(value: str) -> tuple[int, int]:
    """Parse a 24-hour `HH:MM` time; raises ValueError with the expectation spelled out."""
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"expected HH:MM (24-hour), got {value!r}")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"expected HH:MM (24-hour), got {value!r}")
    return hour, minute


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The section model a validation location points into (`sources.0` → SourceSettings)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _first_model(field.annotation)
    return model


def _first_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _first_model(argument)
        if found is not None:
            return found
    return None


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known spelling closest to a mistyped `word`, if any is close enough."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known spelling, else nothing."""
    close = closest(word, known)
    return f" (did you mean {close!r}?)" if close else ""


def describe_validation(error: ValidationError, root: type[BaseModel]) -> str:
    """Every problem on one line: `key: what is wrong (got value)`, with a spelling hint."""
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join(str(part) for part in loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            model = _model_at(root, loc[:-1])
            known = [k for k in (model.model_fields if model else {}) if k != "secrets"]
            problems.append(f"{key}: unknown key{did_you_mean(str(loc[-1]), known)}")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{key}: {message} (got {item.get('input')!r})")
    return "; ".join(problems)


def _describe(error: ValidationError, path: Path) -> Msg:
    return msg("config.invalid", path=str(path), detail=describe_validation(error, Settings))


def config_path(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to read: `path`, else $AINEWS_CONFIG, else ./config.toml if it exists."""
    env = os.environ if environ is None else environ
    if path:
        return Path(path)
    if env.get("AINEWS_CONFIG"):
        return Path(env["AINEWS_CONFIG"])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None


def load_settings(
    path: Path | str | None = None,
    *,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read config (path, else $AINEWS_CONFIG, else ./config.toml) and the environment."""
    env = os.environ if environ is None else environ
    chosen = config_path(path, env)
    data: dict[str, object] = {}
    if chosen is not None:
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(explained=msg("config.not_found", path=str(chosen))) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                explained=msg("config.not_toml", path=str(chosen), detail=str(exc))
            ) from exc
    url = database_url or env.get("AINEWS_DATABASE_URL")
    if url:
        database = dict(data.get("database") or {})  # type: ignore[call-overload]
        database["url"] = url
        data["database"] = database
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explained=_describe(exc, chosen or Path("<defaults>"))) from exc
    return settings.model_copy(update={"secrets": Secrets.from_env(env)})

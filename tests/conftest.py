"""Shared fixtures: real SQLite files and a real PostgreSQL database, settings, and fixture paths.

PostgreSQL runs when AINEWS_TEST_POSTGRES_URL names a server database we may create databases
from (CI points it at 127.0.0.1); each pytest process gets its own database, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.store.db import Database, upgrade_sync
from bot.store.schema import Base

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"

NO_GATEWAY = "ws://127.0.0.1:9/"

_SECRET_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "DISCORD_BOT_TOKEN",
    "DISCORD_PUBLIC_KEY",
    "AINEWS_LLM_API_KEY",
    "AINEWS_CONFIG",
    "AINEWS_DATABASE_URL",
    "AINEWS_LANG",
    "OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def _no_real_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real token or a developer's config from the environment."""
    for name in _SECRET_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def english_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator CLI speaks English (AINEWS_LANG=en), here and in the processes it starts;
    without it the CLI follows `[translate] default_lang`, Japanese by default."""
    monkeypatch.setenv("AINEWS_LANG", "en")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_sync(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str | None]:
    admin_url = os.environ.get("AINEWS_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("AINEWS_REQUIRE_POSTGRES") == "1":
            pytest.fail("AINEWS_REQUIRE_POSTGRES=1 but AINEWS_TEST_POSTGRES_URL is not set")
        yield None
        return
    import psycopg

    name = f"ainews_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_url(admin_url)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    upgrade_sync(url)
    yield url
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_postgres(url: str) -> None:
    import psycopg

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres_database: str | None,
) -> str:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        path = tmp_path / "ainews.db"
        shutil.copyfile(_sqlite_template, path)
        return f"sqlite:///{path}"
    if _postgres_database is None:
        pytest.skip("AINEWS_TEST_POSTGRES_URL is not set")
    _truncate_postgres(_postgres_database)
    return _postgres_database


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated SQLite file, for tests that do not need to run on both stores."""
    path = tmp_path / "ainews.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(_postgres_database: str | None) -> str:
    """The session's PostgreSQL database, emptied (skips when none is configured)."""
    if _postgres_database is None:
        pytest.skip("AINEWS_TEST_POSTGRES_URL is not set")
    _truncate_postgres(_postgres_database)
    return _postgres_database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    """Settings for tests: private networks allowed (loopback fakes), offline engine by default."""

    def factory(**overrides: Any) -> Settings:
        data: dict[str, Any] = {
            "database": {"url": database_url},
            "fetch": {"allow_private_networks": True, "total_timeout": 10.0},
            # a closed loopback port: a test that connects the gateway without a fake fails
            # here instead of dialling Discord
            "discord": {"gateway_url": NO_GATEWAY},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return Settings.model_validate(data)

    return factory

"""Every user error of the CLI is one line naming what to fix, with exit code 2 and no traceback."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

from tests.cli.conftest import assert_one_line_user_error, binary, invoke

pytestmark = pytest.mark.usefixtures("english_cli")  # the Japanese lines: test_cli_language


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_version_and_global_options_after_the_subcommand(tmp_path: Path) -> None:
    version = binary("--version")
    assert version.code == 0 and version.out.startswith("ainews ")
    assert version.out.split()[1][0].isdigit()
    db = tmp_path / "after.db"
    url = f"sqlite:///{db}"
    added = binary(
        "sources", "add", "Blog", "https://ex.test/feed", "--database-url", url, cwd=tmp_path
    )
    assert added.code == 0, added.err
    assert db.exists()  # the option after the subcommand chose the store
    listed = binary("sources", "list", "--database-url", url, "--log-level", "ERROR", cwd=tmp_path)
    assert listed.code == 0, listed.err
    assert "Blog" in listed.out and "checked never, next now" in listed.out
    assert "1970" not in listed.out


def test_misspelt_config_key_suggests_the_right_one(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[fetch]\nintervall_minutes = 5\n[digestt]\nsize = 3\n", encoding="utf-8")
    line = assert_one_line_user_error(
        invoke("fetch", "--config", str(config)),
        str(config),
        "fetch.intervall_minutes: unknown key (did you mean 'interval_minutes'?)",
        "digestt: unknown key (did you mean 'digest'?)",
    )
    assert line.count("error:") == 1


def test_bad_config_value_and_bad_toml(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[digest]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    assert_one_line_user_error(
        invoke("--config", str(config), "sources", "list"), "digest.timezone", "Mars/Olympus"
    )
    config.write_text("[digest\nsize = 3\n", encoding="utf-8")
    assert_one_line_user_error(invoke("--config", str(config), "sources", "list"), "not valid TOML")
    assert_one_line_user_error(
        invoke("--config", str(tmp_path / "missing.toml"), "sources", "list"), "not found"
    )


def test_bad_source_url_is_one_line_without_pydantic_noise(sqlite_url: str) -> None:
    assert_one_line_user_error(
        invoke("--database-url", sqlite_url, "sources", "add", "Blog", "notaurl"),
        "url: must be an http:// or https:// URL (got 'notaurl')",
    )
    assert_one_line_user_error(
        invoke("sources", "add", "Blog", "https://ex.test/f", "--kind", "rss"), "kind"
    )


def test_unknown_option_and_bad_values_are_one_line(sqlite_url: str) -> None:
    assert_one_line_user_error(invoke("fetch", "--bogus"), "--bogus", "ainews fetch --help")
    assert_one_line_user_error(invoke("--log-level", "verbose", "fetch"), "--log-level")
    assert_one_line_user_error(invoke("digest", "yesterday"), "yesterday")
    assert_one_line_user_error(
        invoke("--database-url", sqlite_url, "digest", "today", "--date", "29/11"), "--date"
    )
    assert_one_line_user_error(
        invoke("--database-url", sqlite_url, "sources", "remove", "999"), "999"
    )


def test_unsupported_and_unparseable_database_urls() -> None:
    assert_one_line_user_error(
        invoke("sources", "list", "--database-url", "mysql://u@h/db"), "mysql", "sqlite:///"
    )
    assert_one_line_user_error(
        invoke("sources", "list", "--database-url", "not a url"), "cannot be parsed"
    )


def test_an_unparseable_url_is_shown_without_its_password() -> None:
    line = assert_one_line_user_error(
        invoke("sources", "list", "--database-url", "postgres ql://u:hunter2@db:5432/x"),
        "cannot be parsed",
        "u:***@db",
    )
    assert "hunter2" not in line


def test_sqlite_path_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    assert_one_line_user_error(
        invoke("sources", "list", "--database-url", f"sqlite:///{blocker / 'ainews.db'}"),
        "cannot create SQLite file",
    )


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    assert_one_line_user_error(
        invoke("sources", "list", "--database-url", f"sqlite:///{junk}"), "not a SQLite database"
    )


def test_read_only_sqlite(sqlite_url: str) -> None:
    path = make_url(sqlite_url).database
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert_one_line_user_error(
        invoke("sources", "add", "Blog", "https://ex.test/feed", "--database-url", read_only),
        "is read-only",
    )


def test_unreachable_postgres() -> None:
    url = f"postgresql://ainews@127.0.0.1:{_closed_port()}/ainews"
    assert_one_line_user_error(
        invoke("sources", "list", "--database-url", url), "cannot reach", "127.0.0.1"
    )


@pytest.mark.postgres
def test_missing_and_read_only_postgres(postgres_url: str) -> None:
    missing = make_url(postgres_url).set(database="ainews_no_such_db").render_as_string(False)
    assert_one_line_user_error(
        invoke("sources", "list", "--database-url", missing),
        "'ainews_no_such_db'",
        "does not exist",
    )
    read_only = postgres_url + "?options=" + quote("-c default_transaction_read_only=on")
    assert_one_line_user_error(
        invoke("sources", "add", "Blog", "https://ex.test/feed", "--database-url", read_only),
        "is read-only",
    )


def test_password_never_shown(tmp_path: Path) -> None:
    url = f"postgresql://ainews:hunter2secret@127.0.0.1:{_closed_port()}/ainews"
    line = assert_one_line_user_error(invoke("sources", "list", "--database-url", url))
    assert "hunter2secret" not in line

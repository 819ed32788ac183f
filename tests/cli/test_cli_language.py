"""The operator CLI speaks the team's language: AINEWS_LANG, else `[translate] default_lang`
(Japanese by default) — its lines, its errors and every `--help` page; JSON has no language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from adapters.cli.help import display_width
from adapters.i18n import catalogue_ids, translator
from adapters.main import app
from tests.cli.conftest import Ran, binary, invoke
from tests.i18n.test_catalogue import SAME_IN_BOTH

JA, EN = translator("ja"), translator("en")


def flat(text: str) -> str:
    """Help text without the line breaks and indents of wrapping."""
    return "".join(text.split())


def _config(tmp_path: Path, lang: str | None = None, name: str = "config") -> Path:
    path = tmp_path / f"{name}.toml"
    lines = ["[database]", f'url = "sqlite:///{tmp_path / name}.db"']
    if lang is not None:
        lines += ["[translate]", f'default_lang = "{lang}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _commands() -> Iterator[tuple[list[str], typer.core.TyperCommand | TyperGroup]]:
    """Every command and group of the app with the argv that reaches it."""
    stack: list[tuple[list[str], object]] = [([], typer.main.get_command(app))]
    while stack:
        path, command = stack.pop()
        assert isinstance(command, typer.core.TyperCommand | TyperGroup)
        yield path, command
        if isinstance(command, TyperGroup):
            stack.extend(([*path, name], sub) for name, sub in command.commands.items())


def _help_ids() -> list[tuple[list[str], str]]:
    """(argv, catalogue id) of every command's and every option's help."""
    found = []
    for path, command in _commands():
        assert command.help in catalogue_ids("en"), (path, command.help)
        found.append((path, str(command.help)))
        for param in command.params:
            help_id = getattr(param, "help", None)
            assert help_id in catalogue_ids("en"), (path, param.name, help_id)
            found.append((path, str(help_id)))
    return found


def test_every_help_string_is_a_catalogue_id() -> None:
    ids = _help_ids()
    assert len({path[-1] if path else "" for path, _ in ids}) >= 25  # the whole tree was seen


def test_help_pages_in_japanese_show_no_english_catalogue_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AINEWS_LANG", "ja")
    pages: dict[tuple[str, ...], str] = {}
    for path, help_id in _help_ids():
        key = tuple(path)
        if key not in pages:
            ran = invoke(*path, "--help")
            assert ran.code == 0, (path, ran.err)
            pages[key] = flat(ran.out)
        page = pages[key]
        assert flat(JA(help_id)) in page, (path, help_id)
        if help_id not in SAME_IN_BOTH:
            assert JA(help_id) != EN(help_id), help_id
            assert flat(EN(help_id)) not in page, (path, help_id)
    for page in pages.values():
        assert "Showthismessageandexit." not in page and "Options:" not in page
        assert flat(JA("cli.help.help_option")) in page and "使い方:ainews" in page


def test_top_and_command_help_in_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AINEWS_LANG", "ja")
    monkeypatch.setenv("COLUMNS", "80")  # help is wrapped to 78 columns, a closing mark may hang
    top = invoke("--help")
    assert top.code == 0
    assert top.out.startswith("使い方: ainews [OPTIONS] COMMAND [ARGS]...")
    assert "ainews はチームのためにAIニュースを読みます" in top.out
    assert "オプション:" in top.out and "コマンド:" in top.out
    assert "config.toml のパス。" in top.out and "[環境変数: AINEWS_CONFIG]" in top.out
    assert "[既定値:WARNING]" in flat(top.out)
    assert "  sources    フィードの情報源を一覧・追加・削除・インポート・エクスポート" in top.out
    add = invoke("sources", "add", "--help")
    assert add.code == 0
    assert "情報源を追加します（同じURLの情報源があれば更新します）。" in add.out
    assert "引数:" in add.out and "表示名。  [必須]" in add.out
    assert "--kind <str>            feed または hackernews。  [既定値: feed]" in add.out
    fetch = invoke("fetch", "--help")
    assert "--json  結果を1つのJSONオブジェクトとして出力します。" in fetch.out
    digest = invoke("digest", "--help")
    assert "[digest]" in digest.out and "timezone" in digest.out  # config keys as written
    for ran in (top, add, fetch, digest):
        assert all(display_width(line) <= 80 for line in ran.out.splitlines()), ran.out


def test_top_and_command_help_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AINEWS_LANG", "en")
    top = invoke("--help")
    assert top.out.startswith("Usage: ainews [OPTIONS] COMMAND [ARGS]...")
    assert "ainews reads AI news for your team" in top.out
    assert "--config <path>       Path to config.toml.  [env var: AINEWS_CONFIG]" in top.out
    assert "Show this message and exit." in top.out and "Commands:" in top.out
    add = invoke("sources", "add", "--help")
    assert "Add a source (or update the one with that URL)." in add.out
    assert "--kind <str>            feed or hackernews.  [default: feed]" in add.out
    assert "Arguments:" in add.out and "Display name.  [required]" in add.out
    no_args = invoke("sources")  # a group without a command prints its help, exit 2
    assert no_args.code == 2 and "List, add, remove, import and export feed sources." in no_args.err


def test_help_follows_the_config_language_and_survives_a_bad_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = _config(tmp_path, "en")
    assert invoke("--config", str(english), "--help").out.startswith("Usage: ainews")
    assert (
        "Remove a source and its articles."
        in invoke("sources", "remove", "--help", "--config", str(english)).out
    )
    assert invoke("--config", str(_config(tmp_path, name="plain")), "--help").out.startswith(
        "使い方: ainews"  # no [translate] section: the built-in default, ja
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("[translate\ndefault_lang = 'en'\n", encoding="utf-8")
    ran = invoke("--config", str(broken), "fetch", "--help")
    assert ran.code == 0 and ran.out.startswith("使い方: ainews fetch")
    monkeypatch.setenv("AINEWS_CONFIG", str(english))
    assert invoke("fetch", "--help").out.startswith("Usage: ainews fetch")
    monkeypatch.setenv("AINEWS_LANG", "ja")  # the environment wins over the config
    assert invoke("fetch", "--help").out.startswith("使い方: ainews fetch")


def _lines(ran: Ran) -> list[str]:
    assert ran.code == 0, ran.err
    return ran.out.splitlines()


def test_operator_lines_and_errors_in_japanese(tmp_path: Path) -> None:
    base = ["--config", str(_config(tmp_path))]  # default_lang is ja by default
    assert _lines(invoke(*base, "db", "upgrade")) == ["データベースは最新です"]
    added = invoke(*base, "sources", "add", "Lab Blog", "https://lab.test/feed.xml")
    assert _lines(added) == ["情報源 1 を追加しました: Lab Blog <https://lab.test/feed.xml>"]
    listed = _lines(invoke(*base, "sources", "list"))
    assert listed == [
        "   1  Lab Blog  <https://lab.test/feed.xml>  記事0件  前回確認 なし、次回 今すぐ"
    ]
    missing = invoke(*base, "sources", "remove", "https://nowhere.test/")
    assert missing.code == 2
    assert missing.err == "エラー: 情報源 'https://nowhere.test/' はありません\n"
    removed = invoke(*base, "sources", "remove", "https://lab.test/feed.xml")
    assert _lines(removed) == ["情報源 Lab Blog を削除しました"]
    bogus = invoke(*base, "fetch", "--bogus")
    assert bogus.code == 2
    assert bogus.err == "エラー: No such option: --bogus（`ainews fetch --help` を参照）\n"
    level = invoke("--log-level", "warn", *base, "fetch")
    assert level.err == (
        "エラー: Invalid value for --log-level: DEBUG、INFO、WARNING、ERROR のいずれかを"
        "指定してください（もしかして 'WARNING'？）（`ainews --help` を参照）\n"
    )
    bad_date = invoke(*base, "digest", "today", "--date", "29/11")
    assert bad_date.err == (
        "エラー: --date は YYYY-MM-DD 形式で指定してください（指定値: '29/11'）\n"
    )


def test_operator_lines_and_errors_in_english(tmp_path: Path) -> None:
    base = ["--config", str(_config(tmp_path, "en"))]
    assert _lines(invoke(*base, "db", "upgrade")) == ["database is up to date"]
    added = invoke(*base, "sources", "add", "Lab Blog", "https://lab.test/feed.xml")
    assert _lines(added) == ["added source 1: Lab Blog <https://lab.test/feed.xml>"]
    listed = _lines(invoke(*base, "sources", "list"))
    assert listed == [
        "   1  Lab Blog  <https://lab.test/feed.xml>  0 articles  checked never, next now"
    ]
    missing = invoke(*base, "sources", "remove", "https://nowhere.test/")
    assert missing.code == 2 and missing.err == "error: no source 'https://nowhere.test/'\n"
    removed = invoke(*base, "sources", "remove", "https://lab.test/feed.xml")
    assert _lines(removed) == ["removed source Lab Blog"]
    bogus = invoke(*base, "fetch", "--bogus")
    assert bogus.err == "error: No such option: --bogus (see `ainews fetch --help`)\n"


def test_ainews_lang_overrides_the_config_in_a_real_process(tmp_path: Path) -> None:
    base = ["--config", str(_config(tmp_path, "en"))]
    en = binary(*base, "db", "upgrade", cwd=tmp_path)  # no AINEWS_LANG: the config's en
    assert en.out == "database is up to date\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AINEWS_LANG", "ja")
        assert binary(*base, "db", "upgrade", cwd=tmp_path).out == "データベースは最新です\n"
        assert binary(*base, "--help", cwd=tmp_path).out.startswith("使い方: ainews")


def test_english_plurals_for_one_and_two(tmp_path: Path) -> None:
    base = ["--config", str(_config(tmp_path, "en"))]
    invoke(*base, "sources", "add", "One", "https://one.test/feed")
    out = tmp_path / "out.opml"
    assert _lines(invoke(*base, "sources", "export-opml", str(out))) == [
        f"exported 1 source to {out}"
    ]
    imported = _lines(invoke(*base, "sources", "import-opml", str(out)))
    assert imported[-1] == f"imported 0 sources from {out}; 1 already present"
    invoke(*base, "sources", "add", "Two", "https://two.test/feed")
    assert _lines(invoke(*base, "sources", "export-opml", str(out))) == [
        f"exported 2 sources to {out}"
    ]
    fresh = ["--config", str(_config(tmp_path, "en", name="fresh"))]
    assert _lines(invoke(*fresh, "sources", "import-opml", str(out)))[-1] == (
        f"imported 2 sources from {out}; 0 already present"
    )
    assert _lines(invoke(*base, "llm", "usage", "--days", "1")) == [
        "no LLM calls in the last 1 day"
    ]
    assert _lines(invoke(*base, "llm", "usage", "--days", "2")) == [
        "no LLM calls in the last 2 days"
    ]
    assert [EN.plural("cli.articles", n) for n in (1, 2)] == ["1 article", "2 articles"]
    assert [JA.plural("cli.articles", n) for n in (1, 2)] == ["記事1件", "記事2件"]


def test_json_output_has_no_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ["--config", str(_config(tmp_path))]
    invoke(*config, "sources", "add", "Lab Blog", "https://lab.test/feed.xml")
    outputs = []
    for lang in ("ja", "en"):
        monkeypatch.setenv("AINEWS_LANG", lang)
        ran = invoke(*config, "sources", "list", "--json")
        assert ran.code == 0, ran.err
        outputs.append(json.loads(ran.out))
    assert outputs[0] == outputs[1] and outputs[0][0]["name"] == "Lab Blog"


@pytest.mark.parametrize(
    ("lang", "config_error", "database_error"),
    [
        ("ja", "設定が正しくありません: fetch.concurrency", "データベースURLのスキーム 'mysql'"),
        ("en", "invalid configuration: fetch.concurrency", "database URL scheme 'mysql'"),
    ],
)
def test_config_and_database_errors_speak_the_cli_language(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    config_error: str,
    database_error: str,
) -> None:
    """Errors the operator must fix are explained in the CLI's language; the detail a library
    words (pydantic's validation text) is shown as it comes."""
    monkeypatch.setenv("AINEWS_LANG", lang)
    config = _config(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8") + '[fetch]\nconcurrency = "lots"\n', encoding="utf-8"
    )
    bad_config = invoke("--config", str(config), "db", "upgrade")
    assert bad_config.code == 2 and config_error in bad_config.err, bad_config.err
    assert bad_config.err.startswith(JA("cli.error", message="") if lang == "ja" else "error: ")
    bad_url = invoke("--database-url", "mysql://db.test/x", "db", "upgrade")
    assert bad_url.code == 2 and database_error in bad_url.err, bad_url.err
    assert len(bad_url.err.splitlines()) == 1

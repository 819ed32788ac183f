"""The language the operator CLI speaks: its lines, its errors and its `--help`.

The rule, decided once here: `AINEWS_LANG` when it is set; otherwise `[translate] default_lang`
of the configuration (`ja` by default). A command that has loaded its settings passes them; help
and errors that come before the settings read the config file cheaply and never fail because of
it (an unreadable file means the built-in default). Commands with `--lang` keep it for their
content; JSON output has no language.
"""

from __future__ import annotations

import os
import tomllib

from adapters.i18n import Translator, translator, ui_lang
from bot.config import Settings, TranslateSettings, config_path

LANG_ENV = "AINEWS_LANG"
BUILT_IN_LANG: str = TranslateSettings.model_fields["default_lang"].default

# The `--config` of the command being run (seen in argv before click parses it), so help and
# early errors can read the configured language.
_config_arg: list[str] = []


def remember_config_arg(args: list[str]) -> None:
    """Note the `--config` value in argv (or its absence) for `cli_lang`; called per run."""
    found: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--config" and index + 1 < len(args):
            found = [args[index + 1]]
        elif arg.startswith("--config="):
            found = [arg.split("=", 1)[1]]
    _config_arg[:] = found


def _configured_lang() -> str:
    """`[translate] default_lang` of the config file, best effort; the built-in default else."""
    path = config_path(_config_arg[0] if _config_arg else None)
    if path is None:
        return BUILT_IN_LANG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        lang = data.get("translate", {}).get("default_lang")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return BUILT_IN_LANG
    return lang if isinstance(lang, str) and lang.strip() else BUILT_IN_LANG


def cli_lang(settings: Settings | None = None) -> str:
    """The catalogue language of the CLI: AINEWS_LANG, else the config's default_lang."""
    chosen = os.environ.get(LANG_ENV, "").strip()
    if not chosen:
        chosen = settings.translate.default_lang if settings is not None else _configured_lang()
    return ui_lang(chosen)


def cli_translator(settings: Settings | None = None) -> Translator:
    return translator(cli_lang(settings))

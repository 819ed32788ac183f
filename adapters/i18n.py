"""The one message catalogue of every surface (Slack, Discord, console, CLI, web), ja and en.

Catalogues are gettext `.po` files under `adapters/locale/` keyed by message ids like
`digest.title.daily`. They are compiled in memory with Babel on first use, so an editable and a
built install read the same committed sources and no compiled `.mo` can go stale. Bot code says
what to tell the user as data (`bot.messages.Msg`); a `Translator` renders it in the reader's
language, with CLDR plural rules and date formats.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, tzinfo
from functools import cache, lru_cache
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.messages import N_, Msg, set_plain_renderer

__all__ = ["DEFAULT_LANG", "LANGS", "N_", "Translator", "catalogue_ids", "translator", "ui_lang"]

LANGS: tuple[str, ...] = ("ja", "en")
DEFAULT_LANG = "en"  # the language of last resort for a code we have no catalogue for
DOMAIN = "ainews"


def ui_lang(lang: str) -> str:
    """The catalogue language for a channel's `lang` (`ja-JP` → `ja`, `pt-br` → `en`)."""
    primary = (lang or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGS else DEFAULT_LANG


def _po_source(lang: str) -> bytes:
    path = resources.files("adapters") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    return path.read_bytes()


@cache
def _translations(lang: str) -> Translations:
    """The `.po` of one language compiled to gettext form, English behind it as the fallback."""
    catalog = read_po(io.BytesIO(_po_source(lang)), locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = Translations(compiled, domain=DOMAIN)
    if lang != DEFAULT_LANG:
        translations.add_fallback(_translations(DEFAULT_LANG))
    return translations


@cache
def catalogue_ids(lang: str) -> Mapping[str, bool]:
    """Every message id of one catalogue with whether it has plural forms (for the checks)."""
    catalog = read_po(io.BytesIO(_po_source(lang)), locale=lang, domain=DOMAIN)
    out: dict[str, bool] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        out[str(key)] = message.pluralizable
    return out


class Translator:
    """Renders message ids, `Msg` values, dates and language names in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = ui_lang(lang)
        self.locale = Locale.parse(self.lang)
        self._translations = _translations(self.lang)

    def __call__(self, message_id: str, /, **values: object) -> str:
        text = self._translations.gettext(message_id)
        return text.format(**values) if values else text

    def plural(self, message_id: str, n: int, /, **values: object) -> str:
        """The form CLDR prescribes for `n` ("1 story", "2 stories", "2件"); `{n}` is n."""
        text = self._translations.ngettext(message_id, message_id, n)
        return text.format(n=self.number(n), **values)

    def render(self, message: Msg | str) -> str:
        """A `Msg` from the bot layer in this language; a plain string is shown as it is."""
        if isinstance(message, str):
            return message
        values = {name: self._value(value) for name, value in message.values}
        if message.count is not None:
            return self.plural(message.key, message.count, **values)
        return self(message.key, **values)

    def _value(self, value: object) -> object:
        if isinstance(value, Msg):
            return self.render(value)
        if isinstance(value, tuple):
            return self.join(str(self._value(item)) for item in value)
        return value

    def join(self, items: Iterable[str]) -> str:
        return self(N_("list.separator")).join(items)

    def number(self, n: int) -> str:
        return f"{n:,}"

    def date(self, day: dt.date) -> str:
        """A calendar date as people write it here: 2026年8月21日 / August 21, 2026."""
        return format_date(day, "long", locale=self.locale)

    def short_date(self, day: dt.date) -> str:
        return format_date(day, "medium", locale=self.locale)

    def datetime(self, when: dt.datetime, zone: tzinfo | None = None) -> str:
        """A moment in `zone` (UTC by default, then named): 2026年8月21日 9:05 UTC."""
        zone = zone or UTC
        local = when.astimezone(zone)
        clock = format_time(local, "short", locale=self.locale, tzinfo=zone)
        suffix = " UTC" if zone is UTC else ""
        return f"{self.date(local.date())} {clock}{suffix}"

    def lang_name(self, code: str) -> str:
        """`ja` as 日本語 or Japanese; an unknown code is shown as it is."""
        names: Mapping[str, str] = self.locale.languages
        primary = code.replace("_", "-").split("-")[0].lower()
        return names.get(code.lower(), names.get(primary, code))


@lru_cache(maxsize=16)
def translator(lang: str) -> Translator:
    """The translator for a channel's or a reader's language (cached: catalogues load once)."""
    return Translator(lang)


def _english(message: Msg) -> str:
    return translator(DEFAULT_LANG).render(message)


set_plain_renderer(_english)

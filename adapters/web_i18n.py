"""The web view's language per request; its strings live in the shared catalogue (adapters/i18n)."""

from __future__ import annotations

from adapters.i18n import DEFAULT_LANG, LANGS, Translator, catalogue_ids, translator

UI_LANGS: tuple[str, ...] = LANGS


def accepted_langs(header: str) -> list[str]:
    """Primary language subtags of an Accept-Language header, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            weighted.append((-quality, position, primary))
    return [primary for _, _, primary in sorted(weighted)]


def choose_lang(query_lang: str | None, accept_language: str, default: str) -> str:
    """`?lang=` first, then the browser's Accept-Language, then the configured default."""
    if query_lang in UI_LANGS:
        return str(query_lang)
    for primary in accepted_langs(accept_language):
        if primary in UI_LANGS:
            return primary
    return default if default in UI_LANGS else "en"


def UIText(lang: str) -> Translator:  # noqa: N802  (kept as the templates' `t`)
    """The web view's strings come from the one catalogue every surface shares."""
    return translator(lang)


def has_message(message_id: str) -> bool:
    """Whether an error detail is a catalogue id (only those are shown to readers)."""
    return message_id in catalogue_ids(DEFAULT_LANG)

"""The catalogue is complete in both languages: every message id the code renders exists in ja
and en with the same placeholders, plural where it is counted, and none is left untranslated."""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from adapters.i18n import LANGS, catalogue_ids

REPO = Path(__file__).resolve().parents[2]
LOCALE = REPO / "adapters" / "locale"
# How code asks for a message: t("id"), t.plural("id", n), msg("id", …), N_("id").
KEYWORDS: dict[str, None] = {"t": None, "plural": None, "msg": None, "N_": None}
_TEMPLATE_CALL = re.compile(r"""\bt(\.plural)?\(\s*["']([\w.]+)["']""")
# Babel's Python extractor does not look inside f-strings before Python 3.12; this finds calls
# there too (and ids passed through N_ inside another call).
_PYTHON_CALL = re.compile(r"""(?:\bt|\.plural|\bmsg|\bN_)\(\s*["']([\w.]+)["']""")
_COUNTED_MSG = re.compile(r"""\bmsg\(\s*"([\w.]+)",\s*count=""")
# Same text in both languages on purpose: names, symbols and pure layout.
SAME_IN_BOTH = {
    "site_title", "nav_hn", "nav_feed", "archive_hn", "digest_hn", "digest.heading",
    "digest.heading_tag", "score_short", "importance_short", "label", "help.line",
    "run.listening", "store.where.url", "store.as_is", "store.url_hint",
}  # fmt: skip
# Translated, but written in Latin letters in Japanese too.
LATIN_IN_JA = {"card.id"}


def python_ids() -> dict[str, set[str]]:
    """Message ids used in adapters/ and bot/, found by Babel's Python extractor."""
    found: dict[str, set[str]] = {}
    for package in ("adapters", "bot"):
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_bytes()
            keys = {
                str(message[0] if isinstance(message, tuple) else message)
                for _, message, _, _ in extract("python", io.BytesIO(source), KEYWORDS)
            }
            keys.update(_PYTHON_CALL.findall(source.decode("utf-8")))
            for key in keys - {"", "None"}:
                found.setdefault(key, set()).add(str(path.relative_to(REPO)))
    return found


def template_ids() -> dict[str, bool]:
    """Ids the Jinja templates render, with whether they are asked for as plurals."""
    found: dict[str, bool] = {}
    for path in sorted((REPO / "adapters" / "templates").glob("*.html")):
        for plural, key in _TEMPLATE_CALL.findall(path.read_text(encoding="utf-8")):
            found[key] = found.get(key, False) or bool(plural)
    return found


def counted_ids() -> set[str]:
    """Ids the code asks for with a count (t.plural / msg(count=…)): they need plural forms."""
    counted = {key for key, plural in template_ids().items() if plural}
    for package in ("adapters", "bot"):
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            counted.update(re.findall(r"""\.plural\(\s*["']([\w.]+)["']""", text))
            counted.update(_COUNTED_MSG.findall(text))
    return counted


def load(lang: str) -> Catalog:
    path = LOCALE / lang / "LC_MESSAGES" / "ainews.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def ids_of(catalog: Catalog) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for message in catalog:
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            out[str(key)] = message.pluralizable
    return out


def missing(used: Iterable[str], catalogues: Mapping[str, Mapping[str, bool]]) -> list[str]:
    """`lang: id` for every used id a catalogue lacks."""
    return sorted(
        f"{lang}: {key}" for lang, ids in catalogues.items() for key in used if key not in ids
    )


def used_ids() -> set[str]:
    return set(python_ids()) | set(template_ids())


def test_every_message_id_in_code_exists_in_both_catalogues() -> None:
    used = used_ids()
    assert len(used) > 150, "the extractor found too little; did a keyword change?"
    assert missing(used, {lang: catalogue_ids(lang) for lang in LANGS}) == []


def test_a_message_missing_in_ja_is_detected() -> None:
    """The check above really catches a gap: drop one entry from ja and it is reported."""
    japanese = load("ja")
    japanese.delete("digest.count")
    catalogues = {"ja": ids_of(japanese), "en": ids_of(load("en"))}
    assert missing(used_ids(), catalogues) == ["ja: digest.count"]


def test_no_dead_entries() -> None:
    """Every catalogue entry is used somewhere, so the extraction above sees all of the code."""
    for lang in LANGS:
        assert sorted(set(catalogue_ids(lang)) - used_ids()) == [], lang


def test_both_catalogues_hold_the_same_ids_and_plural_shapes() -> None:
    english, japanese = ids_of(load("en")), ids_of(load("ja"))
    assert english == japanese
    for key in counted_ids():
        assert english[key] and japanese[key], f"{key} is counted but has no plural forms"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _forms(catalog: Catalog, key: str) -> list[str]:
    message = next(
        m for m in catalog if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) == key
    )
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return [str(s) for s in strings]


@pytest.mark.parametrize("key", sorted(catalogue_ids("en")))
def test_placeholders_and_translation(key: str) -> None:
    english, japanese = _forms(load("en"), key), _forms(load("ja"), key)
    assert all(english) and all(japanese), f"{key} has an empty form"
    assert len(english) == (2 if catalogue_ids("en")[key] else 1)
    assert len(japanese) == 1  # Japanese has one plural form (CLDR)
    # Every form shows the same values, so no count or name is silently dropped.
    wanted = set().union(*(_fields(form) for form in english))
    assert all(_fields(form) == wanted for form in english + japanese), key
    if key not in SAME_IN_BOTH:
        assert japanese[0] not in english, f"{key} is not translated"
        if key not in LATIN_IN_JA:
            japanese_script = r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]"
            assert re.search(japanese_script, japanese[0]), f"{key} has no Japanese"

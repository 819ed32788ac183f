"""Jinja2 environment of the web view: autoescaping on, and the few filters templates need.

Everything shown comes from feeds or an LLM and is untrusted: text is only ever autoescaped,
and a URL becomes an href only when it is plain http(s).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from adapters.reply_text import duration_text, stars
from digest.models import Scores

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
_BLANK_LINES = re.compile(r"\n\s*\n")


# Video thumbnails the page may load (the CSP's img-src names the same hosts).
THUMBNAIL_HOSTS = ("ytimg.com",)


def thumbnail_src(url: str | None) -> str | None:
    """A video thumbnail on a known image host, over https; anything else is not shown."""
    if not url:
        return None
    url = url.strip()
    if url.startswith("http://"):
        url = "https://" + url.removeprefix("http://")
    href = safe_href(url)
    if href is None or not href.startswith("https://"):
        return None
    host = (urlsplit(href).hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in THUMBNAIL_HOSTS):
        return None
    return href


def safe_href(url: str | None) -> str | None:
    """The URL if a browser would treat it as an http(s) link to a host, else None."""
    if not url:
        return None
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ch in candidate for ch in "\x00\t\n\r"):
        return None
    return candidate


def paragraphs(text: str | None) -> list[str]:
    """Blank-line separated paragraphs; single line breaks are kept by CSS (pre-line)."""
    return [p.strip() for p in _BLANK_LINES.split(text or "") if p.strip()]


def weighted_mean(scores: Scores, weights: Mapping[str, float]) -> float:
    total = sum(weights.values())
    values = scores.as_dict()
    return sum(float(values[name]["score"]) * w for name, w in weights.items()) / total


def rubric_rows(scores: Scores, weights: Mapping[str, float]) -> list[dict[str, Any]]:
    """One row per dimension: name, score, weight as a share of the total, reason."""
    total = sum(weights.values())
    return [
        {
            "name": name,
            "score": value["score"],
            "weight_percent": round(100 * weights.get(name, 0.0) / total),
            "reason": value["reason"],
        }
        for name, value in scores.as_dict().items()
    ]


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["stars"] = stars
    env.filters["paragraphs"] = paragraphs
    env.filters["safe_href"] = safe_href
    env.filters["thumbnail_src"] = thumbnail_src
    env.filters["duration"] = duration_text
    return env

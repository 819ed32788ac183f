"""Template helpers: which URLs may become links, stars, paragraphs, the weighted mean."""

from __future__ import annotations

import pytest

from adapters.web_render import make_environment, paragraphs, safe_href, stars, weighted_mean
from digest.models import DimensionScore, Scores


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("  http://example.com/  ", "http://example.com/"),
        ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
        ("javascript:alert(1)", None),
        ("  JavaScript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox", None),
        ("//evil.example.com/x", None),
        ("/relative/path", None),
        ("http://", None),
        ("http://exa\nmple.com/", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_href(url: str | None, expected: str | None) -> None:
    assert safe_href(url) == expected


def test_stars_clamp() -> None:
    assert [stars(n) for n in (None, 0, 1, 4, 5, 9)] == [
        "☆☆☆☆☆",
        "☆☆☆☆☆",
        "★☆☆☆☆",
        "★★★★☆",
        "★★★★★",
        "★★★★★",
    ]


def test_paragraphs_split_on_blank_lines_only() -> None:
    assert paragraphs("one\ntwo\n\n  \n three \n\n") == ["one\ntwo", "three"]
    assert paragraphs("") == [] and paragraphs(None) == []


def test_weighted_mean_matches_the_design_example() -> None:
    scores = Scores(
        DimensionScore(5, ""), DimensionScore(4, ""), DimensionScore(3, ""), DimensionScore(3, "")
    )
    weights = {"depth": 0.4, "relevance": 0.3, "practicality": 0.2, "innovation": 0.1}
    assert round(weighted_mean(scores, weights), 1) == 4.1


def test_environment_autoescapes_and_refuses_unknown_names() -> None:
    env = make_environment()
    rendered = env.from_string("<p>{{ x }}</p>").render(x='<script>"&')
    assert rendered == "<p>&lt;script&gt;&#34;&amp;</p>"
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()

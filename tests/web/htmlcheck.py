"""Parse served HTML with the standard library and report anything a browser could execute."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

URL_ATTRS = {"href", "src", "action", "formaction", "srcset", "poster", "data"}
EXECUTABLE_TAGS = {"script", "iframe", "object", "embed", "svg", "img", "frame", "base"}


class PageScan(HTMLParser):
    """Collects elements, attributes, link targets and visible text of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def hrefs(self) -> list[str]:
        return [value for tag, name, value in self.attrs if name == "href" and tag == "a"]

    def problems(self) -> list[str]:
        """Executable elements, event handlers and non-http(s) absolute URLs."""
        found = [f"<{tag}>" for tag in self.tags if tag in EXECUTABLE_TAGS]
        for tag, name, value in self.attrs:
            if name.startswith("on"):
                found.append(f"{tag}[{name}]")
            if name in URL_ATTRS:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme not in ("", "http", "https"):
                    found.append(f"{tag}[{name}={value!r}]")
        return found


def scan(html: str) -> PageScan:
    page = PageScan()
    page.feed(html)
    page.close()
    return page

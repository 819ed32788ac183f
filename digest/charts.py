"""Line charts of daily counts: SVG for the web, PNG for chat uploads; standard library only.

The web page needs no client-side chart library, and chat platforms need a raster image, so
both are drawn here from the same series. The PNG encoder writes 8-bit RGB scanlines with
zlib and struct, which is all a small line chart needs.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Sequence
from html import escape

__all__ = ["PALETTE", "png_line_chart", "svg_line_chart"]

# Colour-blind-safe (Okabe–Ito) line colours, in series order.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
)
PALETTE_NAMES = ("blue", "orange", "green", "pink", "sky blue", "vermilion")
_PAD = 24


def _scale(values: Sequence[int], top: int, width: int, height: int) -> list[tuple[int, int]]:
    steps = max(1, len(values) - 1)
    inner_w, inner_h = width - 2 * _PAD, height - 2 * _PAD
    return [
        (_PAD + round(i * inner_w / steps), height - _PAD - round(v * inner_h / max(1, top)))
        for i, v in enumerate(values)
    ]


def svg_line_chart(
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    width: int = 640,
    height: int = 220,
    title: str = "",
    start_label: str = "",
    end_label: str = "",
) -> str:
    """An accessible inline SVG: one polyline per series, a legend and the peak on the axis."""
    top = max((max(values, default=0) for _, values in series), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_PAD}" y1="{height - _PAD}" x2="{width - _PAD}" y2="{height - _PAD}" '
        'stroke="#888" stroke-width="1"/>',
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{height - _PAD}" '
        'stroke="#888" stroke-width="1"/>',
        f'<text x="2" y="{_PAD + 4}" font-size="11" fill="#555">{top}</text>',
        f'<text x="{_PAD}" y="{height - 6}" font-size="11" fill="#555">'
        f"{escape(start_label)}</text>",
        f'<text x="{width - _PAD}" y="{height - 6}" font-size="11" fill="#555" '
        f'text-anchor="end">{escape(end_label)}</text>',
    ]
    for index, (name, values) in enumerate(series):
        red, green, blue = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x},{y}" for x, y in _scale(values, top, width, height))
        parts.append(
            f'<polyline fill="none" stroke="rgb({red},{green},{blue})" stroke-width="2" '
            f'points="{points}"><title>{escape(name)}</title></polyline>'
        )
        legend_x = _PAD + 8 + (index % 3) * ((width - 2 * _PAD) // 3)
        legend_y = 14 + (index // 3) * 14
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y - 8}" width="10" height="10" '
            f'fill="rgb({red},{green},{blue})"/>'
            f'<text x="{legend_x + 14}" y="{legend_y + 1}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: Sequence[bytearray], width: int, height: int) -> bytes:
    """RGB rows (3 bytes a pixel) → a PNG file (filter 0 on every scanline)."""
    raw = b"".join(b"\x00" + bytes(row) for row in pixels[:height])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _plot(pixels: list[bytearray], x: int, y: int, colour: tuple[int, int, int]) -> None:
    height, width = len(pixels), len(pixels[0]) // 3
    for dx in (0, 1):
        for dy in (0, 1):
            px, py = x + dx, y + dy
            if 0 <= px < width and 0 <= py < height:
                pixels[py][px * 3 : px * 3 + 3] = bytes(colour)


def _line(
    pixels: list[bytearray], a: tuple[int, int], b: tuple[int, int], colour: tuple[int, int, int]
) -> None:
    (x0, y0), (x1, y1) = a, b
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    error = dx + dy
    while True:
        _plot(pixels, x0, y0, colour)
        if x0 == x1 and y0 == y1:
            return
        twice = 2 * error
        if twice >= dy:
            error += dy
            x0 += sx
        if twice <= dx:
            error += dx
            y0 += sy


def png_line_chart(
    series: Sequence[tuple[str, Sequence[int]]], *, width: int = 640, height: int = 240
) -> bytes:
    """The same chart as a PNG (no text: chat messages carry the legend as colour names)."""
    pixels = [bytearray(b"\xff" * (width * 3)) for _ in range(height)]
    grey = (170, 170, 170)
    _line(pixels, (_PAD, height - _PAD), (width - _PAD, height - _PAD), grey)
    _line(pixels, (_PAD, _PAD), (_PAD, height - _PAD), grey)
    top = max((max(values, default=0) for _, values in series), default=0)
    for index, (_, values) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        points = _scale(values, top, width, height)
        for a, b in itertools.pairwise(points):
            _line(pixels, a, b, colour)
        if len(points) == 1:
            _plot(pixels, *points[0], colour)
    return encode_png(pixels, width, height)

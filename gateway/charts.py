"""Charts drawn on the server as inline SVG, for the console's and the public statistics pages: no
script and nothing fetched from elsewhere (the pages' Content-Security-Policy allows neither).

Every label is escaped; right-to-left pages get mirrored charts (time runs from the right, bars grow
leftwards) whose text runs right to left, anchored at the start of its line. A withheld value (None)
draws no bar and is marked "—", so a reader sees it is missing rather than zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640


def _x(position: float, rtl: bool) -> float:
    return WIDTH - position if rtl else position


def _open(height: int, title: str, rtl: bool) -> str:
    """The chart's opening tag: its text runs in the page's direction (`start` is the right in Arabic)."""
    return (f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'direction="{"rtl" if rtl else "ltr"}" aria-label="{escape(title)}"><title>{escape(title)}</title>')


def monthly_bars(months: Sequence[tuple[str, int | None, int | None]], series: tuple[str, str], rtl: bool,
                 title: str) -> Markup:
    """Two bars a month (received, processed), the months along the bottom, a legend above."""
    height, top, bottom, side = 240, 30, 30, 40
    peak = max([value or 0 for _, a, b in months for value in (a, b)] + [1])
    slot = (WIDTH - 2 * side) / max(1, len(months))
    bar = max(2.0, slot * 0.35)
    parts = [_open(height, title, rtl)]
    for index, (label, css) in enumerate(zip(series, ("received", "processed"), strict=True)):
        start = side + index * 200
        parts.append(f'<rect class="{css}" x="{_x(start + 12, rtl) if rtl else start:.1f}" y="8" width="12" '
                     f'height="12"/><text x="{_x(start + 18, rtl):.1f}" y="19" '
                     f'text-anchor="start">{escape(label)}</text>')
    usable = height - top - bottom
    for n, (month, received, processed) in enumerate(months):
        base = side + n * slot + slot * 0.1
        for offset, (value, css) in enumerate(((received, "received"), (processed, "processed"))):
            left = base + offset * bar
            x = _x(left + bar, rtl) if rtl else left
            if value is None:
                parts.append(f'<text class="withheld" x="{x + bar / 2:.1f}" y="{top + usable:.1f}" '
                             f'text-anchor="middle">—</text>')
                continue
            tall = usable * value / peak
            parts.append(f'<rect class="{css}" x="{x:.1f}" y="{top + usable - tall:.1f}" width="{bar:.1f}" '
                         f'height="{tall:.1f}"><title>{escape(month)}: {value}</title></rect>')
        parts.append(f'<text class="month" x="{_x(base + bar, rtl):.1f}" y="{height - 8}" '
                     f'text-anchor="middle">{escape(month)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(rows: Sequence[tuple[str, float | None]], title: str, rtl: bool, unit: str = "",
                    share: bool = False) -> Markup:
    """One bar per row (a name and its value), longest the largest; `share`: values from 0 to 1 shown
    as percentages."""
    line, label_width, side = 26, 230, 10
    height = 10 + line * max(1, len(rows))
    peak = max([value or 0 for _, value in rows] + [1.0 if share else 0.0] + [1e-9])
    span = WIDTH - label_width - 2 * side - 70
    parts = [_open(height, title, rtl)]
    for n, (name, value) in enumerate(rows):
        y = 8 + n * line
        parts.append(f'<text x="{_x(side, rtl):.1f}" y="{y + 15}" text-anchor="start">{escape(name)}</text>')
        start = side + label_width
        if value is None:
            parts.append(f'<text class="withheld" x="{_x(start, rtl):.1f}" y="{y + 15}" '
                         f'text-anchor="start">—</text>')
            continue
        length = span * value / peak
        shown = f"{value * 100:.0f} %" if share else f"{value:g}{(' ' + unit) if unit else ''}"
        x = _x(start + length, rtl) if rtl else start
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="16">'
                     f'<title>{escape(name)}: {escape(shown)}</title></rect>')
        parts.append(f'<text class="value" x="{_x(start + length + 6, rtl):.1f}" y="{y + 15}" '
                     f'text-anchor="start">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

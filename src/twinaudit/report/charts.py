"""Charts as inline SVG strings: no script, no font or file to fetch, prints as it shows."""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

# Distinguishable in colour *and* dash pattern, so colour never carries meaning alone.
_STYLES = [("#1f77b4", ""), ("#d62728", "6 3"), ("#2ca02c", "2 2"), ("#9467bd", "8 3 2 3"),
           ("#ff7f0e", "4 4"), ("#8c564b", "1 3")]


def line_chart(series: dict[str, list[tuple[float, float]]], *, title: str, x_label: str,
               y_label: str, log_y: bool = False, width: int = 560, height: int = 260) -> Markup:
    """A line chart of named (x, y) series, with a legend that names every line."""
    points = [(x, y) for values in series.values() for x, y in values
              if y is not None and (not log_y or y > 0)]
    if not points:
        return Markup("<p><em>No data to chart.</em></p>")
    transform = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    xs = [x for x, _ in points]
    ys = [transform(y) for _, y in points]
    x_low, x_high = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_low, y_high = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    left, right, top, bottom = 60, 150, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (transform(y) - y_low) / (y_high - y_low) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{escape(title)}" class="chart">',
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             'class="axis"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" class="axis"/>']
    for fraction in (0.0, 0.5, 1.0):
        value = y_low + fraction * (y_high - y_low)
        label = f"{10 ** value:.1e}" if log_y else f"{value:.3g}"
        y = top + plot_h - fraction * plot_h
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'class="tick">{label}</text>')
    for fraction in (0.0, 0.5, 1.0):
        value = x_low + fraction * (x_high - x_low)
        parts.append(f'<text x="{left + fraction * plot_w:.1f}" y="{top + plot_h + 16}" '
                     f'text-anchor="middle" class="tick">{value:.3g}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" '
                 f'class="label">{escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" class="label" '
                 f'transform="rotate(-90 14 {top + plot_h / 2})">{escape(y_label)}</text>')
    for index, (name, values) in enumerate(series.items()):
        colour, dash = _STYLES[index % len(_STYLES)]
        kept = [(x, y) for x, y in values if y is not None and (not log_y or y > 0)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in kept)
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"{dash_attribute}/>')
        legend_y = top + 14 * index + 6
        parts.append(f'<line x1="{left + plot_w + 10}" y1="{legend_y}" x2="{left + plot_w + 34}" '
                     f'y2="{legend_y}" stroke="{colour}" stroke-width="2"{dash_attribute}/>')
        parts.append(f'<text x="{left + plot_w + 38}" y="{legend_y + 4}" class="tick">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

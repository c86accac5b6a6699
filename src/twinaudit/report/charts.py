"""Charts as inline SVG strings: no script, no font or file to fetch, prints as it shows.

Every chart carries its meaning twice: series differ in colour *and* in dash pattern, fill
pattern or marker shape, and each bar or point has a ``<title>`` (shown on hover, read by
screen readers) and, for bars, its value printed beside it. Colours are the Okabe–Ito
palette, which stays distinguishable under the common colour-vision deficiencies and on both
the light and the dark background. Text uses CSS classes so the page's dark mode recolours it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TypeGuard

from markupsafe import Markup

from twinaudit.report.formatting import signed

#: Okabe–Ito colours, paired with a dash pattern (lines) and a fill style (bars) per series.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
_DASHES = ("", "6 3", "2 2", "8 3 2 3", "4 4", "1 3")
_MARKERS = ("circle", "square", "triangle", "diamond", "cross")
_FONT_WIDTH = 6.2  # approximate width of one 11 px character, to size label gutters


@dataclass(frozen=True)
class Bar:
    """One bar: its value and, when known, a confidence interval drawn as an error bar."""

    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Point:
    """One scatter point, with the text its tooltip shows and, when known, an interval in
    each direction drawn as error bars (``(low, high)``)."""

    x: float
    y: float
    label: str = ""
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _chart_id(title: str, names: Sequence[str]) -> str:
    """A stable id for pattern definitions: charts of one page must not share ids."""
    digest = hashlib.sha1("\x1f".join([title, *names]).encode("utf-8")).hexdigest()
    return f"chart-{digest[:10]}"


def _open_svg(width: float, height: float, title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'role="img" aria-label="{_text(title)}" class="chart">',
            f"<title>{_text(title)}</title>",
            f'<text x="4" y="16" class="chart-title">{_text(title)}</text>']


def _tick_label(value: float, log: bool = False) -> str:
    if log:
        return f"{10 ** value:.0e}"
    return f"{value:.3g}"


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], so axes read 0, 0.2, 0.4 and not 0.1837."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw),
               default=10 * magnitude)
    ticks = [round(math.floor(low / step) * step, 12)]
    while ticks[-1] < high - step * 1e-9:  # the last tick reaches the highest value
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _legend(names: Sequence[str], x: float, y: float, swatch) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        row_y = y + 16 * index
        parts.append(swatch(index, x, row_y))
        parts.append(f'<text x="{x + 30:.1f}" y="{row_y + 4:.1f}" class="tick">'
                     f"{_text(name)}</text>")
    return parts


def line_chart(series: Mapping[str, Sequence[tuple[float, float | None]]], *, title: str,
               x_label: str, y_label: str, log_y: bool = False, width: int = 640,
               height: int = 280, from_zero: bool = True,
               reference: tuple[str, Sequence[tuple[float, float]]] | None = None) -> Markup:
    """A line chart of named (x, y) series, with a legend that names every line.

    Parameters
    ----------
    series : mapping of str to sequence of (x, y)
        One polyline per name; ``None`` values (and non-positive ones on a log axis) are left
        out rather than drawn as zero.
    title, x_label, y_label : str
        Chart title and axis labels (escaped: they may hold user data).
    log_y : bool, default False
        Logarithmic y axis, for quantities spanning orders of magnitude (float drift).
    from_zero : bool, default True
        A linear y axis starts at 0; False fits it to the values (accuracies near 0.85).
    reference : (name, points), optional
        A grey dashed line for comparison (chance on a ROC curve), named in the legend.

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element, or a short note when there is nothing to draw.
    """
    def usable(y: float | None) -> TypeGuard[float]:
        return y is not None and math.isfinite(y) and (not log_y or y > 0)

    lines = dict(series)
    if reference is not None:
        lines[reference[0]] = reference[1]
    points = [(x, y) for values in lines.values() for x, y in values if usable(y)]
    if not points:
        return Markup('<p class="muted">No data to chart.</p>')
    transform = math.log10 if log_y else float
    xs = [x for x, _ in points]
    ys = [transform(y) for _, y in points]
    x_low, x_high = min(xs), max(max(xs), min(xs) + 1)
    y_ticks: list[float]
    if log_y:
        y_ticks = list(range(math.floor(min(ys)), math.ceil(max(ys)) + 1))
        if len(y_ticks) == 1:
            y_ticks.append(y_ticks[0] + 1)
    else:
        y_ticks = _nice_ticks(min(ys + [0.0]) if from_zero else min(ys), max(ys))
    y_low, y_high = y_ticks[0], y_ticks[-1]
    legend_width = 30 + _FONT_WIDTH * max(len(str(name)) for name in lines) + 10
    left, right, top, bottom = 64, legend_width + 16, 30, 42
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (transform(y) - y_low) / (y_high - y_low) * plot_h

    parts = _open_svg(width, height, title)
    for tick in y_ticks:
        y = top + plot_h - (tick - y_low) / (y_high - y_low) * plot_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     'class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                     f"{_tick_label(tick, log_y)}</text>")
    x_ticks = _nice_ticks(x_low, x_high, 6)
    if all(float(x).is_integer() for x in xs):  # epochs: no tick at 1.5
        x_ticks = [tick for tick in x_ticks if float(tick).is_integer()]
    for tick in x_ticks:
        if x_low <= tick <= x_high:
            parts.append(f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" '
                         f'text-anchor="middle" class="tick">{tick:g}</text>')
    parts += _axes(left, top, plot_w, plot_h, height=height, x_label=x_label,
                   y_label=y_label)
    for index, (name, values) in enumerate(lines.items()):
        colour, dash = _line_style(index) if name in series or reference is None \
            else _REFERENCE_STYLE
        kept = [(x, y) for x, y in values if usable(y)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in kept)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"{dash}><title>{_text(name)}</title></polyline>')
        for x, y in kept:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}">'
                         f"<title>{_text(name)}: {x:g}, {y:.3g}</title></circle>")

    def swatch(index: int, x: float, y: float) -> str:
        colour, dash = _line_style(index) if index < len(series) else _REFERENCE_STYLE
        return (f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 24:.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="2"{dash}/>')

    parts += _legend(list(lines), left + plot_w + 14, top + 6, swatch)
    parts.append("</svg>")
    return Markup("".join(parts))


#: A reference line's look: grey and dotted, unlike any series.
_REFERENCE_STYLE = ("#8a8a8a", ' stroke-dasharray="2 3"')


def _line_style(index: int) -> tuple[str, str]:
    dash = _DASHES[index % len(_DASHES)]
    return PALETTE[index % len(PALETTE)], (f' stroke-dasharray="{dash}"' if dash else "")


def _axes(left: float, top: float, plot_w: float, plot_h: float, *, height: float | None = None,
          x_label: str | None = None, y_label: str | None = None) -> list[str]:
    """The two axis lines and, when given, the x label below and the rotated y label."""
    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             'class="axis"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" class="axis"/>']
    if x_label is not None:
        assert height is not None, "an x label needs the chart height"  # callers pass both
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" '
                     f'text-anchor="middle" class="label">{_text(x_label)}</text>')
    if y_label is not None:
        middle = top + plot_h / 2
        parts.append(f'<text x="14" y="{middle:.1f}" text-anchor="middle" class="label" '
                     f'transform="rotate(-90 14 {middle:.1f})">{_text(y_label)}</text>')
    return parts


def _pattern_defs(chart_id: str, count: int) -> str:
    """Fill patterns: series 0 solid, 1 diagonal hatch, 2 dots, ... — readable in greyscale."""
    defs = []
    for index in range(count):
        colour = PALETTE[index % len(PALETTE)]
        kind = index % 3
        if kind == 0:
            continue
        inner = (f'<rect width="6" height="6" fill="{colour}" fill-opacity="0.35"/>'
                 + (f'<path d="M0,6 L6,0" stroke="{colour}" stroke-width="2"/>' if kind == 1
                    else f'<circle cx="3" cy="3" r="1.6" fill="{colour}"/>'))
        defs.append(f'<pattern id="{chart_id}-p{index}" width="6" height="6" '
                    f'patternUnits="userSpaceOnUse">{inner}</pattern>')
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _bar_fill(chart_id: str, index: int) -> str:
    colour = PALETTE[index % len(PALETTE)]
    if index % 3 == 0:
        return f'fill="{colour}"'
    return f'fill="url(#{chart_id}-p{index})" stroke="{colour}" stroke-width="1"'


def bar_chart(categories: Sequence[str], series: Mapping[str, Sequence[Bar | None]], *,
              title: str, value_label: str, domain: tuple[float, float] | None = None,
              digits: int = 3) -> Markup:
    """Horizontal grouped bars with confidence-interval error bars.

    Horizontal, because category names (groups, features) are often long. Each category gets
    one bar per series; each bar is labelled with its value, so no reading depends on colour.

    Parameters
    ----------
    categories : sequence of str
        Row labels, top to bottom.
    series : mapping of str to sequence of Bar or None
        One entry per series (say, per framework), aligned with ``categories``; ``None`` is a
        missing bar, shown as "n/a".
    title, value_label : str
        Chart title and value-axis label.
    domain : (float, float), optional
        Value axis range; by default from 0 (or the lowest value) to the highest whisker.
    digits : int, default 3
        Decimals of the printed values.

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element, or a short note when there is nothing to draw.
    """
    bars = [bar for values in series.values() for bar in values
            if bar is not None and bar.value is not None]
    if not bars or not categories:
        return Markup('<p class="muted">No data to chart.</p>')
    extremes = [v for bar in bars for v in (bar.value, bar.low, bar.high) if v is not None]
    low, high = domain if domain else (min(0.0, *extremes), max(extremes))
    ticks = _nice_ticks(low, high if high > low else low + 1, 5)
    low, high = ticks[0], ticks[-1]
    names = list(series)
    label_width = min(220, 10 + _FONT_WIDTH * max(len(str(c)) for c in categories))
    bar_h, gap = 12, 10
    row_h = bar_h * len(names) + gap
    width, left, right, top = 640, label_width + 8, 70, 30 + 16 * len(names)
    plot_w = width - left - right
    plot_h = row_h * len(categories)
    height = top + plot_h + 40
    chart_id = _chart_id(title, [*names, *map(str, categories)])

    def px(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    # Bars grow from zero (or from the axis end nearest zero when zero is off the axis).
    base = min(max(0.0, low), high)
    parts = _open_svg(width, height, title)
    parts.append(_pattern_defs(chart_id, len(names)))

    def swatch(index: int, x: float, y: float) -> str:
        return (f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="24" height="10" '
                f"{_bar_fill(chart_id, index)}/>")

    parts += _legend(names, left, 30, swatch)
    for tick in ticks:
        parts.append(f'<line x1="{px(tick):.1f}" y1="{top}" x2="{px(tick):.1f}" '
                     f'y2="{top + plot_h}" class="grid"/>')
        parts.append(f'<text x="{px(tick):.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                     f'class="tick">{_tick_label(tick)}</text>')
    for row, category in enumerate(categories):
        row_top = top + row * row_h + gap / 2
        parts.append(f'<text x="{left - 6}" y="{row_top + bar_h * len(names) / 2 + 4:.1f}" '
                     f'text-anchor="end" class="tick">{_text(_shorten(str(category), 34))}'
                     f"<title>{_text(category)}</title></text>")
        for index, name in enumerate(names):
            bar = series[name][row] if row < len(series[name]) else None
            parts += _one_bar(bar, name, category, index, row_top + index * bar_h, bar_h - 2,
                              px, base, chart_id, digits)
    parts += _axes(left, top, plot_w, plot_h)
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" '
                 f'class="label">{_text(value_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _one_bar(bar: Bar | None, name: str, category: str, index: int, y: float, h: float, px,
             base: float, chart_id: str, digits: int) -> list[str]:
    if bar is None or bar.value is None:
        return [f'<text x="{px(base) + 4:.1f}" y="{y + h - 1:.1f}" class="value">'
                f"n/a ({_text(name)})</text>"]
    start, end = sorted((px(base), px(bar.value)))
    interval = ""
    if bar.low is not None and bar.high is not None:
        interval = f", CI [{bar.low:.{digits}f}, {bar.high:.{digits}f}]"
    tooltip = f"{category} — {name}: {bar.value:.{digits}f}{interval}{bar.note}"
    parts = [f'<rect x="{start:.1f}" y="{y:.1f}" width="{max(end - start, 0.5):.1f}" '
             f'height="{h:.1f}" {_bar_fill(chart_id, index)}><title>{_text(tooltip)}</title>'
             "</rect>"]
    label_x = px(bar.value)
    if bar.low is not None and bar.high is not None:
        x_low, x_high, mid = px(bar.low), px(bar.high), y + h / 2
        parts.append(f'<path d="M{x_low:.1f},{mid:.1f} H{x_high:.1f} M{x_low:.1f},{y + 1:.1f} '
                     f'V{y + h - 1:.1f} M{x_high:.1f},{y + 1:.1f} V{y + h - 1:.1f}" '
                     'class="whisker"/>')
        label_x = max(label_x, x_high)
    parts.append(f'<text x="{label_x + 4:.1f}" y="{y + h - 1:.1f}" class="value">'
                 f"{bar.value:.{digits}f}</text>")
    return parts


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scatter_chart(series: Mapping[str, Sequence[Point]], *, title: str, x_label: str,
                  y_label: str, width: int = 640, height: int = 320,
                  front: Sequence[Point] = (), front_label: str = "front",
                  styles: Mapping[str, tuple[int, int]] | None = None) -> Markup:
    """A scatter of named point series, each with its own marker shape and colour.

    Used for the accuracy-versus-disparity trade-off: one series per (variant, framework).

    Parameters
    ----------
    series : mapping of str to sequence of Point
        Points per series name; non-finite points are left out. A point's ``x_range`` and
        ``y_range`` are drawn as error bars.
    title, x_label, y_label : str
        Chart title and axis labels.
    front : sequence of Point
        Points joined, in the order given, by a dashed line (the Pareto front) and ringed,
        named ``front_label`` in the legend.
    styles : mapping of series name to (colour index, shape index), optional
        Two cues that mean two things (the trade-off: colour the method, shape the
        framework); by default both follow the series' position.

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element, or a short note when there is nothing to draw.
    """
    kept = {name: [p for p in points if math.isfinite(p.x) and math.isfinite(p.y)]
            for name, points in series.items()}
    every = [p for points in kept.values() for p in points]
    if not every:
        return Markup('<p class="muted">No data to chart.</p>')
    x_ticks = _padded_ticks([v for p in every for v in (p.x, *_finite(p.x_range))])
    y_ticks = _padded_ticks([v for p in every for v in (p.y, *_finite(p.y_range))])
    names = [*series, *([front_label] if front else [])]
    legend_width = 30 + _FONT_WIDTH * max(len(str(name)) for name in names) + 10
    left, right, top, bottom = 64, legend_width + 16, 30, 42
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * plot_h

    parts = _open_svg(width, height, title)
    for tick in y_ticks:
        parts.append(f'<line x1="{left}" y1="{py(tick):.1f}" x2="{left + plot_w}" '
                     f'y2="{py(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" '
                     f'class="tick">{_tick_label(tick)}</text>')
    for tick in x_ticks:
        parts.append(f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                     f'class="tick">{_tick_label(tick)}</text>')
    parts += _axes(left, top, plot_w, plot_h, height=height, x_label=x_label,
                   y_label=y_label)
    if front:
        line = " ".join(f"{px(p.x):.1f},{py(p.y):.1f}" for p in front)
        parts.append(f'<polyline points="{line}" fill="none" class="front" stroke="#777" '
                     f'stroke-width="1.5" stroke-dasharray="5 3"><title>{_text(front_label)}'
                     "</title></polyline>")
        # Ringed too: a front of one point draws no line.
        parts += [f'<circle cx="{px(p.x):.1f}" cy="{py(p.y):.1f}" r="9" fill="none" '
                  'stroke="#777" stroke-width="1.2" class="front"/>' for p in front]
    style = dict(styles or {})
    for index, (name, points) in enumerate(kept.items()):
        colour_index, shape_index = style.get(name, (index, index))
        colour = PALETTE[colour_index % len(PALETTE)]
        for point in points:
            for x1, y1, x2, y2 in _error_bars(point, px, py):
                parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                             f'stroke="{colour}" stroke-width="1.2" class="error-bar"/>')
            tooltip = f"{name}{' — ' + point.label if point.label else ''}: " \
                      f"{x_label} {point.x:.3f}, {y_label} {point.y:.3f}"
            parts.append(_marker(colour_index, px(point.x), py(point.y), tooltip,
                                 shape=shape_index))

    def swatch(index: int, x: float, y: float) -> str:
        if index == len(series):  # the front's entry: a dashed stroke
            return (f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="#777" '
                    'stroke-width="1.5" stroke-dasharray="5 3"/>')
        colour_index, shape_index = style.get(names[index], (index, index))
        return _marker(colour_index, x + 12, y, "", shape=shape_index)

    parts += _legend(names, left + plot_w + 14, top + 6, swatch)
    parts.append("</svg>")
    return Markup("".join(parts))


def _error_bars(point: Point, px, py) -> list[tuple[float, float, float, float]]:
    """The pixel ends of a point's horizontal and vertical error bars."""
    bars = []
    if x_range := _finite(point.x_range):
        bars.append((px(x_range[0]), py(point.y), px(x_range[1]), py(point.y)))
    if y_range := _finite(point.y_range):
        bars.append((px(point.x), py(y_range[0]), px(point.x), py(y_range[1])))
    return bars


def _finite(pair: tuple[float, float] | None) -> tuple[float, ...]:
    """An interval's ends when both are finite numbers, else nothing."""
    if pair is None or not all(isinstance(v, int | float) and math.isfinite(v) for v in pair):
        return ()
    return (float(pair[0]), float(pair[1]))


def _padded_ticks(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 0.01
    return _nice_ticks(low - pad, high + pad, 5)


def _marker(index: int, x: float, y: float, tooltip: str, *, shape: int | None = None) -> str:
    """A marker whose *shape* names the series, so the legend reads without colour (``shape``
    picks it apart from the colour when the two cues mean different things)."""
    colour = PALETTE[index % len(PALETTE)]
    shape_name = _MARKERS[(index if shape is None else shape) % len(_MARKERS)]
    # Every other series is hollow: a second cue besides shape, and overlaps stay visible.
    fill = colour if (index // len(_MARKERS)) % 2 == 0 and index % 2 == 0 else "none"
    style = f'fill="{fill}" stroke="{colour}" stroke-width="2"'
    title = f"<title>{_text(tooltip)}</title>" if tooltip else ""
    if shape_name == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {style}>{title}</circle>'
    if shape_name == "square":
        return (f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" {style}>'
                f"{title}</rect>")
    if shape_name == "triangle":
        points = f"{x:.1f},{y - 6:.1f} {x - 5.5:.1f},{y + 4.5:.1f} {x + 5.5:.1f},{y + 4.5:.1f}"
    elif shape_name == "diamond":
        points = f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"
    else:
        return (f'<path d="M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} M{x - 5:.1f},'
                f'{y + 5:.1f} L{x + 5:.1f},{y - 5:.1f}" {style}>{title}</path>')
    return f'<polygon points="{points}" {style}>{title}</polygon>'


#: The diverging scale's ends: Okabe–Ito blue (negative) and vermillion (positive), white at 0.
_NEGATIVE, _POSITIVE, _NEUTRAL = (0, 114, 178), (213, 94, 0), (255, 255, 255)


def diverging_colour(value: float | None, scale: float) -> str:
    """The colour of ``value`` on a symmetric scale ±``scale``: blue, white at 0, vermillion.

    Values beyond the scale take the end colour; None (no value) is a light grey.
    """
    if value is None or not math.isfinite(value):
        return "#d5d5d5"
    share = max(-1.0, min(1.0, value / scale)) if scale > 0 else 0.0
    end = _POSITIVE if share > 0 else _NEGATIVE
    rgb = (round(n + abs(share) * (e - n)) for n, e in zip(_NEUTRAL, end, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heat_map(panels: Sequence[Sequence[Sequence[Sequence[float | None]] | None]], *,
             row_labels: Sequence[str], column_labels: Sequence[str], title: str,
             value_label: str, digits: int = 3, cell: int = 10,
             saturate: float = 0.99) -> Markup:
    """Small heat maps in a grid, on one shared diverging colour scale, with a numbered legend.

    Parameters
    ----------
    panels : rows of panels; a panel is a 2-D grid (list of rows of numbers) or None
        ``panels[i][j]`` is drawn in row ``row_labels[i]``, column ``column_labels[j]`` (say one
        row per twin, one column per class). A missing panel is drawn as an empty outline.
    row_labels, column_labels : sequences of str
        Escaped: they may hold user data.
    title, value_label : str
        The chart's title and what the numbers are (under the legend).
    digits : int
        Decimals of the legend's numbers and the cells' tooltips (signed, as
        :func:`~twinaudit.report.formatting.signed` prints them).
    cell : int
        Side of one cell, in SVG units.
    saturate : float
        The colour scale ends at this quantile of the magnitudes (1: at the largest).

    Returns
    -------
    markupsafe.Markup
        The ``<svg>``. The scale is symmetric around 0, so white is exactly zero and the two
        colours compare magnitudes honestly; the legend prints the numbers at its ticks
        (``≥`` at the ends when larger magnitudes were saturated) and every cell's
        ``<title>`` its value, so colour is never the only carrier.
    """
    values = [v for row in panels for panel in row if panel for line in panel for v in line
              if v is not None and math.isfinite(v)]
    if not values:
        return Markup('<p class="muted">No data to chart.</p>')
    magnitudes = sorted(abs(v) for v in values)
    # A few extreme pixels would otherwise wash every other cell out to white: the scale ends
    # at a high quantile of the magnitudes, beyond which cells take the end colour, and the
    # legend says so (≥ / ≤). Tooltips keep every true value.
    scale = magnitudes[min(len(magnitudes) - 1, int(saturate * len(magnitudes)))] \
        or magnitudes[-1] or 1.0
    clipped = magnitudes[-1] > scale
    height_cells = max(len(panel) for row in panels for panel in row if panel)
    width_cells = max(len(panel[0]) for row in panels for panel in row if panel and panel[0])
    panel_w, panel_h, gap = width_cells * cell, height_cells * cell, 8
    left = round(12 + _FONT_WIDTH * max((len(str(label)) for label in row_labels), default=0))
    top = 44
    columns = max(len(column_labels), max(len(row) for row in panels))
    grid_w = left + columns * (panel_w + gap)
    legend_y = top + len(panels) * (panel_h + gap) + 14
    width = max(grid_w + 8, 360)
    height = legend_y + 46
    parts = _open_svg(width, height, title)
    parts[0] = parts[0].replace('class="chart"',
                                f'class="chart" style="max-width: {min(width, 1000):.0f}px"')
    for j, label in enumerate(column_labels):
        x = left + j * (panel_w + gap) + panel_w / 2
        parts.append(f'<text x="{x:.1f}" y="{top - 6}" text-anchor="middle" class="tick">'
                     f"{_text(label)}</text>")
    for i, row in enumerate(panels):
        y0 = top + i * (panel_h + gap)
        label = row_labels[i] if i < len(row_labels) else ""
        parts.append(f'<text x="{left - 6:.1f}" y="{y0 + panel_h / 2 + 4:.1f}" '
                     f'text-anchor="end" class="tick">{_text(label)}</text>')
        for j, panel in enumerate(row):
            x0 = left + j * (panel_w + gap)
            column = column_labels[j] if j < len(column_labels) else ""
            # One group per panel, cells at integer offsets and tooltips holding only the
            # value: a 10-class, 6-twin grid is 3,840 cells, and every character counts.
            parts.append(f'<g transform="translate({x0:.0f} {y0:.0f})"><title>'
                         f"{_text(f'{label}, {column}')}</title>")
            for r, line in enumerate(panel or []):
                for c, value in enumerate(line):
                    shown = "no value" if value is None else signed(value, digits)
                    parts.append(f'<rect x="{c * cell}" y="{r * cell}" width="{cell}" '
                                 f'height="{cell}" fill="{diverging_colour(value, scale)}">'
                                 f"<title>{shown}</title></rect>")
            parts.append(f'<rect width="{panel_w}" height="{panel_h}" fill="none" '
                         'class="axis"/></g>')
    parts.extend(_diverging_legend(left, legend_y, scale, value_label, digits, clipped))
    parts.append("</svg>")
    return Markup("".join(parts))


def _diverging_legend(x: float, y: float, scale: float, value_label: str,
                      digits: int, clipped: bool = False) -> list[str]:
    """A colour bar from −scale to +scale with numbers at five ticks (``≤``/``≥`` at the
    ends when ``clipped``: values beyond them share the end colours)."""
    steps, bar_w = 21, 240
    step_w = bar_w / steps
    parts = [f'<rect x="{x + k * step_w:.1f}" y="{y:.1f}" width="{step_w + 0.4:.1f}" height="10" '
             f'fill="{diverging_colour(scale * (2 * k / (steps - 1) - 1), scale)}"/>'
             for k in range(steps)]
    parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w}" height="10" fill="none" '
                 'class="axis"/>')
    ends: dict[float, str] = {-1: "≤ ", 1: "≥ "}
    for share in (-1, -0.5, 0, 0.5, 1):
        tick_x = x + (share + 1) / 2 * bar_w
        parts.append(f'<line x1="{tick_x:.1f}" y1="{y + 10:.1f}" x2="{tick_x:.1f}" '
                     f'y2="{y + 14:.1f}" class="axis"/>')
        bound = ends.get(share, "") if clipped else ""
        parts.append(f'<text x="{tick_x:.1f}" y="{y + 25:.1f}" text-anchor="middle" '
                     f'class="tick">{bound}{signed(share * scale, digits)}</text>')
    parts.append(f'<text x="{x + bar_w + 10:.1f}" y="{y + 9:.1f}" class="tick">'
                 f"{_text(value_label)}</text>")
    return parts

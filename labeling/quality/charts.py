"""Small server-side SVG charts for the quality dashboard (no JavaScript, no CDN).

Each function returns a complete <svg> element as safe HTML; text is escaped. `svg_chart` is
the element around a chart's body, for charts drawn elsewhere (monitoring's).
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
# A generous width per character of 12px sans-serif text: charts are sized to their text, so no
# caption or label is cut off at the edge of the picture.
CHAR_WIDTH = 7.2


def _text_width(text: str) -> int:
    return int(len(text) * CHAR_WIDTH) + 1


def svg_chart(width: int, height: int, body: list[str], title: str) -> SafeString:
    """A chart's <svg> element, titled for screen readers, around `body`: SVG markup whose text
    the caller escaped (every chart here, and monitoring's, is drawn into one)."""
    return mark_safe(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def line_chart(
    *, title: str, x_labels: list[str], series: list[tuple[str, list[float]]]
) -> SafeString:
    """Lines over the same x positions (e.g. running totals per day), with a legend."""
    width, height, left, bottom, top, right = 640, 240, 56, 36, 28, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=0) or 1
    count = max(len(x_labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#999"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak:g}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    if x_labels:
        body.append(
            f'<text x="{left}" y="{height - 12}" font-size="11">{escape(x_labels[0])}</text>'
        )
        body.append(
            f'<text x="{left + plot_w}" y="{height - 12}" text-anchor="end" font-size="11">'
            f"{escape(x_labels[-1])}</text>"
        )
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        if len(values) == 1:
            body.append(f'<circle cx="{x(0):.1f}" cy="{y(values[0]):.1f}" r="4" fill="{colour}"/>')
        elif values:
            body.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
            )
        body.append(
            f'<rect x="{left + 10 + n * 150}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + 27 + n * 150}" y="16" font-size="12">{escape(name)}</text>'
        )
    return svg_chart(width, height, body, title)


def bar_chart(*, title: str, rows: list[tuple[str, float | None]], low: float = 0.0) -> SafeString:
    """Horizontal bars for values in [low, 1] (e.g. agreement per label); None is shown as n/a."""
    bar_h, gap, right = 18, 6, 60
    left = max(140, max((_text_width(label) for label, _ in rows), default=0) + 16)
    width = left + 440
    height = 20 + len(rows) * (bar_h + gap)
    plot_w = width - left - right
    zero = left + plot_w * (0 - low) / (1 - low)
    body = [f'<line x1="{zero:.1f}" y1="10" x2="{zero:.1f}" y2="{height}" stroke="#999"/>']
    for i, (label, value) in enumerate(rows):
        top = 14 + i * (bar_h + gap)
        body.append(
            f'<text x="{left - 8}" y="{top + 13}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
        )
        if value is None:
            body.append(f'<text x="{zero + 4:.1f}" y="{top + 13}" font-size="12">n/a</text>')
            continue
        clipped = min(max(value, low), 1.0)
        end = left + plot_w * (clipped - low) / (1 - low)
        x0, x1 = sorted((zero, end))
        colour = "#2ca02c" if value >= 0.8 else "#ff7f0e" if value >= 0.6 else "#d62728"
        body.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{bar_h}" '
            f'fill="{colour}"><title>{escape(label)}: {value:.3f}</title></rect>'
            f'<text x="{left + plot_w + 6}" y="{top + 13}" font-size="12">{value:.2f}</text>'
        )
    return svg_chart(width, height, body, title)


def heatmap(
    *,
    title: str,
    labels: list[str],
    matrix: list[list[float]],
    caption: str = "answered (columns) vs consensus (rows)",
    number: str = "g",
) -> SafeString:
    """A confusion matrix: rows are the reference (true label), columns the answers given."""
    cell = 44
    longest = max((_text_width(label) for label in labels), default=0)
    left = max(120, longest + 12)
    # Column labels are turned 45 degrees: they need about 0.7 of their length above the cells,
    # and the last one as much again to the right.
    top = max(110, int(longest * 0.71) + 34)
    size = len(labels)
    width = max(left + size * cell + int(longest * 0.71) + 10, _text_width(caption) + 16, 360)
    height = top + size * cell + 10
    peak = max((v for row in matrix for v in row), default=0) or 1
    body = [f'<text x="8" y="14" font-size="12">{escape(caption)}</text>']
    for j, label in enumerate(labels):
        cx = left + j * cell + cell / 2
        body.append(
            f'<text transform="translate({cx:.1f},{top - 6}) rotate(-45)" font-size="12">'
            f"{escape(label)}</text>"
        )
    for i, row in enumerate(matrix):
        body.append(
            f'<text x="{left - 6}" y="{top + i * cell + cell / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="12">{escape(labels[i])}</text>'
        )
        for j, value in enumerate(row):
            shade = value / peak
            colour = f"rgba(31,119,180,{0.08 + 0.92 * shade:.3f})"
            text_colour = "#fff" if shade > 0.55 else "#111"
            body.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="{colour}"/>'
                f'<text x="{left + j * cell + cell / 2 - 1:.1f}" '
                f'y="{top + i * cell + cell / 2 + 4:.1f}"'
                f' text-anchor="middle" font-size="11" fill="{text_colour}">{value:{number}}</text>'
            )
    return svg_chart(width, height, body, title)

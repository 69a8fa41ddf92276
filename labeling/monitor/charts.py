"""SVG charts of the model health page: estimates with confidence bands, reliability diagram.

Drawn server-side like labeling/charts.py (no JavaScript); values are proportions in [0, 1].
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString

from labeling.quality.charts import PALETTE, svg_chart

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 640, 260, 48, 40, 30, 16


def _frame(body: list[str], x_labels: list[str], y_max: float = 1.0) -> None:
    plot_h = HEIGHT - TOP - BOTTOM
    for tick in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - tick)
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{tick * y_max:g}</text>"
        )
    if x_labels:
        body.append(
            f'<text x="{LEFT}" y="{HEIGHT - 12}" font-size="11">{escape(x_labels[0])}</text>'
        )
        body.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end" font-size="11">'
            f"{escape(x_labels[-1])}</text>"
        )


def band_chart(
    *,
    title: str,
    x_labels: list[str],
    series: list[tuple[str, list[tuple[float | None, float | None, float | None]]]],
    y_max: float = 1.0,
    threshold: float | None = None,
) -> SafeString:
    """Lines of estimates over time, each with its 95% CI as a shaded band: series are
    (name, [(estimate, low, high) per x]); None leaves a gap."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(x_labels), 1)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v / y_max, 0.0), 1.0))

    body: list[str] = []
    _frame(body, x_labels, y_max)
    if threshold is not None:
        body.append(
            f'<line class="threshold" x1="{LEFT}" y1="{y(threshold):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(threshold):.1f}" stroke="#d62728" stroke-dasharray="4 3"/>'
        )
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        known = [(i, p) for i, p in enumerate(points) if p[0] is not None]
        banded = [(i, p) for i, p in known if p[1] is not None and p[2] is not None]
        if len(banded) > 1:
            upper = " ".join(f"{x(i):.1f},{y(p[2]):.1f}" for i, p in banded)
            lower = " ".join(f"{x(i):.1f},{y(p[1]):.1f}" for i, p in reversed(banded))
            body.append(
                f'<polygon class="band" points="{upper} {lower}" fill="{colour}" '
                'fill-opacity="0.18" stroke="none"/>'
            )
        for i, p in banded:
            body.append(
                f'<line x1="{x(i):.1f}" y1="{y(p[1]):.1f}" x2="{x(i):.1f}" y2="{y(p[2]):.1f}" '
                f'stroke="{colour}" stroke-opacity="0.5"/>'
            )
        if len(known) > 1:
            line = " ".join(f"{x(i):.1f},{y(p[0]):.1f}" for i, p in known)
            body.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{line}"/>'
            )
        for i, p in known:
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(p[0]):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(x_labels[i])}: {p[0]:.3f}</title></circle>"
            )
        body.append(
            f'<rect x="{LEFT + 10 + n * 200}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{LEFT + 27 + n * 200}" y="18" font-size="12">{escape(name)}</text>'
        )
    return svg_chart(WIDTH, HEIGHT, body, title)


def reliability_chart(*, title: str, bins: list[dict]) -> SafeString:
    """Mean confidence (x) against accuracy (y) per score bin; the diagonal is perfect."""
    size, margin = 300, 40
    plot = size - 2 * margin

    def px(v: float) -> float:
        return margin + plot * v

    def py(v: float) -> float:
        return size - margin - plot * v

    body = [
        f'<rect x="{margin}" y="{margin}" width="{plot}" height="{plot}" fill="none" '
        'stroke="#999"/>',
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#bbb" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle" font-size="11">'
        "confidence</text>",
        f'<text x="12" y="{size / 2}" font-size="11" transform="rotate(-90 12 {size / 2})" '
        'text-anchor="middle">accuracy</text>',
    ]
    peak = max((b["n"] for b in bins), default=0) or 1
    for b in bins:
        if not b["n"]:
            continue
        radius = 3 + 6 * (b["n"] / peak) ** 0.5
        body.append(
            f'<circle cx="{px(b["confidence"]):.1f}" cy="{py(b["accuracy"]):.1f}" '
            f'r="{radius:.1f}" fill="{PALETTE[0]}" fill-opacity="0.7">'
            f"<title>n={b['n']}: confidence {b['confidence']:.2f}, accuracy "
            f"{b['accuracy']:.2f}</title></circle>"
        )
    return svg_chart(size, size, body, title)

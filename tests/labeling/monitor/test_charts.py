"""Monitoring's charts are drawn into quality's one chart element (svg_chart): titled, escaped."""

from labeling.monitor.charts import band_chart, reliability_chart
from labeling.quality.charts import svg_chart


def test_svg_chart_titles_and_escapes():
    svg = svg_chart(120, 80, ['<circle r="3"/>'], "Accuracy <v2> & more")
    assert svg.startswith(
        '<svg class="chart" role="img" aria-label="Accuracy &lt;v2&gt; &amp; more"'
    )
    assert 'viewBox="0 0 120 80"' in svg and '<circle r="3"/>' in svg
    assert "<title>Accuracy &lt;v2&gt; &amp; more</title>" in svg and svg.endswith("</svg>")


def test_monitor_charts_use_the_chart_element():
    band = band_chart(
        title="Accuracy <per version>",
        x_labels=["2026-01-01", "2026-01-02"],
        series=[("v1", [(0.9, 0.8, 0.95), (0.7, 0.6, 0.8)])],
        threshold=0.8,
    )
    reliability = reliability_chart(
        title="Reliability", bins=[{"confidence": 0.55, "accuracy": 0.5, "n": 10}]
    )
    for svg, title in ((band, "Accuracy &lt;per version&gt;"), (reliability, "Reliability")):
        assert svg.startswith(f'<svg class="chart" role="img" aria-label="{title}"')
        assert f"<title>{title}</title>" in svg

"""Quality: agreement statistics and the figures leads read.

- agreement: percent agreement, Fleiss' kappa, Cohen's kappa, Krippendorff's alpha, span and
  shape agreement, per-label binary metrics (checked against reference implementations).
- report: `project_quality(project=)`, `project_progress`: the quality dashboard's numbers;
  `quality_report_compute(project_id=)` (by a worker), `quality_report_latest`,
  `quality_report_payload`: the report kept by version and served with its age.
- annotator_stats: `annotator_summary`, `annotators_summary`: what each annotator did.
- activity: `project_activity(project=)`: the project page's live panel.
- charts: `line_chart`, `bar_chart`, `heatmap`: small server-side SVG charts; `svg_chart`:
  the <svg> element around a chart drawn elsewhere (monitoring's).

May import: `labeling.models`, `labeling.consensus`, `labeling.annotate`, `projects`. Not
`labeling.web`.
"""

"""Quality: agreement statistics and the figures leads read.

- agreement: percent agreement, Fleiss' kappa, Cohen's kappa, Krippendorff's alpha, span and
  shape agreement, per-label binary metrics (checked against reference implementations).
- report: `project_quality(project=)`, `project_quality_cached(project=)`, `project_progress`:
  the quality dashboard's numbers.
- annotator_stats: `annotator_summary`, `annotators_summary`: what each annotator did.
- activity: `project_activity(project=)`: the project page's live panel.
- charts: `line_chart`, `bar_chart`, `heatmap`: small server-side SVG charts.

May import: `labeling.models`, `labeling.consensus`, `labeling.annotate`, `projects`. Not
`labeling.web`.
"""

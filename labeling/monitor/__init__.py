"""Production model monitoring: prediction events in, routed items out, accuracy per version.

Public services:
- `events.events_ingest(project=, raw_events=)`: validate, store (idempotent by event_id), route.
- `events.actuals_record(project=, raw_actuals=)`: delayed ground truth joined by event_id.
- `uploads.event_upload_create(...)` / `uploads.event_upload_run(job_id=)`: a JSONL file as a job.
- `rules.rule_save(...)`, `rules.rule_dry_run(rule=, days=)`: routing rules.
- `routing.RuleSet`: the in-process routing decision (conditions compiled once).
- `rollups.monitor_rollups_refresh(project_id=)`: the worker's rollups from new resolutions;
  `rollups.metrics_series(...)`, `alerts` are read from the rollup rows only.

Layering: this package reads resolutions (consensus) and creates items (projects); nothing in
consensus, annotate or quality imports it. The web layer may.
"""

"""Production model monitoring: prediction events in, routed items out, accuracy per version.

Public services:
- `events.events_ingest(project=, raw_events=)`: validate, store (idempotent by event_id), route.
- `events.actuals_record(project=, raw_actuals=)`: delayed ground truth joined by event_id.
- `uploads.event_upload_create(...)`: a JSONL file as an import job (projects.imports runs its
  chunks in parallel workers; `uploads.EVENT_UPLOAD` is the ImportTarget that parses and stores).
- `rules.rule_dry_run(rule=, days=)`: routing rules (routing reads the active rules and version
  ids through `lookups`, kept in the process's memory by the rules' generation on the project
  row, which a rule's save or delete renews).
- `routing.RuleSet`: the in-process routing decision (conditions compiled once).
- `rollups.monitor_rollups_refresh(project_id=)`: the worker's rollups from new resolutions;
  `rollups.metrics_series(...)`, `alerts` are read from the rollup rows only.

- selectors: `routed_item_external_ids(project=, rule=, model_version=, since=, until=)`: the
  items routed from events (the exports' monitor filter).
- demo: `monitor_demo_load()`: the `make run` demo (command `monitor_demo_setup`).

Its own Django app (`monitor`, tables monitor_*). May import `labeling.models`,
`labeling.consensus`, `labeling.annotate`, `labeling.quality`, `projects`. Nothing in
consensus, annotate, quality or labeling.models imports it (an import-linter contract);
`labeling.web` and `exports` may.
"""

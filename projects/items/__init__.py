"""Items: creating, filing and ordering the raw data the queue serves.

- create: `items_create(project=, rows=)`, `items_create_batch(...)`,
  `items_create_searchable(project=, rows=)` (parsed rows, searchable when it returns if few),
  `ItemRowParser`: rows from the API and every importer become items (validated, gold and
  predictions carried).
- bulk: `items_insert_new(...)`, `project_lock_for_items(...)`: the fast insert that skips
  external ids the project already has.
- filing: `items_refile(project_id=)`: file items under the project's queue ordering.
- order: `ItemSequence`, `ItemShuffle`, `annotator_shuffle_offset`: the queue's index expressions.
- predictions: `predictions_create(...)`, `predictions_check(...)`: model predictions, validated
  like answers.
- search_index: `items_search_index(project_id)`, `items_not_searchable_count(project_id)`,
  `items_search_index_soon(project_id)`, `items_search_index_now(project_id, external_ids)`,
  `items_search_forget(ids)`: full-text search words,
  filled in the background after items arrive (never by the insert: imports stay fast).
- titles: `item_title_of(item)`, `item_number(...)`: what a person reads for an item ("Item 12",
  with its external id only when the data gave one).

May import: `projects.models`, `projects.label_schema`, `projects.direct_sql`,
`projects.imports.hooks`. Not `labeling` or `exports`.
"""

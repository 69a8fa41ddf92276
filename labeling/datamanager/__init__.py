"""The lead's data manager: the project's items as a filterable, sortable table, and bulk actions.

- query: `items_table_query(project=, params=)`, `items_table_page(project=, params=, size=)`:
  the filters (one django-filter FilterSet for the page and the API), full-text search, sorts
  and keyset pages; `item_rows_describe(project=, items=)`: the table's columns;
  `item_selection_query(project=, params=)`: the items a filter selects.
- bulk: `item_bulk_job_create(project=, user=, action=, params=, selection=)`,
  `item_bulk_job_run(job_id=)`, `item_bulk_job_cancel(job=)`: bulk actions as status rows run
  batch by batch; `selection_check`, `bulk_selection`: a selection (ids or a filter), also
  read by exports for "export the selection".
- detail: `item_detail(item=)`: what the item page shows.
- api, pages, urls, tasks: the thin HTTP and Celery wiring.

May import: `labeling.models`, `labeling.consensus`, `labeling.annotate`, `labeling.quality`,
`projects`. Not `labeling.web` (which may import this) nor `exports` (which imports `bulk`).
"""

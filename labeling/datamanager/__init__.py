"""The lead's data manager: the project's items as a filterable, sortable table, and bulk actions.

Public functions:
- query.items_table_query(project=, params=): the filtered, ordered queryset (ItemFilterError)
- query.items_table_page(project=, params=, size=): one keyset page of table rows
- query.item_rows_describe(project=, items=): the table's columns for some items
- bulk.item_bulk_job_create(project=, user=, action=, params=, selection=): a bulk job row
- bulk.item_bulk_job_run(job_id=): run (or resume) it, batch by batch
- detail.item_detail(item=): everything the item page shows
"""

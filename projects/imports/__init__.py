"""Imports: a file uploaded by a lead becomes items, in the background, with a status row.

- jobs: `import_job_create(...)`, `import_job_plan(job_id=)`, `import_chunk_run(...)`,
  `import_job_cancel(job=)`, `import_errors_csv(job=)`: the ImportJob's life, chunk by chunk.
- formats: `FORMATS`, `import_format_detect(...)`: how each format is recognised, planned, read.
- readers/: one reader per source format (csv, jsonl, json, parquet, xlsx, images, Label Studio).
- batch_writer: `BatchWriter`: writes batch N while the reader reads batch N+1.
- stop_check: `JobStopCheck`, `StopCheckedStream`: a running attempt stops soon after a cancel.
- uploads: `ImportUploadHandler`, `StoredUpload`: an import's file streamed into the storage as
  the request body arrives (an upload handler in FILE_UPLOAD_HANDLERS).
- hooks: `annotations_store_register`, `annotations_store`: where an import hands over the
  answers it carries, which `labeling` stores (projects cannot import labeling).

May import: `projects.models`, `projects.items`, `projects.label_schema`, `projects.media`,
`projects.unstorable`. Not `labeling` or
`exports`. pyarrow and openpyxl inside the readers that use them.
"""

"""Annotate: the queue and the submit path, what an annotator's request runs.

- queue: `assignment_next(project=, annotator=)`, `assignment_skip(...)`, `assignments_expire(...)`:
  who labels what next; the Assignment row is the slot's lock.
- submit: `annotation_submit(...)`, `annotation_validate(...)`: an answer is checked against the
  label schema, stored, scored against gold, and the item handed to consensus when complete.
- drafts: `draft_save`, `draft_get`, `draft_delete`: unfinished answers that survive a reload.
- history: `annotations_of_annotator`, `annotation_own`, `annotation_can_edit`: one's own answers.
- gold: `gold_score`, `gold_accuracy_by_annotator`, `gold_accuracy_of`: answers checked against a
  known one.
- imported: `imported_annotations_store`: answers carried by an import become Annotation rows.

May import: `labeling.models`, `labeling.consensus`, `projects`. Not `labeling.quality` or
`labeling.web`, nor pandas, pyarrow, scipy, shapely (this is the hot path).
"""

"""Consensus: an item's answers become a resolution, or go to review.

- resolve: `item_resolve(item=, ...)`: aggregate each control, accept or send to review (ties
  under review_policy none: one more answer, then `choice_weighted_vote`); `items_re_resolve`
  (a refit's changes, in batches), `resolution_record(...)`, `answer_canonical(...)`.
- fitted_model: `consensus_model_fit(project=)`, `consensus_model_current(project=)`,
  `consensus_answers_moved(project=, count=)`: the project's Dawid-Skene model, stored by version
  for every process, and the answer counter its refits compare with.
- aggregation/: one aggregator per control kind (`control_aggregate(control, answers)`).
- dawid_skene: `dawid_skene_fit(...)`: the EM model of annotators (known answers held).
- project_aggregation: `project_choice_aggregate(...)`, `majority_aggregate`,
  `dawid_skene_aggregate`: whole-project aggregation of choice controls, vectorised.
- review: `review_next`, `review_packet`, `resolution_accept`, `resolution_edit`,
  `item_send_back`, `review_eligible_annotators`, `review_left`: reviewers adjudicate what
  consensus could not accept.
- refresh: `consensus_refit(project=)`, `consensus_job_create`, `consensus_job_run(job_id=)`,
  `consensus_jobs_due()`: refit the model and re-resolve what it reads differently (run by a
  worker through labeling.tasks, a ConsensusJob row per run).
- answer_codes: `choice_codes_load`, `annotation_table_load`, `label_codes`, `category_counts`:
  a project's answers as integer codes, read by consensus and by quality.

May import: `labeling.models`, `projects`. Not `labeling.annotate`, `labeling.quality` or
`labeling.web`. numpy at module level; pandas and scipy inside the functions that use them.
"""

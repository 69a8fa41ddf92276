"""Consensus: an item's answers become a resolution, or go to review.

- resolve: `item_resolve(item=, ...)`: aggregate each control, accept or send to review;
  `resolution_record(...)`, `answer_canonical(...)`.
- aggregation/: one aggregator per control kind (`control_aggregate(control, answers)`).
- dawid_skene: `dawid_skene_fit(...)`, `item_posteriors(...)`: the EM model of annotators.
- project_aggregation: `project_choice_aggregate(...)`, `majority_aggregate`,
  `dawid_skene_aggregate`: whole-project aggregation of choice controls, vectorised.
- review: `review_next`, `review_packet`, `resolution_accept`, `resolution_edit`,
  `item_send_back`: reviewers adjudicate what consensus could not accept.
- refresh: `project_resolutions_refresh(project=)`: re-resolve with the model of the whole project.
- answer_codes: `choice_codes_load`, `annotation_table_load`, `label_codes`, `category_counts`:
  a project's answers as integer codes, read by consensus and by quality.

May import: `labeling.models`, `projects`. Not `labeling.annotate`, `labeling.quality` or
`labeling.web`. numpy at module level; pandas and scipy inside the functions that use them.
"""

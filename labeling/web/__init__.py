"""Web: the HTTP face of labeling, thin over the service modules.

- api: the queue, annotations, drafts, items with their resolutions (DRF viewsets).
- review_api: the review queue, reviewer decisions, agreement.
- pages: the annotator's workspace and history pages.
- review_pages: the review workspace and the quality dashboard.
- urls: their routes.

May import every other part of `labeling`, and `projects`. Nothing below imports it.
"""

"""Integrations: signed webhooks, cloud storage sync (S3-compatible), model backends speaking
Label Studio's ML backend protocol.

Modules: `webhooks` (webhook_create, webhook_update, webhooks_event_record,
webhook_deliver_pending, delivery_redeliver, signature_header, signature_verify), `storage`
(storage_create, storage_sync, media_url, label_write, export_write) with its boto3 side `s3`
(s3_client, listing_parse), `backends` (backend_create, backend_url_check,
backend_health_check, backend_setup, items_predict, item_predict_on_demand, backend_train),
`outbound` (outbound_url_check: the one check of every URL the server calls for a user),
`events` (the listener on projects.event_hooks), `secrets` (encryption at rest), `api`,
`pages`, `tasks`, `urls`.
"""

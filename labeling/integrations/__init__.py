"""Integrations: signed webhooks, cloud storage sync (S3-compatible), model backends speaking
Label Studio's ML backend protocol.

Modules: `webhooks` (webhook_create, webhook_update, webhooks_event_record,
webhook_deliver_pending, delivery_redeliver, signature_header, signature_verify), `storage`
(storage_create, storage_sync, media_url, label_write, export_write), `backends`
(backend_create, backend_health_check, backend_setup, items_predict, item_predict_now,
backend_train), `events` (the listener on projects.event_hooks), `secrets` (encryption at rest),
`api`, `pages`, `tasks`, `urls`.
"""

"""The data manager's indexes: its sorts by priority, creation, score and model version (the
newest prediction's, kept on the item beside its score), its model version filter, and
full-text search over an item's data.

For search (PostgreSQL only), a GIN index of the string values of `data` ("simple"
configuration: no stemming, any language), the expression labeling.datamanager.query searches
with. SQLite has no such index: the data
manager falls back to a plain substring match there. New entries queue in a 64 MB pending
list (merged in bulk by vacuum or when full): that halves what the index costs an import.
"""

from django.db import migrations, models

INDEX = "item_data_search"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON projects_item "
    "USING gin (to_tsvector('simple'::regconfig, data)) WITH (gin_pending_list_limit = 65536)"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"
# Items predicted before the column existed take their newest prediction's model version.
BACKFILL_MODEL_VERSION = (
    "UPDATE projects_item SET prediction_model_version = (SELECT p.model_version FROM"
    " projects_prediction p WHERE p.item_id = projects_item.id ORDER BY p.created_at DESC,"
    " p.id DESC LIMIT 1) WHERE id IN (SELECT item_id FROM projects_prediction)"
)


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [('projects', '0006_max_overlap_answer_counts')]

    operations = [
        migrations.AddIndex(
            model_name="item",
            index=models.Index(fields=["project", "priority", "id"], name="item_by_priority"),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(fields=["project", "created_at", "id"], name="item_by_created"),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                condition=models.Q(("prediction_score__isnull", False)),
                fields=["project", "prediction_score", "id"],
                name="item_by_score",
            ),
        ),
        migrations.AddField(
            model_name="item",
            name="prediction_model_version",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.RunSQL(BACKFILL_MODEL_VERSION, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                condition=models.Q(("prediction_model_version__isnull", False)),
                fields=["project", "prediction_model_version", "id"],
                name="item_by_model_version",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(fields=["model_version", "item"], name="prediction_model_version"),
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]

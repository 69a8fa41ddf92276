"""Full-text search over an item's data for the data manager (PostgreSQL only).

A GIN index of the string values of `data` ("simple" configuration: no stemming, any language),
the expression labeling.datamanager.query searches with. SQLite has no such index: the data
manager falls back to a plain substring match there.
"""

from django.db import migrations

INDEX = "item_data_search"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON projects_item "
    "USING gin (to_tsvector('simple'::regconfig, data))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_item_status_index_skips_open")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]

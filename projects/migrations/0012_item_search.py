"""Full-text search moves off the items table: the words of each item's data live in
projects_itemsearch, filled in the background after items arrive (projects.items.search_index),
so an import no longer writes a GIN index over every row it inserts.

On PostgreSQL the expression index of migration 0007 goes, the table is filled for the items
that exist (one INSERT ... SELECT), then its GIN index is built over the filled table. On
SQLite the table is made and stays empty (search matches substrings there).
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

OLD_INDEX = "item_data_search"
INDEX = "item_search_document"
TABLE = "projects_itemsearch"
# The same words as the old index held: every string value of `data`, "simple" configuration.
FILL = (
    f"INSERT INTO {TABLE} (item_id, project_id, document) "
    "SELECT id, project_id, to_tsvector('simple'::regconfig, data) FROM projects_item "
    "ON CONFLICT (item_id) DO NOTHING"
)
# Rows arrive in batches: a large pending list merges them into the index in bulk, which
# nearly halves the indexer's time against the default.
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin (document) "
    "WITH (gin_pending_list_limit = 65536)"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"
OLD_CREATE = (
    f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON projects_item "
    "USING gin (to_tsvector('simple'::regconfig, data)) WITH (gin_pending_list_limit = 65536)"
)
OLD_DROP = f"DROP INDEX IF EXISTS {OLD_INDEX}"


def _on_postgresql(*statements: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("projects", "0011_api_tokens")]

    operations = [
        migrations.RunPython(_on_postgresql(OLD_DROP), _on_postgresql(OLD_CREATE)),
        migrations.CreateModel(
            name="ItemSearch",
            fields=[
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search",
                        serialize=False,
                        to="projects.item",
                    ),
                ),
                ("document", django.contrib.postgres.search.SearchVectorField()),
                (
                    "project",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="projects.project",
                    ),
                ),
            ],
        ),
        migrations.RunPython(_on_postgresql(FILL, CREATE), _on_postgresql(DROP)),
    ]

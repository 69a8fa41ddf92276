"""Indexes for the data manager's sorts by answers and by text.

Answers: an index on the items' annotation count. Text: the start of each item's `text`, kept
in its search row (filled here for the rows that exist, then by the indexer) with an index
there, so that imports do not write a text index.
"""

from django.db import migrations, models

TEXT_KEY_CHARS = 100  # ItemSearch.TEXT_KEY_CHARS when this was written
FILL = (
    f"UPDATE projects_itemsearch s SET text_key = left(i.data ->> 'text', {TEXT_KEY_CHARS}) "
    "FROM projects_item i WHERE i.id = s.item_id AND i.data ? 'text'"
)


def text_keys_fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # elsewhere the table stays empty
        schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [("projects", "0012_item_search")]

    operations = [
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                fields=["project", "annotation_count", "id"], name="item_by_answers"
            ),
        ),
        migrations.AddField(
            model_name="itemsearch",
            name="text_key",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(text_keys_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="itemsearch",
            index=models.Index(
                condition=models.Q(text_key__isnull=False),
                fields=["project", "text_key", "item"],
                name="item_search_text",
            ),
        ),
    ]

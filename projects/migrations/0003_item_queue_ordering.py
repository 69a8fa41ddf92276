"""Items are filed under their project's queue ordering (one fresh index each, not four), and
reference their project with no database constraint (see Item.project)."""

import django.db.models.deletion
import projects.items.order
from django.db import migrations, models


def items_file_under_project_ordering(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    Item = apps.get_model("projects", "Item")
    for project_id, ordering in Project.objects.exclude(ordering="sequential").values_list(
        "id", "ordering"
    ):
        Item.objects.filter(project_id=project_id).update(queue_ordering=ordering)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_drop_redundant_fk_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="item",
            name="item_fresh_seq",
        ),
        migrations.RemoveIndex(
            model_name="item",
            name="item_fresh_prio",
        ),
        migrations.RemoveIndex(
            model_name="item",
            name="item_fresh_uncertain",
        ),
        migrations.RemoveIndex(
            model_name="item",
            name="item_fresh_shuffle",
        ),
        migrations.AddField(
            model_name="item",
            name="queue_ordering",
            field=models.CharField(
                choices=[
                    ("sequential", "Sequential"),
                    ("random", "Random"),
                    ("priority", "By priority"),
                    ("uncertainty", "By model uncertainty"),
                ],
                default="sequential",
                max_length=20,
            ),
        ),
        migrations.RunPython(items_file_under_project_ordering, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="item",
            name="project",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="projects.project",
            ),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                models.F("project"),
                projects.items.order.ItemSequence("id"),
                condition=models.Q(
                    ("annotation_count", 0),
                    ("assigned_count", 0),
                    ("gold__isnull", True),
                    ("status", "open"),
                    ("queue_ordering", "sequential"),
                ),
                name="item_fresh_seq",
            ),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                condition=models.Q(
                    ("annotation_count", 0),
                    ("assigned_count", 0),
                    ("gold__isnull", True),
                    ("status", "open"),
                    ("queue_ordering", "priority"),
                ),
                fields=["project", "-priority", "id"],
                name="item_fresh_prio",
            ),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                condition=models.Q(
                    ("annotation_count", 0),
                    ("assigned_count", 0),
                    ("gold__isnull", True),
                    ("status", "open"),
                    ("queue_ordering", "uncertainty"),
                ),
                fields=["project", "prediction_score", "id"],
                name="item_fresh_uncertain",
            ),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                models.F("project"),
                projects.items.order.ItemShuffle("id"),
                models.F("id"),
                condition=models.Q(
                    ("annotation_count", 0),
                    ("assigned_count", 0),
                    ("gold__isnull", True),
                    ("status", "open"),
                    ("queue_ordering", "random"),
                ),
                name="item_fresh_shuffle",
            ),
        ),
    ]

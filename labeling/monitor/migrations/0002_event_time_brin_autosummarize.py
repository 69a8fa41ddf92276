"""The events' BRIN index summarizes each range of pages as it fills (autosummarize): a range
not summarized yet matches every query on time, and without this one waits for the next
vacuum, which on a table of millions of inserts comes after hundreds of thousands of rows."""

from django.db import migrations

BRIN = "monitor_predictionevent_time_brin"


def autosummarize(on: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER INDEX {BRIN} SET (autosummarize = {'on' if on else 'off'})"
            )
            if on:
                schema_editor.execute(f"SELECT brin_summarize_new_values('{BRIN}')")

    return run


class Migration(migrations.Migration):
    dependencies = [("monitor", "0001_initial")]

    operations = [migrations.RunPython(autosummarize(True), autosummarize(False))]

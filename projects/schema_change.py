"""Changing a project's label schema without orphaning stored answers.

A label (or a whole control) that stored results use may not simply disappear: the change is
refused with the number of answers it would orphan, unless the lead gives a rename map
`{control: {old label: new label}}`, which rewrites every stored result (annotations, drafts,
resolutions, predictions, gold answers) in the same transaction as the schema and records the
change in the project's history.

Annotations, drafts and resolutions are rows of the labeling app, which projects/ must not
import: labeling registers them here when Django starts (LabelingConfig.ready), the same way it
registers its import store (projects.imports.hooks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from projects import label_schema as ls
from projects.label_schema import LabelSchema
from projects.models import Item, Prediction, Project, ProjectHistory

BATCH = 2000
UPDATE_ROWS = 500
REGION_KINDS = {ls.SPANS, ls.BOXES, ls.POLYGONS}


@dataclass(frozen=True)
class ResultRows:
    """Rows holding results in the label contract: a noun for messages and a queryset of
    them with the result in `field`."""

    noun: str
    rows: QuerySet
    field: str = "result"


# project -> the labeling app's result rows of that project
ResultRowsSource = Callable[[Project], Iterable[ResultRows]]
_sources: list[ResultRowsSource] = []


def result_rows_register(source: ResultRowsSource) -> None:
    _sources[:] = [source]


def project_result_rows(project: Project) -> list[ResultRows]:
    rows = [
        ResultRows("predictions", Prediction.objects.filter(item__project=project)),
        ResultRows(
            "gold answers", Item.objects.filter(project=project, gold__isnull=False), "gold"
        ),
    ]
    for source in _sources:
        rows = list(source(project)) + rows
    return rows


class SchemaChangeRefused(ValueError):
    """The change would orphan stored results, or the rename map is wrong. `errors` maps the
    field (label_schema or label_renames) to its message; `orphaned` gives the counts."""

    def __init__(self, errors: dict[str, str], orphaned: dict[str, Any] | None = None):
        self.errors = errors
        self.orphaned = orphaned or {}
        super().__init__("; ".join(errors.values()))


@dataclass
class SchemaChangePlan:
    before: LabelSchema | None
    after: LabelSchema
    renames: dict[str, dict[str, str]]
    # labels (or whole controls, label None) gone from the schema, by control
    gone: dict[str, set[str] | None] = field(default_factory=dict)

    @property
    def touches_results(self) -> bool:
        return bool(self.gone) or any(self.renames.values())


def _labels(control: ls.Control) -> set[str]:
    return set(control.label_values)


def _plan(before: LabelSchema | None, after: LabelSchema, renames: Any) -> SchemaChangePlan:
    if renames in (None, ""):
        renames = {}
    if not isinstance(renames, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in renames.items()
    ):
        raise SchemaChangeRefused(
            {"label_renames": "must be an object {control: {old label: new label}}"}
        )
    plan = SchemaChangePlan(before=before, after=after, renames={})
    if before is None:
        if renames:
            raise SchemaChangeRefused({"label_renames": "a new project has no labels to rename"})
        return plan
    for name, mapping in renames.items():
        old, new = before.by_name.get(name), after.by_name.get(name)
        if old is None or new is None or old.kind not in ls.KINDS_WITH_LABELS:
            raise SchemaChangeRefused(
                {"label_renames": f"'{name}' is not a control with labels in both schemas"}
            )
        for source, target in mapping.items():
            if source not in old.label_values:
                raise SchemaChangeRefused(
                    {"label_renames": f"'{name}': '{source}' is not one of its labels"}
                )
            if not isinstance(target, str) or target not in new.label_values:
                raise SchemaChangeRefused(
                    {"label_renames": f"'{name}': '{target}' is not a label of the new schema"}
                )
        plan.renames[name] = {s: t for s, t in mapping.items() if s != t}
    for control in before.controls:
        new = after.by_name.get(control.name)
        if new is None or new.kind != control.kind:
            plan.gone[control.name] = None
            continue
        missing = _labels(control) - _labels(new) - set(plan.renames.get(control.name, {}))
        if missing:
            plan.gone[control.name] = missing
    return plan


def _uses(control_value: Any, kind: str, labels: set[str]) -> bool:
    if kind == ls.CHOICE:
        return control_value in labels
    if kind == ls.MULTI:
        return isinstance(control_value, list) and any(v in labels for v in control_value)
    if kind in REGION_KINDS:
        return isinstance(control_value, list) and any(
            isinstance(r, dict) and r.get("label") in labels for r in control_value
        )
    return False


def _orphans(result: Any, plan: SchemaChangePlan) -> list[str]:
    """The controls of the result that the change would orphan."""
    if not isinstance(result, dict):
        return []
    hit = []
    for name, labels in plan.gone.items():
        if name not in result or result[name] in (None, "", []):
            continue
        if labels is None or _uses(result[name], plan.before.by_name[name].kind, labels):
            hit.append(name)
    return hit


def _describe(plan: SchemaChangePlan, name: str) -> str:
    labels = plan.gone[name]
    if labels is None:
        return f"control '{name}'"
    return f"'{name}' label{'s' if len(labels) > 1 else ''} " + ", ".join(
        f"'{lb}'" for lb in sorted(labels)
    )


def schema_change_orphans(*, project: Project, plan: SchemaChangePlan) -> dict[str, Any]:
    """How many stored results the change would orphan: {noun: count, by_control: {...}}."""
    counts: dict[str, Any] = {"by_control": {}}
    if not plan.gone:
        return counts
    for source in project_result_rows(project):
        total = 0
        rows = source.rows.exclude(**{f"{source.field}__isnull": True})
        for result in rows.values_list(source.field, flat=True).iterator(chunk_size=BATCH):
            hit = _orphans(result, plan)
            if hit:
                total += 1
                for name in hit:
                    by_noun = counts["by_control"].setdefault(name, {})
                    by_noun[source.noun] = by_noun.get(source.noun, 0) + 1
        if total:
            counts[source.noun] = total
    return counts


def _refusal_message(plan: SchemaChangePlan, orphaned: dict[str, Any]) -> str:
    answers = orphaned.get("answers", 0)
    others = [f"{orphaned[n]} {n}" for n in orphaned if n not in ("by_control", "answers")]
    what = "; ".join(_describe(plan, name) for name in orphaned["by_control"])
    tail = f" (and {', '.join(others)})" if others else ""
    return (
        f"removing {what} would orphan {answers} answer{'' if answers == 1 else 's'}{tail}; "
        "keep the labels, or give label_renames {control: {old: new}} to move them"
    )


def _rename_value(value: Any, kind: str, mapping: dict[str, str]) -> Any:
    if kind == ls.CHOICE:
        return mapping.get(value, value)
    if kind == ls.MULTI and isinstance(value, list):
        out: list[Any] = []
        for v in value:
            renamed = mapping.get(v, v)
            if renamed not in out:  # two labels merged into one are listed once
                out.append(renamed)
        return out
    if kind in REGION_KINDS and isinstance(value, list):
        return [
            {**r, "label": mapping.get(r.get("label"), r.get("label"))}
            if isinstance(r, dict)
            else r
            for r in value
        ]
    return value


def _renamed(result: Any, plan: SchemaChangePlan) -> Any:
    if not isinstance(result, dict):
        return result
    changed = dict(result)
    for name, mapping in plan.renames.items():
        if mapping and name in changed:
            changed[name] = _rename_value(changed[name], plan.after.by_name[name].kind, mapping)
    return changed


def _results_migrate(*, project: Project, plan: SchemaChangePlan) -> dict[str, int]:
    migrated: dict[str, int] = {}
    for source in project_result_rows(project):
        model = source.rows.model
        field = model._meta.get_field(source.field)
        table, column, pk_column = (
            connection.ops.quote_name(name)
            for name in (model._meta.db_table, field.column, model._meta.pk.column)
        )
        # A CTE names the VALUES columns the same way on PostgreSQL and SQLite.
        sql = (
            f"WITH changed(result, id) AS (VALUES {{values}}) UPDATE {table}"
            f" SET {column} = changed.result FROM changed WHERE {table}.{pk_column} = changed.id"
        )
        rows = source.rows.exclude(**{f"{source.field}__isnull": True}).order_by("pk")
        last, count = 0, 0
        while True:
            batch = list(rows.filter(pk__gt=last).values_list("pk", source.field)[:BATCH])
            if not batch:
                break
            last = batch[-1][0]
            changed = []
            for pk, result in batch:
                new = _renamed(result, plan)
                if new != result:
                    changed.append((field.get_db_prep_save(new, connection), pk))
            for start in range(0, len(changed), UPDATE_ROWS):
                part = changed[start : start + UPDATE_ROWS]
                # One UPDATE ... FROM a VALUES list per part: bulk_update's CASE over a batch is
                # several times slower on both databases.
                values = ", ".join(["(%s, %s)"] * len(part))
                with connection.cursor() as cursor:
                    cursor.execute(sql.format(values=values), [v for row in part for v in row])
            count += len(changed)
        if count:
            migrated[source.noun] = count
    return migrated


def schema_change_check(
    *, project: Project | None, label_schema: Any, renames: Any = None
) -> SchemaChangePlan:
    """Check a new schema for the project (None: a new project). Raises SchemaError for a bad
    schema and SchemaChangeRefused when stored results would be orphaned."""
    after = LabelSchema(label_schema)
    before = None
    if project is not None and project.pk and project.label_schema:
        try:
            before = LabelSchema(project.label_schema)
        except ls.SchemaError:
            before = None  # a schema stored before validation existed: nothing to protect
    plan = _plan(before, after, renames)
    if project is not None and project.pk and plan.gone:
        orphaned = schema_change_orphans(project=project, plan=plan)
        if orphaned["by_control"]:
            orphaned.setdefault("answers", 0)
            raise SchemaChangeRefused(
                {"label_schema": _refusal_message(plan, orphaned)}, orphaned=orphaned
            )
    return plan


def project_schema_change(
    *, project: Project, label_schema: Any, renames: Any = None, user=None
) -> ProjectHistory | None:
    """Set the project's schema: checked, stored results migrated by the rename map, and the
    change recorded, all in one transaction. None when the schema did not change."""
    with transaction.atomic():
        # One schema change at a time per project: the check and the migration see the same
        # stored results.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        plan = schema_change_check(project=locked, label_schema=label_schema, renames=renames)
        new_schema = plan.after.as_json()
        if new_schema == locked.label_schema and not plan.touches_results:
            return None
        migrated = _results_migrate(project=locked, plan=plan) if plan.renames else {}
        before = locked.label_schema
        Project.objects.filter(pk=project.pk).update(label_schema=new_schema)
        project.label_schema = new_schema
        return ProjectHistory.objects.create(
            project=project,
            kind=ProjectHistory.Kind.SCHEMA,
            changed_by=user if user is not None and user.is_authenticated else None,
            before=before,
            after=new_schema,
            renames={k: v for k, v in plan.renames.items() if v},
            migrated=migrated,
        )

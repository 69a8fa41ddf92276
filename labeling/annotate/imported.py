"""Annotations carried by an import (a Label Studio export) become Annotation rows.

projects/ cannot import labeling/, so the import job calls this through the store registered in
projects.imports.hooks (LabelingConfig.ready). It runs inside the import batch's transaction, only
for items that batch created: a re-run or a resumed job never adds an annotation twice.
Annotators are matched by email (else created), or, when the export names only a numeric user id,
a user `labelstudio-<id>` stands in; each becomes an annotator of the project if not a member.
An answer with no annotator (no `completed_by`, 0 or null) becomes its own anonymous annotator
(one per answer and task), or is refused, as the import's options say. Every answer refused (an
invalid result, a second answer by the same annotator to a task, an anonymous one refused) is
counted and gets a line in the job's error report.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F

from labeling.consensus.fitted_model import consensus_answers_moved, consensus_model_current
from labeling.consensus.resolve import item_resolve
from labeling.models import Annotation
from projects.imports.hooks import ANONYMOUS_REFUSE, AnnotationsStored, CarriedAnnotations
from projects.label_schema import LabelSchema, ResultError
from projects.models import Item, Membership, Project


def imported_annotator(*, annotator: dict[str, Any], cache: dict) -> Any:
    """The user an exported annotator maps to, made when missing (with no usable password)."""
    user_model = get_user_model()
    email = (annotator.get("email") or "").strip().lower()
    key = email or f"id:{annotator.get('id')}"
    if key in cache:
        return cache[key]
    if email:
        user = user_model.objects.filter(email__iexact=email).order_by("id").first()
        if user is None:
            base = email.split("@", 1)[0][:100] or "annotator"
            username, suffix = base, 1
            while user_model.objects.filter(username=username).exists():
                suffix += 1
                username = f"{base}{suffix}"
            user = user_model(username=username, email=email)
            user.set_unusable_password()
            user.save()
    else:
        user, created = user_model.objects.get_or_create(
            username=f"labelstudio-{annotator.get('id') or 'unknown'}"
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    cache[key] = user
    return user


def _anonymous(annotator: dict[str, Any]) -> bool:
    email = (annotator.get("email") or "").strip()
    return not email and annotator.get("id") in (None, "", 0, "0")


def _anonymous_annotators(project: Project, wanted: list[tuple[int, int]]) -> dict:
    """One user per (item, nth anonymous answer), made in bulk: distinct annotators per task."""
    user_model = get_user_model()
    names = {key: f"anonymous-p{project.pk}-i{key[0]}-{key[1]}" for key in wanted}
    existing = {u.username: u for u in user_model.objects.filter(username__in=list(names.values()))}
    missing = []
    for name in names.values():
        if name not in existing:
            user = user_model(username=name)
            user.set_unusable_password()
            missing.append(user)
    existing.update({u.username: u for u in user_model.objects.bulk_create(missing)})
    return {key: existing[name] for key, name in names.items()}


def imported_annotations_store(
    project: Project, carried: list[CarriedAnnotations], options: dict
) -> AnnotationsStored:
    """Store carried annotations; count what is stored and refused (each refusal a line)."""
    schema = LabelSchema(project.label_schema)
    refuse_anonymous = options.get("anonymous_answers") == ANONYMOUS_REFUSE
    users: dict[str, Any] = {}
    report = AnnotationsStored()
    accepted: list[tuple[CarriedAnnotations, dict, dict, Any]] = []
    anonymous_wanted: list[tuple[int, int]] = []
    for entry in carried:
        seen: dict[Any, Any] = {}
        anonymous_count = 0
        for annotation in entry.annotations:
            source = annotation.get("source_id")
            try:
                result = schema.validate(
                    annotation.get("result"),
                    data=entry.data,
                    width=entry.width,
                    height=entry.height,
                )
            except ResultError as exc:
                report.problems.append((entry.line, f"annotation {source}: {exc}"))
                report.skipped += 1
                continue
            annotator = annotation.get("annotator") or {}
            if _anonymous(annotator):
                if refuse_anonymous:
                    report.problems.append(
                        (entry.line, f"annotation {source}: no annotator (completed_by), refused")
                    )
                    report.skipped += 1
                    continue
                anonymous_count += 1
                key = (entry.item_id, anonymous_count)
                anonymous_wanted.append(key)
                accepted.append((entry, annotation, result, key))
                continue
            user = imported_annotator(annotator=annotator, cache=users)
            if user.pk in seen:
                report.problems.append(
                    (
                        entry.line,
                        f"annotation {source}: a second answer by {user.username} to this task, "
                        f"skipped (annotation {seen[user.pk]} is kept)",
                    )
                )
                report.skipped += 1
                continue
            seen[user.pk] = source
            accepted.append((entry, annotation, result, user))
    anonymous = _anonymous_annotators(project, anonymous_wanted) if anonymous_wanted else {}
    members = set(Membership.objects.filter(project=project).values_list("user_id", flat=True))
    new: list[Annotation] = []
    new_members: list[Membership] = []
    for entry, annotation, result, who in accepted:
        user = anonymous[who] if isinstance(who, tuple) else who
        if user.pk not in members:
            new_members.append(
                Membership(project=project, user=user, role=Membership.Role.ANNOTATOR)
            )
            members.add(user.pk)
        new.append(
            Annotation(
                project=project,
                item_id=entry.item_id,
                annotator=user,
                result=result,
                lead_time=max(float(annotation.get("lead_time") or 0.0), 0.0),
            )
        )
    Membership.objects.bulk_create(new_members, ignore_conflicts=True)
    Annotation.objects.bulk_create(new)
    report.carried = len(new)
    consensus_answers_moved(project=project, count=len(new))
    per_item = Counter(a.item_id for a in new)
    by_count: dict[int, list[int]] = {}
    for item_id, count in per_item.items():
        by_count.setdefault(count, []).append(item_id)
    for count, item_ids in by_count.items():  # most tasks carry as many answers: few updates
        Item.objects.filter(pk__in=item_ids).update(annotation_count=F("annotation_count") + count)
    model = consensus_model_current(project=project) if per_item else None
    for item in Item.objects.filter(pk__in=list(per_item)).select_related("project"):
        if item.annotation_count >= project.overlap + item.extra_slots:
            item_resolve(item=item, model=model)
    return report
